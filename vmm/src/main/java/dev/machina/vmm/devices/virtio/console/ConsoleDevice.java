package dev.machina.vmm.devices.virtio.console;

import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

/**
 * virtio-console (device id 3), one port, which the guest sees as {@code /dev/hvc0}: what the
 * guest transmits goes to {@code output} byte by byte, as the serial console's does. The host
 * sends the guest nothing yet: the receive queue's buffers wait, as on a console nobody types at.
 */
public final class ConsoleDevice implements VirtioDevice {
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
    public boolean canServe(int index) {
        return index != RECEIVE_QUEUE;
    }

    @Override
    public void serve(int index, SplitQueue queue, DescriptorChain chain) {
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
}
