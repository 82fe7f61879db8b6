package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.RamRegion;
import dev.machina.loader.LayoutField;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The guest-physical memory map Linux is booted with (the BIOS's INT 15h/E820 map, passed in the
 * zero page or the PVH start info): RAM, with reserved ranges carved out of it, sorted by address.
 */
public record E820Map(List<Entry> entries) {
    /**
     * The EBDA, VGA memory and BIOS area below 1 MiB: reserved as a PC's firmware reports it. The
     * ACPI tables in the BIOS area lie inside it, so Linux neither allocates over them nor needs
     * a separate entry to find them.
     */
    public static final AddressRange LOW_MEMORY_HOLE = new AddressRange(0x9_FC00, 0x10_0000 - 0x9_FC00);

    public enum Type {
        RAM(1), RESERVED(2), ACPI(3), NVS(4), UNUSABLE(5);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        /** The number the E820 interface and the PVH memory map use for the type. */
        public int code() {
            return code;
        }
    }

    public record Entry(long address, long size, Type type) {
        public Entry {
            if (address < 0 || size <= 0 || address + size < address || type == null) {
                throw new IllegalArgumentException("bad E820 entry 0x%x+0x%x %s".formatted(address, size, type));
            }
        }

        public long end() {
            return address + size;
        }

        AddressRange range() {
            return new AddressRange(address, size);
        }
    }

    public E820Map {
        entries = List.copyOf(entries);
    }

    /** The map of {@code ram} with the {@link #LOW_MEMORY_HOLE} reserved: what a PC BIOS reports. */
    public static E820Map standard(List<RamRegion> ram) {
        return of(ram, List.of(new Entry(LOW_MEMORY_HOLE.start(), LOW_MEMORY_HOLE.size(), Type.RESERVED)));
    }

    /**
     * The map of {@code ram} with each of {@code reserved} (not RAM, not overlapping one another)
     * cut out of RAM and listed with its own type.
     */
    public static E820Map of(List<RamRegion> ram, List<Entry> reserved) {
        List<Entry> sortedReserved = reserved.stream().sorted(Comparator.comparingLong(Entry::address)).toList();
        for (int i = 0; i < sortedReserved.size(); i++) {
            Entry entry = sortedReserved.get(i);
            if (entry.type() == Type.RAM) {
                throw new IllegalArgumentException("a reserved range cannot have type RAM: " + entry);
            }
            if (i > 0 && sortedReserved.get(i - 1).range().overlaps(entry.range())) {
                throw new IllegalArgumentException("reserved ranges overlap: " + sortedReserved.get(i - 1) + " and " + entry);
            }
        }
        List<Entry> entries = new ArrayList<>(sortedReserved);
        for (RamRegion region : ram) {
            long start = region.guestAddress();
            for (Entry hole : sortedReserved) {
                if (hole.end() <= start || hole.address() >= region.end()) {
                    continue;
                }
                if (hole.address() > start) {
                    entries.add(new Entry(start, hole.address() - start, Type.RAM));
                }
                start = Math.max(start, hole.end());
            }
            if (start < region.end()) {
                entries.add(new Entry(start, region.end() - start, Type.RAM));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::address));
        return new E820Map(entries);
    }

    /**
     * Writes the entries as an array of {@code entryLayout} structs at the start of {@code table}:
     * the zero page and the PVH start info each have their own struct, both with fields
     * {@code addr}, {@code size} and {@code type}.
     */
    public void writeTo(MemorySegment table, StructLayout entryLayout) {
        LayoutField address = LayoutField.of(entryLayout, "addr");
        LayoutField size = LayoutField.of(entryLayout, "size");
        LayoutField type = LayoutField.of(entryLayout, "type");
        for (int i = 0; i < entries.size(); i++) {
            MemorySegment slot = table.asSlice(i * entryLayout.byteSize(), entryLayout.byteSize());
            address.set(slot, entries.get(i).address());
            size.set(slot, entries.get(i).size());
            type.set(slot, entries.get(i).type().code());
        }
    }

    /** The RAM entries: where the loader may place the kernel, the initrd and the boot structures. */
    public List<Entry> ram() {
        return entries.stream().filter(entry -> entry.type() == Type.RAM).toList();
    }
}
