package dev.machina.vmm.devices.virtio.rng;

import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * virtio-rng (device id 4): fills each buffer the driver offers with bytes from the host's secure
 * random source, which the guest's {@code /dev/hwrng} reads and its entropy pool is seeded from.
 */
public final class EntropyDevice implements VirtioDevice {
    public static final int DEVICE_TYPE = 4;
    private static final int QUEUE_SIZE = 64;
    /** The largest piece of one request filled at a time: requests are small (Linux asks for 64 bytes), and this bounds the buffer. */
    private static final int CHUNK = 4096;
    private static final int PCI_CLASS_OTHER = 0xFF_00_00;

    private final SecureRandom random;
    private final byte[] bytes = new byte[CHUNK];
    private final MemorySegment chunk = MemorySegment.ofArray(bytes);
    private final LongAdder bytesGiven = new LongAdder();

    public EntropyDevice(SecureRandom random) {
        this.random = random;
    }

    /** The bytes handed to the guest so far. */
    public long bytesGiven() {
        return bytesGiven.sum();
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int pciClass() {
        return PCI_CLASS_OTHER;
    }

    @Override
    public int[] queueSizes() {
        return new int[] {QUEUE_SIZE};
    }

    @Override
    public void serve(int index, SplitQueue queue, DescriptorChain chain) {
        long wanted = chain.writableBytes();
        long written = 0;
        while (written < wanted) {
            random.nextBytes(bytes);
            written += chain.write(written, chunk);
        }
        queue.add(chain.head(), (int) written);
        bytesGiven.add(written);
    }
}
