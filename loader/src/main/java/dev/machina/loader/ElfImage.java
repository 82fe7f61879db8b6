package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;

import dev.machina.hypervisor.os.FileErrors;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/**
 * An ELF64 x86-64 executable (a vmlinux, a test guest) to be placed in guest RAM at its physical
 * addresses. Everything about the file is checked when it is read, so {@link #load} fails only for
 * want of room.
 */
public final class ElfImage {
    private final Path file;
    /** What in the file the ELF is, for messages: empty for a whole file. */
    private final String part;
    private final MemorySegment contents;
    private final long entry;
    private final List<LoadSegment> segments;
    private final OptionalLong pvhEntry;

    /** A PT_LOAD: {@code fileSize} bytes from {@code offset} at {@code address}, zeros up to {@code memorySize}. */
    private record LoadSegment(int index, long address, long offset, long fileSize, long memorySize) {
        long end() {
            return address + memorySize;
        }
    }

    /**
     * The image as one block: the segments' file bytes at their offsets from {@code address}, the
     * lowest, zeros between them; {@code endAddress} is one past the last byte of memory any
     * segment takes, its zero-filled tail included.
     */
    public record FlatImage(long address, byte[] bytes, long endAddress) {
    }

    /** Where an image landed: the lowest and one past the highest address it occupies, and its entry. */
    public record LoadedImage(long lowestAddress, long endAddress, long entry) {
    }

    private ElfImage(Path file, String part, MemorySegment contents) {
        this.file = file;
        this.part = part;
        this.contents = contents;
        checkIdentity();
        this.entry = (long) Elf.E_ENTRY.get(contents, 0L);
        List<LoadSegment> loads = new ArrayList<>();
        OptionalLong pvh = OptionalLong.empty();
        for (long header : programHeaders()) {
            int type = (int) Elf.P_TYPE.get(contents, header);
            if (type != Elf.PT_LOAD && type != Elf.PT_NOTE) {
                continue;
            }
            long offset = (long) Elf.P_OFFSET.get(contents, header);
            long fileSize = (long) Elf.P_FILESZ.get(contents, header);
            String name = type == Elf.PT_LOAD ? "PT_LOAD segment " + loads.size() : "PT_NOTE segment";
            if (!inFile(offset, fileSize)) {
                throw problem("%s at file offset 0x%x (0x%x bytes) lies outside the file (%d bytes)"
                        .formatted(name, offset, fileSize, contents.byteSize()));
            }
            if (type == Elf.PT_NOTE) {
                pvh = pvh.isPresent() ? pvh : findPvhEntry(offset, fileSize);
                continue;
            }
            long memorySize = (long) Elf.P_MEMSZ.get(contents, header);
            long address = (long) Elf.P_PADDR.get(contents, header);
            if (Long.compareUnsigned(fileSize, memorySize) > 0) {
                throw problem("%s has more file bytes (0x%x) than memory bytes (0x%x)".formatted(name, fileSize, memorySize));
            }
            if (address < 0 || memorySize < 0 || address + memorySize < address) {
                throw problem("%s at 0x%x (0x%x bytes) wraps the address space".formatted(name, address, memorySize));
            }
            loads.add(new LoadSegment(loads.size(), address, offset, fileSize, memorySize));
        }
        if (loads.isEmpty()) {
            throw problem("no PT_LOAD segment");
        }
        this.segments = List.copyOf(loads);
        this.pvhEntry = pvh;
    }

