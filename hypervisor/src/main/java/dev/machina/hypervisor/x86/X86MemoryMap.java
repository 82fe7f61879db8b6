package dev.machina.hypervisor.x86;

import dev.machina.hypervisor.memory.AddressRange;

import java.util.List;

/**
 * Where RAM and the chipset sit in an x86 guest's physical address space: RAM from 0 up to the
 * 32-bit MMIO hole (PCI, IOAPIC, local APIC), the rest of RAM above 4 GiB.
 */
public final class X86MemoryMap {
    public static final long MMIO_HOLE_START = 0xC000_0000L;
    public static final long FOUR_GIB = 0x1_0000_0000L;
    /** The VMM's boot-time marker: one page of MMIO, reachable from a guest's user space through /dev/mem. */
    public static final long BOOT_TIMER_BASE = 0xFEBF_0000L;
    public static final long IOAPIC_BASE = 0xFEC0_0000L;
    public static final long LOCAL_APIC_BASE = 0xFEE0_0000L;

    private X86MemoryMap() {
    }

    /**
     * The most RAM whose every byte has an address below {@code 2^physicalAddressBits}: RAM past
     * the MMIO hole continues at 4 GiB, so the hole's gigabyte is address space RAM cannot use.
     */
    public static long maxRam(int physicalAddressBits) {
        long top = 1L << physicalAddressBits;
        return top <= MMIO_HOLE_START ? top : top - (FOUR_GIB - MMIO_HOLE_START);
    }

    /** The RAM ranges for {@code bytes} of guest memory. */
    public static List<AddressRange> ram(long bytes) {
        if (bytes <= MMIO_HOLE_START) {
            return List.of(new AddressRange(0, bytes));
        }
        return List.of(new AddressRange(0, MMIO_HOLE_START), new AddressRange(FOUR_GIB, bytes - MMIO_HOLE_START));
    }
}
