package dev.machina.cpu;

/**
 * Where a vCPU of the Java backend is at one moment, as {@link JavaVcpu#position()} reads it from
 * another thread: a profiler's sample.
 */
public sealed interface GuestPosition {
    /** The vCPU is halted, waiting for its start-up IPI, or not running guest code at all. */
    Idle IDLE = new Idle();

    /**
     * The vCPU executes guest code at {@code rip} (an offset in CS; in 64-bit code, the linear
     * address) at privilege level {@code cpl}.
     */
    record Executing(long rip, int cpl) implements GuestPosition {
        /** Whether the code runs in user mode (CPL 3). */
        public boolean user() {
            return cpl == 3;
        }
    }

    /** See {@link #IDLE}. */
    record Idle() implements GuestPosition {
    }
}
