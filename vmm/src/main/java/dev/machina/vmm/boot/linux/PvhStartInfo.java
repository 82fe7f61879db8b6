package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.loader.LayoutField;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Optional;
import java.util.OptionalLong;

import static dev.machina.loader.LayoutField.u32;
import static dev.machina.loader.LayoutField.u64;
import static java.lang.foreign.MemoryLayout.structLayout;

/**
 * The PVH boot protocol's {@code struct hvm_start_info} (xen/include/public/arch-x86/hvm/start_info.h),
 * version 1, followed by its module list (the initrd) and memory map: what EBX points to at the
 * kernel's 32-bit PVH entry point.
 */
final class PvhStartInfo {
    static final int MAGIC = 0x336E_C578;
    static final int VERSION = 1;

    static final StructLayout START_INFO = structLayout(
            u32("magic"), u32("version"), u32("flags"), u32("nr_modules"), u64("modlist_paddr"),
            u64("cmdline_paddr"), u64("rsdp_paddr"), u64("memmap_paddr"), u32("memmap_entries"), u32("reserved"))
            .withName("hvm_start_info");
    static final StructLayout MODULE = structLayout(
            u64("paddr"), u64("size"), u64("cmdline_paddr"), u64("reserved")).withName("hvm_modlist_entry");
    static final StructLayout MEMORY_MAP_ENTRY = structLayout(
            u64("addr"), u64("size"), u32("type"), u32("reserved")).withName("hvm_memmap_table_entry");

    private static final LayoutField INFO_MAGIC = LayoutField.of(START_INFO, "magic");
    private static final LayoutField INFO_VERSION = LayoutField.of(START_INFO, "version");
    private static final LayoutField NR_MODULES = LayoutField.of(START_INFO, "nr_modules");
    private static final LayoutField MODLIST_PADDR = LayoutField.of(START_INFO, "modlist_paddr");
    private static final LayoutField CMDLINE_PADDR = LayoutField.of(START_INFO, "cmdline_paddr");
    private static final LayoutField RSDP_PADDR = LayoutField.of(START_INFO, "rsdp_paddr");
    private static final LayoutField MEMMAP_PADDR = LayoutField.of(START_INFO, "memmap_paddr");
    private static final LayoutField MEMMAP_ENTRIES = LayoutField.of(START_INFO, "memmap_entries");
    private static final LayoutField MODULE_PADDR = LayoutField.of(MODULE, "paddr");
    private static final LayoutField MODULE_SIZE = LayoutField.of(MODULE, "size");

    private PvhStartInfo() {
    }

    /** The bytes of the start info, module list and memory map, to be written at guest address {@code base}. */
    static MemorySegment build(long base, long commandLine, Optional<AddressRange> initrd, OptionalLong rsdp, E820Map map) {
        long modules = base + START_INFO.byteSize();
        long memoryMap = modules + (initrd.isPresent() ? MODULE.byteSize() : 0);
        long size = memoryMap - base + map.entries().size() * MEMORY_MAP_ENTRY.byteSize();
        MemorySegment bytes = MemorySegment.ofArray(new byte[Math.toIntExact(size)]);

        INFO_MAGIC.set(bytes, MAGIC);
        INFO_VERSION.set(bytes, VERSION);
        CMDLINE_PADDR.set(bytes, commandLine);
        rsdp.ifPresent(address -> RSDP_PADDR.set(bytes, address));
        initrd.ifPresent(range -> {
            NR_MODULES.set(bytes, 1);
            MODLIST_PADDR.set(bytes, modules);
            MemorySegment module = bytes.asSlice(modules - base, MODULE.byteSize());
            MODULE_PADDR.set(module, range.start());
            MODULE_SIZE.set(module, range.size());
        });
        MEMMAP_PADDR.set(bytes, memoryMap);
        MEMMAP_ENTRIES.set(bytes, map.entries().size());
        map.writeTo(bytes.asSlice(memoryMap - base), MEMORY_MAP_ENTRY);
        return bytes;
    }
}
