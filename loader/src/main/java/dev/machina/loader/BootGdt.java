package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;

/** A flat GDT with the selectors Linux's 64-bit boot protocol expects: code 0x10, data 0x18. */
public final class BootGdt {
    public static final int CODE_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;

    private static final long[] ENTRIES = {
        0,
        0,
        0x00AF_9B00_0000_FFFFL,  // 64-bit code, ring 0
        0x00CF_9300_0000_FFFFL,  // flat data, ring 0
    };

    private BootGdt() {
    }

    public static DescriptorTable write(GuestMemory memory, long address) {
        for (int i = 0; i < ENTRIES.length; i++) {
            memory.writeLong(address + 8L * i, ENTRIES[i]);
        }
        return new DescriptorTable(address, ENTRIES.length * 8 - 1);
    }
}
