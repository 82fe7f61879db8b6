package dev.machina.vmm.devices.virtio;

import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

/**
 * What makes one kind of virtio device (block, console, entropy...): its id, features,
 * configuration space and queues, and how it serves them. The transport
 * ({@link VirtioPciTransport}) does everything the kinds share: feature negotiation, status,
 * queue setup, notifications, interrupts and resets, and calls {@link #process} on the device's
 * own worker thread, where it may block.
 */
public interface VirtioDevice {
    /** The virtio device id (2 block, 3 console, 4 entropy...). */
    int deviceType();

    /** The PCI class code the function reports, as QEMU's device of the same kind does. */
    int pciClass();

    /** The device-specific feature bits offered (the transport adds the ones it implements). */
    long features();

    /** The largest size of each queue, in queue order. */
    int[] queueSizes();

    /** The size of the device-specific configuration space. */
    int configSize();

    long readConfig(int offset, int size);

    /** A driver write to the configuration space; read-only fields ignore it. */
    void writeConfig(int offset, int size, long value);

    /**
     * The driver set DRIVER_OK: the device may use {@code activation}'s queues from now on, on the
     * worker thread that calls {@link #process}.
     */
    void activate(Activation activation);

    /**
     * Serves queue {@code index}: takes what the driver made available and returns it used.
     * Called on the device's worker thread when the driver notified the queue or the device
     * {@linkplain Activation#wake woke} it.
     *
     * @return true if the device took every buffer available, so that buffers arriving meanwhile
     *         must be served at once; false if it leaves buffers waiting for the host (a receive
     *         queue with nothing to receive), to be served when it {@linkplain Activation#wake wakes}
     * @throws QueueFault if the driver's queue is malformed: the device then needs a reset
     */
    boolean process(int index, SplitQueue queue, DescriptorChain chain) throws QueueFault;

    /** The driver reset the device: forget the activation; the queues are no longer the device's. */
    void reset();
}
