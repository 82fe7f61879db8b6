package dev.machina.vmm.devices.virtio;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The thread one virtio device serves its queues on, so that a device that blocks (a disk
 * flushing) stalls neither the vCPUs nor another device. Wakes are bits, one per queue: any
 * number of notifications before the thread runs again cost one pass over the queue, and a wake
 * allocates nothing.
 */
final class DeviceWorker {
    private final Thread thread;
    private final AtomicLong pendingQueues = new AtomicLong();
    private final IntConsumer serve;
    private volatile boolean running = true;

    /** Starts a thread named {@code name} that calls {@code serve} with each queue woken; 64 queues at most. */
    DeviceWorker(String name, IntConsumer serve) {
        this.serve = serve;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
    }

    /** Has the thread serve queue {@code index} soon; callable from any thread, never blocks. */
    void wake(int index) {
        pendingQueues.getAndAccumulate(1L << index, (bits, bit) -> bits | bit);
        LockSupport.unpark(thread);
    }

    /** Stops the thread and waits until it has left the device: afterwards nothing touches the queues. */
    void stop() {
        running = false;
        LockSupport.unpark(thread);
        Threads.joinUninterruptibly(thread);
    }

    private void loop() {
        while (running) {
            long queues = pendingQueues.getAndSet(0);
            if (queues == 0) {
                LockSupport.park(this);
                continue;
            }
            while (queues != 0 && running) {
                int index = Long.numberOfTrailingZeros(queues);
                queues &= queues - 1;
                serve.accept(index);
            }
        }
    }
}
