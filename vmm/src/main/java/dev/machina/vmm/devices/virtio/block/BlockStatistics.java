package dev.machina.vmm.devices.virtio.block;

import java.util.concurrent.atomic.LongAdder;

/** What a block device has done, for the statistics a user asks for: counts and bytes by kind of request. */
public final class BlockStatistics {
    private final LongAdder reads = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder flushes = new LongAdder();
    private final LongAdder failures = new LongAdder();

    void read(long bytes) {
        reads.increment();
        bytesRead.add(bytes);
    }

    void written(long bytes) {
        writes.increment();
        bytesWritten.add(bytes);
    }

    void flushed() {
        flushes.increment();
    }

    void failed() {
        failures.increment();
    }

    public long reads() {
        return reads.sum();
    }

    public long bytesRead() {
        return bytesRead.sum();
    }

    public long writes() {
        return writes.sum();
    }

    public long bytesWritten() {
        return bytesWritten.sum();
    }

    public long flushes() {
        return flushes.sum();
    }

    /** Requests that failed on the host side (I/O errors), not the guest's mistakes. */
    public long failures() {
        return failures.sum();
    }
}
