package dev.machina.hypervisor;

/**
 * An asynchronous doorbell (BELL): the vCPU that writes to the trapped range goes on at once, and
 * the write is delivered later on the guest's doorbell thread, never on a vCPU thread. Doorbells
 * sit {@link Guest#BELL_STRIDE} bytes apart; the value written is not delivered (as with an
 * eventfd), and several writes to one doorbell before delivery may arrive as one ring.
 */
@FunctionalInterface
public interface BellHandler {
    /** The doorbell at {@code offset} from the start of the trapped range was written. */
    void ring(long offset);
}
