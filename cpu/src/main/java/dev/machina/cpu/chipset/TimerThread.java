package dev.machina.cpu.chipset;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The guest's chipset timer: one thread that sleeps until the PIT's next deadline and lets it
 * catch up, so channel 0 interrupts arrive even when every vCPU is halted. It never spins: with no
 * deadline it parks until {@link #wake()}.
 */
final class TimerThread implements AutoCloseable {
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
            } else if (deadline > now) {
                LockSupport.parkNanos(this, deadline - now);
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
