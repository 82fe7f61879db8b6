package dev.machina.testguests;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Every access a trap handler saw, in order, with the thread it ran on; tests read it after the
 * fact or wait on it for what a running guest does next.
 */
public final class AccessLog {
    public enum Direction { READ, WRITE }

    /** One access, made at {@code nanoTime} ({@link System#nanoTime()}): for a read, {@code value} is what the handler returned. */
    public record Access(Direction direction, long offset, int size, long value, Thread thread, long nanoTime) {
        public boolean isWrite() {
            return direction == Direction.WRITE;
        }
    }

    private final List<Access> accesses = new ArrayList<>();

    /** Records an access made by the calling thread. */
    public synchronized void add(Direction direction, long offset, int size, long value) {
        accesses.add(new Access(direction, offset, size, value, Thread.currentThread(), System.nanoTime()));
        notifyAll();
    }

    /** The accesses so far, oldest first. */
    public synchronized List<Access> accesses() {
        return List.copyOf(accesses);
    }

    /** The accesses so far that match, oldest first. */
    public synchronized List<Access> accesses(Predicate<Access> filter) {
        return accesses.stream().filter(filter).toList();
    }

    /**
     * Waits until at least {@code count} accesses match; returns whether they did before
     * {@code timeout} passed.
     */
    public synchronized boolean awaitCount(Predicate<Access> filter, long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (accesses.stream().filter(filter).count() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** The low {@code size} bytes of {@code value}. */
    public static long truncate(long value, int size) {
        return size == Long.BYTES ? value : value & ((1L << (size * 8)) - 1);
    }
}
