package dev.machina.vmm.devices.virtio;

import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

/**
 * What makes one kind of virtio device (block, console, entropy...): its id, features,
 * configuration space and queues, and how it serves them. The transport
 * ({@link VirtioPciTransport}) does everything the kinds share: feature negotiation, status,
 * queue setup, notifications, interrupts and resets, and calls {@link #serve} on the device's
 * own worker thread, where it may block.
 */
public interface VirtioDevice {
    /** The virtio device id (2 block, 3 console, 4 entropy...). */
    int deviceType();

    /** The PCI class code the function reports, as QEMU's device of the same kind does. */
    int pciClass();

    /** The device-specific feature bits offered (the transport adds the ones it implements); none unless said. */
    default long features() {
        return 0;
    }

    /** The largest size of each queue, in queue order. */
    int[] queueSizes();

    /** The size of the device-specific configuration space; none unless said. */
    default int configSize() {
        return 0;
    }

    default long readConfig(int offset, int size) {
        return 0;
    }

    /** A driver write to the configuration space; read-only fields ignore it. */
    default void writeConfig(int offset, int size, long value) {
    }

    /**
     * The driver set DRIVER_OK: the device may use {@code activation}'s queues from now on, on the
     * worker thread that calls {@link #serve}.
     */
    default void activate(Activation activation) {
    }

    /**
     * Serves one chain the driver made available in queue {@code index}, returning it with
     * {@link SplitQueue#add}. Called on the device's worker thread, after the driver notified the
     * queue or the device {@linkplain Activation#wake woke} it, for each chain in turn while
     * {@link #canServe} says so.
     *
     * @throws QueueFault if the chain is malformed: the device then needs a reset
     */
    void serve(int index, SplitQueue queue, DescriptorChain chain) throws QueueFault;

    /**
     * Whether the device can serve queue {@code index} now; a receive queue with nothing to
     * receive leaves the driver's buffers waiting until the device {@linkplain Activation#wake wakes}
     * it.
     */
    default boolean canServe(int index) {
        return true;
    }

    /** The driver reset the device: forget the activation; the queues are no longer the device's. */
    default void reset() {
    }
}
