package dev.machina.hypervisor.memory;

/**
 * An access to guest-physical memory outside guest RAM: a device following a wild DMA address, or a
 * loader placing an image past the end of memory. Never reaches host memory; the caller decides
 * what the guest sees (a failed request, a fault).
 */
public final class GuestMemoryException extends RuntimeException {
    private final long address;
    private final long length;

    public GuestMemoryException(long address, long length) {
        super("guest-physical range 0x%x..0x%x is not guest RAM".formatted(address, address + length));
        this.address = address;
        this.length = length;
    }

    public long address() {
        return address;
    }

    public long length() {
        return length;
    }
}
