package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.Guest;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Delivers doorbell writes on a thread of their own, so the vCPU that rang goes on at once. Each
 * doorbell is one pending bit, like an eventfd counter: rings before delivery coalesce, and
 * ringing allocates nothing once a trap's bits exist.
 */
public final class Doorbells implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Doorbells.class.getName());

    private final ConcurrentHashMap<Traps.Registration, AtomicLongArray> pending = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    public Doorbells(String guestName) {
        thread = Thread.ofPlatform().daemon().name(guestName + "-doorbells").start(this::deliver);
    }

    /** Marks doorbell {@code offset} of {@code trap} rung and wakes the delivery thread; a removed trap's ring is dropped. */
    public void ring(Traps.Registration trap, long offset) {
        if (trap.removed()) {
            return;
        }
        AtomicLongArray bits = pending.computeIfAbsent(trap, Doorbells::bitsFor);
        int index = (int) (offset / Guest.BELL_STRIDE);
        bits.getAndAccumulate(index >>> 6, 1L << index, (a, b) -> a | b);
        LockSupport.unpark(thread);
    }

    /** How many traps have bits kept for them. */
    int trapsTracked() {
        return pending.size();
    }

    private static AtomicLongArray bitsFor(Traps.Registration trap) {
        long doorbells = trap.range().size() / Guest.BELL_STRIDE;
        return new AtomicLongArray((int) ((doorbells + 63) / 64));
    }

    private void deliver() {
        while (!closed) {
            boolean delivered = false;
            for (var entry : pending.entrySet()) {
                AtomicLongArray bits = entry.getValue();
                for (int word = 0; word < bits.length(); word++) {
                    long rung = bits.getAndSet(word, 0);
                    while (rung != 0) {
                        int bit = Long.numberOfTrailingZeros(rung);
                        rung &= rung - 1;
                        delivered = true;
                        ringHandler(entry.getKey(), ((long) word * 64 + bit) * Guest.BELL_STRIDE);
                    }
                }
                if (entry.getKey().removed()) {
                    // A guest that moves a device's BAR over and over must not grow this map.
                    pending.remove(entry.getKey());
                }
            }
            if (!delivered) {
                LockSupport.park(this);
            }
        }
    }

    private static void ringHandler(Traps.Registration trap, long offset) {
        try {
            trap.bellHandler().ring(offset);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "doorbell handler of " + trap + " failed", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
