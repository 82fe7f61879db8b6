package dev.machina.loader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds ELF64 files byte by byte for the tests, independently of the loader's own layouts: the
 * field offsets here are written out from the gABI tables.
 */
public final class ElfBuilder {
    static final int HEADER_SIZE = 64;
    static final int PROGRAM_HEADER_SIZE = 56;

    private record Program(int type, long paddr, byte[] data, long memorySize, Long offsetOverride) {
    }

    private int elfClass = 2;
    private int dataEncoding = 1;
    private int type = 2;
    private int machine = 62;
    private long entry = 0x100000;
    private final List<Program> programs = new ArrayList<>();

    ElfBuilder elfClass(int value) {
        elfClass = value;
        return this;
    }

    ElfBuilder dataEncoding(int value) {
        dataEncoding = value;
        return this;
    }

    ElfBuilder type(int value) {
        type = value;
        return this;
    }

    ElfBuilder machine(int value) {
        machine = value;
        return this;
    }

    public ElfBuilder entry(long value) {
        entry = value;
        return this;
    }

    public ElfBuilder load(long paddr, byte[] data, long memorySize) {
        programs.add(new Program(1, paddr, data, memorySize, null));
        return this;
    }

    /** A PT_LOAD that claims its bytes start at {@code fileOffset} (to point it outside the file). */
    ElfBuilder loadAt(long paddr, long fileOffset, byte[] data) {
        programs.add(new Program(1, paddr, data, data.length, fileOffset));
        return this;
    }

    ElfBuilder note(byte[] notes) {
        programs.add(new Program(4, 0, notes, 0, null));
        return this;
    }

    /** One note entry: header, NUL-terminated name and descriptor, each padded to 4 bytes. */
    static byte[] noteEntry(String name, int noteType, byte[] desc) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocate(12 + pad4(nameBytes.length) + pad4(desc.length)).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(nameBytes.length).putInt(desc.length).putInt(noteType);
        buffer.put(nameBytes).position(12 + pad4(nameBytes.length));
        buffer.put(desc);
        return buffer.array();
    }

    static byte[] littleEndianInt(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    private static int pad4(int length) {
        return (length + 3) & ~3;
    }

    byte[] build() {
        int dataStart = HEADER_SIZE + programs.size() * PROGRAM_HEADER_SIZE;
        int total = dataStart + programs.stream().mapToInt(p -> p.data().length).sum();
        ByteBuffer buffer = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) elfClass, (byte) dataEncoding, 1, 0});
        buffer.position(16);
        buffer.putShort((short) type).putShort((short) machine).putInt(1);
        buffer.putLong(entry).putLong(HEADER_SIZE).putLong(0);
        buffer.putInt(0).putShort((short) HEADER_SIZE).putShort((short) PROGRAM_HEADER_SIZE)
                .putShort((short) programs.size()).putShort((short) 64).putShort((short) 0).putShort((short) 0);
        long offset = dataStart;
        for (Program program : programs) {
            long fileOffset = program.offsetOverride() != null ? program.offsetOverride() : offset;
            buffer.putInt(program.type()).putInt(5).putLong(fileOffset).putLong(program.paddr()).putLong(program.paddr())
                    .putLong(program.data().length).putLong(program.memorySize()).putLong(0x1000);
            offset += program.data().length;
        }
        for (Program program : programs) {
            buffer.put(program.data());
        }
        return buffer.array();
    }

    public Path writeTo(Path directory) throws IOException {
        return write(directory, build());
    }

    static Path write(Path directory, byte[] bytes) throws IOException {
        Path file = Files.createTempFile(directory, "image", ".elf");
        Files.write(file, bytes);
        return file;
    }
}
