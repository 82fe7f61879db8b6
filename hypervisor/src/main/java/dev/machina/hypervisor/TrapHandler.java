package dev.machina.hypervisor;

/**
 * A synchronous trap (MEM or IO): the vCPU that accessed the range waits while the handler runs on
 * its thread. Handlers of a device shared by several vCPUs must be thread-safe.
 *
 * <p>{@code offset} is the distance from the start of the trapped range, so a device does not
 * change when its range moves; {@code size} is 1, 2, 4 or 8 bytes.
 */
public interface TrapHandler {
    /** Returns the value read, in the low {@code size} bytes. */
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
