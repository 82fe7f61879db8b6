package dev.machina.cpu.chipset;

import java.util.function.LongSupplier;

/** A host clock that moves only when a test moves it. */
final class FakeClock implements LongSupplier {
    private volatile long now;

    FakeClock(long start) {
        now = start;
    }

    @Override
    public long getAsLong() {
        return now;
    }

    void set(long nanos) {
        now = nanos;
    }

    void advance(long nanos) {
        now += nanos;
    }
}
