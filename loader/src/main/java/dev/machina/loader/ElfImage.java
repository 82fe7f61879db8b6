package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.memory.GuestMemoryException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A 64-bit little-endian x86-64 ELF executable whose PT_LOAD segments are placed at their physical
 * addresses. Minimal stand-in until the loader module's own implementation lands: no PVH note.
 */
public final class ElfImage {
    private static final int PT_LOAD = 1;
    private static final int EM_X86_64 = 62;

    private final Path file;
    private final ByteBuffer bytes;
    private final long entry;

    private ElfImage(Path file, ByteBuffer bytes, long entry) {
        this.file = file;
        this.bytes = bytes;
        this.entry = entry;
    }

    /** The guest-physical range the segments occupy, and the entry point. */
    public record LoadedImage(long lowestAddress, long endAddress, long entry) {
    }

    public static ElfImage read(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageException(file, "cannot read: " + e.getMessage());
        }
        ByteBuffer bytes = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN);
        if (content.length < 64 || bytes.getInt(0) != 0x464C457F) {
            throw new ImageException(file, "not an ELF file");
        }
        if (content[4] != 2 || content[5] != 1 || bytes.getShort(18) != EM_X86_64) {
            throw new ImageException(file, "not a 64-bit little-endian x86-64 ELF file");
        }
        return new ElfImage(file, bytes, bytes.getLong(24));
    }

    public Path file() {
        return file;
    }

    public long entry() {
        return entry;
    }

    public OptionalLong pvhEntry() {
        return OptionalLong.empty();
    }

    /** Copies every PT_LOAD segment to its physical address and zeroes its tail beyond the file. */
    public LoadedImage load(GuestMemory memory) {
        long headers = bytes.getLong(32);
        int headerSize = Short.toUnsignedInt(bytes.getShort(54));
        int count = Short.toUnsignedInt(bytes.getShort(56));
        long lowest = Long.MAX_VALUE;
        long end = 0;
        try {
            for (int i = 0; i < count; i++) {
                int header = Math.toIntExact(headers + (long) i * headerSize);
                if (header + 56 > bytes.capacity()) {
                    throw new ImageException(file, "program header " + i + " lies past the end of the file");
                }
                if (bytes.getInt(header) != PT_LOAD) {
                    continue;
                }
                long offset = bytes.getLong(header + 8);
                long address = bytes.getLong(header + 24);
                long fileSize = bytes.getLong(header + 32);
                long memorySize = bytes.getLong(header + 40);
                if (offset < 0 || fileSize < 0 || offset + fileSize > bytes.capacity() || memorySize < fileSize) {
                    throw new ImageException(file, "segment " + i + " is malformed");
                }
                memory.write(address, bytes.array(), (int) offset, (int) fileSize);
                memory.slice(address + fileSize, memorySize - fileSize).fill((byte) 0);
                lowest = Math.min(lowest, address);
                end = Math.max(end, address + memorySize);
            }
        } catch (GuestMemoryException e) {
            throw new ImageException(file, "does not fit guest memory: " + e.getMessage());
        }
        if (end == 0) {
            throw new ImageException(file, "has no loadable segment");
        }
        return new LoadedImage(lowest, end, entry);
    }
}
