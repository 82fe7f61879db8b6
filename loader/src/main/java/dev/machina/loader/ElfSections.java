package dev.machina.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The sections of a little-endian ELF64 file, found by name: what a relocatable object such as a
 * Linux kernel module keeps in them ({@code .modinfo}) is not in any segment.
 */
public final class ElfSections {
    private ElfSections() {
    }

    /**
     * The contents of the section named {@code name} in the ELF64 file {@code elf}; empty if the
     * bytes are not a little-endian ELF64 file, or it has no such section or a section runs past
     * the file's end.
     */
    public static Optional<byte[]> contents(byte[] elf, String name) {
        MemorySegment file = MemorySegment.ofArray(elf);
        if (elf.length < Elf.HEADER.byteSize() || !Arrays.equals(elf, 0, 4, Elf.MAGIC, 0, 4)
                || elf[Elf.EI_CLASS] != Elf.ELFCLASS64 || elf[Elf.EI_DATA] != Elf.ELFDATA2LSB) {
            return Optional.empty();
        }
        long table = (long) Elf.E_SHOFF.get(file, 0L);
        long entrySize = Short.toUnsignedLong((short) Elf.E_SHENTSIZE.get(file, 0L));
        int count = Short.toUnsignedInt((short) Elf.E_SHNUM.get(file, 0L));
        int names = Short.toUnsignedInt((short) Elf.E_SHSTRNDX.get(file, 0L));
        if (entrySize < Elf.SECTION_HEADER.byteSize() || table < 0 || names >= count
                || table + count * entrySize > elf.length) {
            return Optional.empty();
        }
        Optional<byte[]> nameTable = section(file, table + names * entrySize);
        byte[] wanted = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < count && nameTable.isPresent(); i++) {
            long header = table + i * entrySize;
            long nameOffset = Integer.toUnsignedLong((int) Elf.SH_NAME.get(file, header));
            byte[] strings = nameTable.get();
            if (nameOffset + wanted.length <= strings.length
                    && Arrays.equals(strings, (int) nameOffset, (int) nameOffset + wanted.length, wanted, 0, wanted.length)) {
                return section(file, header);
            }
        }
        return Optional.empty();
    }

    private static Optional<byte[]> section(MemorySegment file, long header) {
        long offset = (long) Elf.SH_OFFSET.get(file, header);
        long size = (long) Elf.SH_SIZE.get(file, header);
        if (offset < 0 || size < 0 || offset + size > file.byteSize() || size > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        return Optional.of(file.asSlice(offset, size).toArray(ValueLayout.JAVA_BYTE));
    }
}
