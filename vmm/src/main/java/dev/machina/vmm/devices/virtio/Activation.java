package dev.machina.vmm.devices.virtio;

import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * A device's grant from the driver, from DRIVER_OK to the next reset.
 *
 * @param features the negotiated feature bits
 * @param queues   the queues, in order; a queue the driver did not enable is not ready
 * @param wake     asks for {@link VirtioDevice#serve} of a queue on the worker thread, for work
 *                 that comes from the host side (console input arriving)
 */
public record Activation(long features, List<SplitQueue> queues, IntConsumer wake) {
    public boolean negotiated(int feature) {
        return (features & (1L << feature)) != 0;
    }
}
