package dev.machina.kvm;

import dev.machina.hypervisor.TrapHandler;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A trap handler that records every write with the thread it ran on, and answers a read at
 * {@code offset} with {@code readBase + offset}, so the value read also tells where it was read.
 */
final class PortRecorder implements TrapHandler {
    record Write(long offset, int size, long value, Thread thread) {
    }

    private final BlockingQueue<Write> writes = new LinkedBlockingQueue<>();
    private final long readBase;

    PortRecorder(long readBase) {
        this.readBase = readBase;
    }

    PortRecorder() {
        this(0);
    }

    @Override
    public long read(long offset, int size) {
        return readBase + offset;
    }

    @Override
    public void write(long offset, int size, long value) {
        writes.add(new Write(offset, size, value, Thread.currentThread()));
    }

    /** The next write, waiting up to ten seconds (the guests here are emulated, not fast). */
    Write next() throws InterruptedException {
        Write write = writes.poll(10, TimeUnit.SECONDS);
        if (write == null) {
            throw new AssertionError("the guest wrote nothing within 10 s");
        }
        return write;
    }
}
