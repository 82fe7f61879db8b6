package dev.machina.hypervisor.memory;

/** A range of guest addresses (physical memory or x86 ports): {@code [start, start + size)}. */
public record AddressRange(long start, long size) {
    public AddressRange {
        if (start < 0 || size <= 0 || start + size < start) {
            throw new IllegalArgumentException("bad address range 0x%x+0x%x".formatted(start, size));
        }
    }

    public long end() {
        return start + size;
    }

    public boolean contains(long address) {
        return address >= start && address - start < size;
    }

    public boolean overlaps(AddressRange other) {
        return start < other.end() && other.start < end();
    }

    @Override
    public String toString() {
        return "0x%x..0x%x".formatted(start, end());
    }
}
