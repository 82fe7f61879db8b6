package dev.machina.hypervisor.memory;

/** A range of guest-physical addresses backed by RAM, at {@code hostOffset} in the guest's mapping. */
public record RamRegion(long guestAddress, long size, long hostOffset) {
    public RamRegion {
        if (size <= 0 || guestAddress < 0 || hostOffset < 0) {
            throw new IllegalArgumentException("bad RAM region " + guestAddress + "+" + size);
        }
    }

    /** The first guest-physical address past this region. */
    public long end() {
        return guestAddress + size;
    }

    /** Whether {@code [address, address + length)} lies wholly inside this region. */
    public boolean contains(long address, long length) {
        return address >= guestAddress && length >= 0 && length <= size && address - guestAddress <= size - length;
    }
}