    /**
     * Reads and checks an ELF64 little-endian x86-64 executable.
     *
     * @throws ImageException naming the file and what is wrong with it
     */
    public static ElfImage read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file, "no such file");
        } catch (IOException e) {
            throw new ImageException(file, "cannot read: " + FileErrors.reason(e));
        }
        return new ElfImage(file, "", MemorySegment.ofArray(bytes));
    }

    /** Checks {@code bytes}, an ELF held in {@code part} of {@code file} (a bzImage's payload), whose problems name both. */
    static ElfImage of(Path file, String part, byte[] bytes) {
        return new ElfImage(file, part + ": ", MemorySegment.ofArray(bytes));
    }

    public Path file() {
        return file;
    }

    /** The whole ELF as read, for what looks beyond its segments (a stripped kernel's kallsyms tables). */
    public MemorySegment contents() {
        return contents.asReadOnly();
    }

    /** e_entry; for Linux's vmlinux and Machina's test guests, a physical address. */
    public long entry() {
        return entry;
    }

    /** The 32-bit entry point of a Xen PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY), if the image has one. */
    public OptionalLong pvhEntry() {
        return pvhEntry;
    }

    /**
     * Copies every PT_LOAD to its physical address and zero-fills its tail. Nothing is written
     * unless every segment fits in RAM.
     *
     * @throws ImageException if a segment would fall outside guest RAM
     */
    public LoadedImage load(GuestMemory memory) {
        for (LoadSegment segment : segments) {
            if (!memory.isRam(segment.address(), segment.memorySize())) {
                throw problem("PT_LOAD segment %d at 0x%x..0x%x does not fit in %s of guest memory"
                        .formatted(segment.index(), segment.address(), segment.end(), Sizes.describe(memory.size())));
            }
        }
        long lowest = Long.MAX_VALUE;
        long end = 0;
        for (LoadSegment segment : segments) {
            memory.write(segment.address(), contents, segment.offset(), segment.fileSize());
            memory.fill(segment.address() + segment.fileSize(), segment.memorySize() - segment.fileSize(), (byte) 0);
            lowest = Math.min(lowest, segment.address());
            end = Math.max(end, segment.end());
        }
        return new LoadedImage(lowest, end, entry);
    }

    /** The image as one block of bytes, for a format that carries it that way (a ZBI's kernel). */
    public FlatImage flatten() {
        long lowest = segments.stream().mapToLong(LoadSegment::address).min().orElseThrow();
        long fileEnd = segments.stream().mapToLong(segment -> segment.address() + segment.fileSize()).max().orElseThrow();
        long end = segments.stream().mapToLong(LoadSegment::end).max().orElseThrow();
        if (fileEnd - lowest > Integer.MAX_VALUE - 16) {
            throw problem("spans 0x%x bytes from 0x%x, too much for one block".formatted(fileEnd - lowest, lowest));
        }
        byte[] bytes = new byte[(int) (fileEnd - lowest)];
        for (LoadSegment segment : segments) {
            MemorySegment.copy(contents, ValueLayout.JAVA_BYTE, segment.offset(), bytes,
                    (int) (segment.address() - lowest), (int) segment.fileSize());
        }
        return new FlatImage(lowest, bytes, end);
    }

    private void checkIdentity() {
        if (contents.byteSize() < Elf.HEADER.byteSize()) {
            throw problem("truncated ELF header (%d bytes, need %d)".formatted(contents.byteSize(), Elf.HEADER.byteSize()));
        }
        byte[] magic = contents.asSlice(0, Elf.MAGIC.length).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(magic, Elf.MAGIC)) {
            throw problem("not an ELF file (bad magic)");
        }
        int elfClass = contents.get(ValueLayout.JAVA_BYTE, Elf.EI_CLASS);
        if (elfClass != Elf.ELFCLASS64) {
            throw problem("not a 64-bit ELF (class %d)".formatted(elfClass));
        }
        int data = contents.get(ValueLayout.JAVA_BYTE, Elf.EI_DATA);
        if (data != Elf.ELFDATA2LSB) {
            throw problem("not a little-endian ELF (data encoding %d)".formatted(data));
        }
        int machine = Short.toUnsignedInt((short) Elf.E_MACHINE.get(contents, 0L));
        if (machine != Elf.EM_X86_64) {
            throw problem("not an x86-64 ELF (machine %d)".formatted(machine));
        }
        int type = Short.toUnsignedInt((short) Elf.E_TYPE.get(contents, 0L));
        if (type != Elf.ET_EXEC) {
            throw problem("not an executable ELF (type %d, expected ET_EXEC)".formatted(type));
        }
    }

    /** The file offsets of the program headers, checked to lie in the file. */
    private long[] programHeaders() {
        long offset = (long) Elf.E_PHOFF.get(contents, 0L);
        int count = Short.toUnsignedInt((short) Elf.E_PHNUM.get(contents, 0L));
        int entrySize = Short.toUnsignedInt((short) Elf.E_PHENTSIZE.get(contents, 0L));
        if (count > 0 && entrySize != Elf.PROGRAM_HEADER.byteSize()) {
            throw problem("program header size %d, expected %d".formatted(entrySize, Elf.PROGRAM_HEADER.byteSize()));
        }
        if (!inFile(offset, (long) count * entrySize)) {
            throw problem("truncated program headers (%d at file offset 0x%x, file is %d bytes)"
                    .formatted(count, offset, contents.byteSize()));
        }
        long[] headers = new long[count];
        for (int i = 0; i < count; i++) {
            headers[i] = offset + (long) i * entrySize;
        }
        return headers;
    }

    private OptionalLong findPvhEntry(long offset, long size) {
        long end = offset + size;
        long note = offset;
        while (end - note >= Elf.NOTE_HEADER.byteSize()) {
            long nameSize = Integer.toUnsignedLong((int) Elf.N_NAMESZ.get(contents, note));
            long descSize = Integer.toUnsignedLong((int) Elf.N_DESCSZ.get(contents, note));
            int type = (int) Elf.N_TYPE.get(contents, note);
            long name = note + Elf.NOTE_HEADER.byteSize();
            long desc = name + align4(nameSize);
            long next = desc + align4(descSize);
            if (next > end) {
                throw problem("truncated ELF note at file offset 0x%x".formatted(note));
            }
            if (type == Elf.XEN_ELFNOTE_PHYS32_ENTRY && noteName(name, nameSize).equals(Elf.XEN_NOTE_NAME)) {
                return OptionalLong.of(switch ((int) descSize) {
                    case 4 -> Integer.toUnsignedLong(contents.get(Elf.WORD, desc));
                    case 8 -> contents.get(Elf.XWORD, desc);
                    default -> throw problem("Xen PHYS32_ENTRY note holds %d bytes, expected 4 or 8".formatted(descSize));
                });
            }
            note = next;
        }
        return OptionalLong.empty();
    }

    /** A note's name without its terminating NUL. */
    private String noteName(long name, long size) {
        byte[] bytes = contents.asSlice(name, size).toArray(ValueLayout.JAVA_BYTE);
        int length = bytes.length > 0 && bytes[bytes.length - 1] == 0 ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.US_ASCII);
    }

    private static long align4(long value) {
        return (value + 3) & ~3L;
    }

    /** Whether {@code [offset, offset + size)}, both read as unsigned, lies in the file. */
    private boolean inFile(long offset, long size) {
        return offset >= 0 && size >= 0 && offset <= contents.byteSize() - size;
    }

    private ImageException problem(String text) {
        return new ImageException(file, part + text);
    }
}
