package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;

/**
 * Identity-mapped 4-level page tables for entering a guest in 64-bit mode: one PML4, as many PDPTs
 * as 512 GiB blocks need, and one page directory of 2 MiB pages per GiB. The mapping always
 * covers the first 4 GiB, so the MMIO hole (local APIC, IOAPIC, trapped devices) is reachable
 * however little RAM the guest has.
 */
public final class BootPageTables {
    private static final long PAGE = 4096;
    private static final int ENTRIES = 512;
    private static final long GIB = 1L << 30;
    private static final long LARGE_PAGE = 2L << 20;
    /** One PML4 entry covers this much: a full PDPT of 1 GiB entries. */
    private static final long PML4_SPAN = ENTRIES * GIB;

    private static final long PRESENT = 1;
    private static final long WRITABLE = 1 << 1;
    private static final long PAGE_SIZE = 1 << 7;

    private BootPageTables() {
    }

    /**
     * Writes the tables at {@code address} (4 KiB aligned) mapping {@code [0, bytesToMap)}, rounded
     * up to whole GiB and to at least 4 GiB, and returns the CR3 value that selects them.
     *
     * @throws IllegalArgumentException if the address is misaligned, the span is more than a PML4
     *         can map, or the tables do not fit in guest RAM
     */
    public static long write(GuestMemory memory, long address, long bytesToMap) {
        if (address % PAGE != 0) {
            throw new IllegalArgumentException("page tables at 0x%x are not 4 KiB aligned".formatted(address));
        }
        long gib = gibToMap(bytesToMap);
        long pdpts = pdptsFor(gib);
        long size = size(bytesToMap);
        if (!memory.isRam(address, size)) {
            throw new IllegalArgumentException("page tables at 0x%x..0x%x do not fit in %s of guest RAM"
                    .formatted(address, address + size, Sizes.describe(memory.size())));
        }
        memory.fill(address, size, (byte) 0);
        long pml4 = address;
        long firstPdpt = pml4 + PAGE;
        long firstDirectory = firstPdpt + pdpts * PAGE;
        for (long i = 0; i < pdpts; i++) {
            memory.writeLong(pml4 + i * 8, (firstPdpt + i * PAGE) | PRESENT | WRITABLE);
        }
        for (long g = 0; g < gib; g++) {
            long directory = firstDirectory + g * PAGE;
            memory.writeLong(firstPdpt + g * 8, directory | PRESENT | WRITABLE);
            for (long e = 0; e < ENTRIES; e++) {
                long physical = g * GIB + e * LARGE_PAGE;
                memory.writeLong(directory + e * 8, physical | PRESENT | WRITABLE | PAGE_SIZE);
            }
        }
        return pml4;
    }

    /** The bytes the tables for {@code bytesToMap} occupy. */
    public static long size(long bytesToMap) {
        long gib = gibToMap(bytesToMap);
        return (1 + pdptsFor(gib) + gib) * PAGE;
    }

    private static long gibToMap(long bytesToMap) {
        if (bytesToMap < 0 || bytesToMap > ENTRIES * PML4_SPAN) {
            throw new IllegalArgumentException("cannot identity-map 0x%x bytes with one PML4".formatted(bytesToMap));
        }
        long span = Math.max(bytesToMap, X86MemoryMap.FOUR_GIB);
        return (span + GIB - 1) / GIB;
    }

    private static long pdptsFor(long gib) {
        return (gib + ENTRIES - 1) / ENTRIES;
    }
}
