package dev.machina.vmm.devices.serial;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * Carries the bytes a console UART transmits to an output stream on a thread of its own. Written
 * and flushed one by one on the vCPU's thread, every byte cost a system call while the guest
 * waited (a guest printing 689 KB spent a tenth of its time in the UART's OUT); here the vCPU only
 * queues the byte, and the writer takes whatever has gathered at each write, so bytes go out in
 * chunks as large as the output is slow and at once when it keeps up. The queue is bounded: a
 * guest that outruns the output waits for room, as a UART's transmitter holds its sender, so
 * nothing is lost; {@link #close} writes out what is left.
 */
public final class ConsoleWriter implements IntConsumer, AutoCloseable {
    static final int CAPACITY = 64 * 1024;

    private final OutputStream output;
    private final byte[] queue = new byte[CAPACITY];
    private final byte[] chunk = new byte[CAPACITY];
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queued = lock.newCondition();
    private final Condition room = lock.newCondition();
    private final Thread writer;
    private int head;
    private int count;
    private boolean closing;

    /** Starts a writer to {@code output}, which a failed write (a closed terminal) does not stop: the guest's output then has nowhere to go. */
    public ConsoleWriter(OutputStream output, String name) {
        this.output = output;
        this.writer = Thread.ofPlatform().daemon().name(name).start(this::writeUntilClosed);
    }

    /** Queues byte {@code value} (0-255), waiting while the queue is full. */
    @Override
    public void accept(int value) {
        lock.lock();
        try {
            while (count == CAPACITY) {
                room.awaitUninterruptibly();
            }
            queue[(head + count) % CAPACITY] = (byte) value;
            if (count++ == 0) {
                queued.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    private void writeUntilClosed() {
        while (true) {
            int length;
            lock.lock();
            try {
                while (count == 0 && !closing) {
                    queued.awaitUninterruptibly();
                }
                if (count == 0) {
                    return;
                }
                length = count;
                int first = Math.min(length, CAPACITY - head);
                System.arraycopy(queue, head, chunk, 0, first);
                System.arraycopy(queue, 0, chunk, first, length - first);
                head = (head + length) % CAPACITY;
                count = 0;
                room.signalAll();
            } finally {
                lock.unlock();
            }
            try {
                output.write(chunk, 0, length);
                output.flush();
            } catch (IOException e) {
                // Nowhere to go; the guest goes on.
            }
        }
    }

    /** Writes out every byte queued so far, then ends the writer; again, does nothing. */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            queued.signal();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true; // the bytes are written first; the interrupt is kept for the caller
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
