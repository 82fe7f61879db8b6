package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Segment;

/**
 * The GDT the Linux boot protocol expects at a 64-bit entry: two null descriptors, then
 * {@code __BOOT_CS} (64-bit code) and {@code __BOOT_DS} (flat data). The descriptors are encoded
 * from the same {@link Segment}s that {@link dev.machina.hypervisor.x86.SegmentRegisters#flat64}
 * loads, so what the guest reloads from the table matches the hidden parts it was entered with.
 */
public final class BootGdt {
    public static final int CODE_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;

    private static final int DESCRIPTOR_BYTES = 8;
    private static final int DESCRIPTORS = 4;

    private BootGdt() {
    }

    /** Writes the table at {@code address} and returns the GDTR that points at it. */
    public static DescriptorTable write(GuestMemory memory, long address) {
        memory.writeLong(address, 0);
        memory.writeLong(address + DESCRIPTOR_BYTES, 0);
        memory.writeLong(address + CODE_SELECTOR, descriptor(Segment.code64(CODE_SELECTOR)));
        memory.writeLong(address + DATA_SELECTOR, descriptor(Segment.flatData(DATA_SELECTOR)));
        return new DescriptorTable(address, DESCRIPTORS * DESCRIPTOR_BYTES - 1);
    }

    /**
     * The 8-byte descriptor for a segment: limit 15:0 and base 23:0 in the low dword; access byte,
     * limit 19:16, the AVL/L/D/G nibble and base 31:24 in the high one. A granular segment's limit
     * is stored in 4 KiB units.
     */
    static long descriptor(Segment segment) {
        long limit = segment.granular() ? Integer.toUnsignedLong(segment.limit()) >>> 12 : segment.limit();
        long base = segment.base();
        long access = segment.accessRights() & 0xFF;
        long flags = (segment.accessRights() >>> 12) & 0xF;
        return (limit & 0xFFFF)
                | (base & 0xFF_FFFF) << 16
                | access << 40
                | ((limit >>> 16) & 0xF) << 48
                | flags << 52
                | ((base >>> 24) & 0xFF) << 56;
    }
}
