package dev.machina.vmm.devices.virtio.queue;

/**
 * A virtqueue or descriptor chain the driver made malformed. The device stops using the queue, sets
 * DEVICE_NEEDS_RESET and logs the message in one line, adding which queue it was; the message says
 * what is wrong and where (descriptor index, addresses).
 */
public final class QueueFault extends Exception {
    public QueueFault(String message) {
        // No stack trace: the guest decides when and how often these happen, and the message
        // already says where; the stack would only ever show this package's own checks.
        super(message, null, false, false);
    }
}
