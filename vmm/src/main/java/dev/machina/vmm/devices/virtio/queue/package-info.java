/**
 * The virtio 1.2 split virtqueue (section 2.7), device side.
 *
 * <p>{@link dev.machina.vmm.devices.virtio.queue.SplitQueue} holds one queue's configuration, as the
 * transport sets it from the driver's writes, and runs its rings for the device: it pops descriptor
 * chains, returns them as used, and decides about notifications in both directions.
 * {@link dev.machina.vmm.devices.virtio.queue.DescriptorChain} is one popped chain, reused from
 * request to request, with bounded accessors for the driver's bytes. Everything the driver wrote is
 * untrusted: any malformed ring or chain is a
 * {@link dev.machina.vmm.devices.virtio.queue.QueueFault}, never another exception, never a loop,
 * never an access outside guest RAM.
 */
package dev.machina.vmm.devices.virtio.queue;
