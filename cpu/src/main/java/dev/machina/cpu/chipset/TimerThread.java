package dev.machina.cpu.chipset;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The guest's chipset timer: one thread that sleeps until the PIT's next deadline and lets it
 * catch up, so channel 0 interrupts arrive even when every vCPU is halted. It never spins: with no
 * deadline it parks until {@link #wake()}, and it wakes at most every {@link #MIN_INTERVAL_NANOS}
 * (as KVM bounds periodic timers), so a guest programming the PIT for a 1 µs period costs the host
 * a wake-up per 100 µs, the missed periods coalesced by the PIT.
 */
final class TimerThread implements AutoCloseable {
    static final long MIN_INTERVAL_NANOS = 100_000;

    private final Pit pit;
    private final LongSupplier clock;
    private final Thread thread;
    private volatile boolean closed;

    TimerThread(String name, Pit pit, LongSupplier clock) {
        this.pit = pit;
        this.clock = clock;
        this.thread = Thread.ofPlatform().name(name).daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** The deadline may have moved: look again. */
    void wake() {
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!closed) {
            long now = clock.getAsLong();
            pit.advanceTo(now);
            long deadline = pit.nextDeadline();
            if (deadline == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, Math.max(deadline - now, MIN_INTERVAL_NANOS));
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        wake();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
