package dev.machina.vmm.devices.virtio.console;

import dev.machina.vmm.devices.ConsoleInput;
import dev.machina.vmm.devices.virtio.Activation;
import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * virtio-console (device id 3), one port, which the guest sees as {@code /dev/hvc0}: what the
 * guest transmits goes to {@code output} byte by byte, as the serial console's does, and what the
 * user types into it ({@link #receive}) waits in a small buffer until the guest's receive queue
 * has a buffer for it.
 */
public final class ConsoleDevice implements VirtioDevice, ConsoleInput {
    public static final int DEVICE_TYPE = 3;
    private static final int RECEIVE_QUEUE = 0;
    private static final int QUEUE_SIZE = 64;
    private static final int PCI_CLASS_COMMUNICATION_OTHER = 0x07_80_00;
    private static final int CHUNK = 4096;
    /** struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr; none offered by a feature. */
    private static final int CONFIG_SIZE = 12;

    private final IntConsumer output;
    private final byte[] bytes = new byte[CHUNK];
    private final MemorySegment chunk = MemorySegment.ofArray(bytes);
    /** Typed bytes not yet in a guest buffer: a ring, guarded by this object's lock. */
    private final byte[] typed = new byte[CHUNK];
    private final MemorySegment typedMemory = MemorySegment.ofArray(typed);
    private int typedHead;
    private int typedCount;
    private Activation activation;

    public ConsoleDevice(IntConsumer output) {
        this.output = output;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int pciClass() {
        return PCI_CLASS_COMMUNICATION_OTHER;
    }

    @Override
    public int[] queueSizes() {
        return new int[] {QUEUE_SIZE, QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered.
    }

    @Override
    public synchronized void activate(Activation activation) {
        this.activation = activation;
        if (typedCount > 0) {
            activation.wake().accept(RECEIVE_QUEUE);
        }
    }

    /**
     * Takes a byte the user typed, waiting while the buffer is full (a paste goes at the guest's
     * pace, none of it lost), and has the worker hand it to the guest.
     */
    @Override
    public synchronized void receive(int value) throws InterruptedException {
        while (typedCount == typed.length) {
            wait();
        }
        typed[(typedHead + typedCount) % typed.length] = (byte) value;
        typedCount++;
        if (activation != null) {
            activation.wake().accept(RECEIVE_QUEUE);
        }
    }

    @Override
    public synchronized boolean canServe(int index) {
        return index != RECEIVE_QUEUE || typedCount > 0;
    }

    @Override
    public void serve(int index, SplitQueue queue, DescriptorChain chain) {
        if (index == RECEIVE_QUEUE) {
            queue.add(chain.head(), deliverTyped(chain));
            return;
        }
        long length = chain.readableBytes();
        for (long done = 0; done < length; ) {
            int piece = chain.read(done, chunk);
            for (int i = 0; i < piece; i++) {
                output.accept(bytes[i] & 0xFF);
            }
            done += piece;
        }
        queue.add(chain.head(), 0);
    }

    /** Copies as many typed bytes as the buffer holds into it, oldest first; returns how many. */
    private synchronized int deliverTyped(DescriptorChain chain) {
        int delivered = 0;
        while (typedCount > 0) {
            int contiguous = Math.min(typedCount, typed.length - typedHead);
            int copied = chain.write(delivered, typedMemory, typedHead, contiguous);
            typedHead = (typedHead + copied) % typed.length;
            typedCount -= copied;
            delivered += copied;
            if (copied < contiguous) {
                break;
            }
        }
        notifyAll();
        return delivered;
    }

    @Override
    public synchronized void reset() {
        activation = null;
    }
}
