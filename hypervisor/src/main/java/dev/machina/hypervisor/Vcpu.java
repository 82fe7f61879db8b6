package dev.machina.hypervisor;

import dev.machina.hypervisor.x86.X86State;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A virtual CPU. After {@link #start()} it runs on a thread of its own in a resume/dispatch loop:
 * the guest runs until it touches a trap, whose handler runs on this thread, and resumes; the loop
 * ends with a {@link VcpuExit}.
 *
 * <p>State is read and written only while the loop is not running (before {@link #start()}, after
 * it ended) or from the vCPU's own thread, as a trap handler does; otherwise the calls throw
 * {@link IllegalStateException}.
 */
public interface Vcpu {
    int id();

    X86State readState();

    /** Sets the state; a secondary vCPU waiting for INIT/SIPI becomes runnable at it. */
    void writeState(X86State state);

    long readMsr(int index);

    void writeMsr(int index, long value);

    /** Starts the loop on the vCPU's thread. */
    void start();

    /** Delivers external interrupt {@code vector} to this vCPU (fixed delivery, edge). */
    void interrupt(int vector);

    /** Ends the loop, even when the vCPU is halted or spinning; returns at once. */
    void stop();

    /**
     * Asks the loop to hold the vCPU outside the guest until {@link #resume()}; returns at once.
     * Interrupts delivered meanwhile stay pending and are taken after the resume.
     */
    void pause();

    /** Lets a paused vCPU run again; does nothing to one that is not paused. */
    void resume();

    /**
     * Waits until the vCPU is held by {@link #pause()} (or its loop has ended or never started);
     * returns false if {@code timeout} passed first.
     */
    boolean awaitPaused(Duration timeout) throws InterruptedException;

    /** Waits for the loop to end and returns why it did, or empty if {@code timeout} passed first. */
    Optional<VcpuExit> awaitExit(Duration timeout) throws InterruptedException;

    /** Why the loop ended, if it has. */
    Optional<VcpuExit> exit();

    /** Entries and exits by reason, readable while the vCPU runs. */
    ExitCounters counters();

    /**
     * How many guest instructions the vCPU has executed so far, where the backend counts them
     * (the Java CPU does; KVM does not, and returns empty). Readable while the vCPU runs, as a
     * statistic: the figure may trail the vCPU by the instructions it is executing.
     */
    default OptionalLong instructionsRetired() {
        return OptionalLong.empty();
    }
}
