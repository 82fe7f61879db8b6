package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;

/** Identity-mapping 4-level page tables with 2 MiB pages, as 64-bit boot protocols expect. */
public final class BootPageTables {
    private static final long PAGE = 4096;
    private static final long LARGE_PAGE = 2L << 20;
    private static final long GIB = 1L << 30;
    private static final long PRESENT_WRITABLE = 0x3;
    private static final long PAGE_SIZE_BIT = 0x80;

    private BootPageTables() {
    }

    /** Writes tables mapping {@code [0, bytesToMap)} at {@code address}; returns the CR3 value. */
    public static long write(GuestMemory memory, long address, long bytesToMap) {
        long directories = directories(bytesToMap);
        memory.slice(address, size(bytesToMap)).fill((byte) 0);
        long pml4 = address;
        long pdpt = address + PAGE;
        memory.writeLong(pml4, pdpt | PRESENT_WRITABLE);
        for (long d = 0; d < directories; d++) {
            long directory = pdpt + PAGE * (1 + d);
            memory.writeLong(pdpt + 8 * d, directory | PRESENT_WRITABLE);
            for (long e = 0; e < 512; e++) {
                memory.writeLong(directory + 8 * e, (d * GIB + e * LARGE_PAGE) | PRESENT_WRITABLE | PAGE_SIZE_BIT);
            }
        }
        return pml4;
    }

    /** The bytes the tables for {@code bytesToMap} take. */
    public static long size(long bytesToMap) {
        return PAGE * (2 + directories(bytesToMap));
    }

    private static long directories(long bytesToMap) {
        long count = (bytesToMap + GIB - 1) / GIB;
        if (count < 1 || count > 512) {
            throw new IllegalArgumentException("cannot map " + bytesToMap + " bytes with one page directory pointer table");
        }
        return count;
    }
}
