package dev.machina.loader.zbi;

import dev.machina.hypervisor.os.FileErrors;
import dev.machina.loader.ImageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A Zircon Boot Image: a container header, then items, each a 32-byte header and a payload padded
 * to 8 bytes (Fuchsia's {@code lib/zbi-format}). All fields are little-endian. {@link #parse}
 * checks the whole structure and every CRC32; {@link #toBytes} writes an image that Fuchsia's
 * {@code zbi} tool reads, with the CRC32 of each item that has {@link #FLAGS_CRC32}.
 *
 * @param items the items after the container header, in order
 */
public record Zbi(List<ZbiItem> items) {
    public static final int HEADER_SIZE = 32;
    public static final int ALIGNMENT = 8;
    /** The container header's {@code extra}: the low word of sha256("bootdata"). */
    public static final int CONTAINER_MAGIC = 0x868C_F7E6;
    /** Every header's {@code magic}: the low word of sha256("bootitem"). */
    public static final int ITEM_MAGIC = 0xB578_1729;
    /** Required in every header's flags. */
    public static final int FLAGS_VERSION = 0x0001_0000;
    /** The header's {@code crc32} is the CRC32 of the header (that field zero) followed by the payload. */
    public static final int FLAGS_CRC32 = 0x0002_0000;
    /** The {@code crc32} of a header without {@link #FLAGS_CRC32}. */
    public static final int NO_CRC32 = 0x4A87_E8D6;
    /** Where in a header its {@code crc32} lies, the last of its eight words. */
    private static final int CRC32_OFFSET = 28;

    public Zbi {
        items = List.copyOf(items);
    }

    /**
     * Reads and checks the image in {@code file}.
     *
     * @throws ImageException naming the file and the first thing wrong with it
     */
    public static Zbi read(Path file) {
        try {
            return parse(file, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ImageException(file, "no such file");
        } catch (IOException e) {
            throw new ImageException(file, "cannot read: " + FileErrors.reason(e));
        }
    }

    /**
     * Checks {@code bytes}, an image from {@code file}: the container header (type, magic, version
     * flag, no CRC32 flag, a length that is a multiple of 8 and within the file) and each item's
     * header (magic, version flag, a length within the container) and CRC32.
     * Bytes after the container's end are not part of the image and are ignored.
     *
     * @throws ImageException naming the file and the first thing wrong with the image
     */
    public static Zbi parse(Path file, byte[] bytes) {
        ByteBuffer image = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_SIZE) {
            throw new ImageException(file, "truncated: %d bytes, shorter than a ZBI's %d-byte container header"
                    .formatted(bytes.length, HEADER_SIZE));
        }
        Header container = Header.at(image, 0);
        if (container.type != ZbiType.CONTAINER.code() || container.extra != CONTAINER_MAGIC || container.magic != ITEM_MAGIC) {
            throw new ImageException(file, "not a ZBI: bad magic in the container header (type 0x%08x, extra 0x%08x, magic 0x%08x;"
                    .formatted(container.type, container.extra, container.magic)
                    + " a ZBI begins with type 0x%08x 'BOOT', extra 0x%08x, magic 0x%08x)"
                    .formatted(ZbiType.CONTAINER.code(), CONTAINER_MAGIC, ITEM_MAGIC));
        }
        if ((container.flags & FLAGS_VERSION) == 0) {
            throw new ImageException(file, "the container header lacks the version flag (flags 0x%08x)".formatted(container.flags));
        }
        if ((container.flags & FLAGS_CRC32) != 0) {
            throw new ImageException(file, "the container header has the CRC32 flag, which only items may have");
        }
        if (container.length % ALIGNMENT != 0) {
            throw new ImageException(file, "misaligned: the container's length (%d bytes) is not a multiple of %d"
                    .formatted(container.length, ALIGNMENT));
        }
        long end = HEADER_SIZE + container.length;
        if (end > bytes.length) {
            throw new ImageException(file, "truncated: the container header says %d bytes follow it; the file has %d"
                    .formatted(container.length, bytes.length - HEADER_SIZE));
        }
        List<ZbiItem> items = new ArrayList<>();
        for (int offset = HEADER_SIZE; offset < end; ) {
            String where = "item %d at offset 0x%x".formatted(items.size() + 1, offset);
            if (end - offset < HEADER_SIZE) {
                throw new ImageException(file, "%s: truncated header (%d bytes before the container's end)"
                        .formatted(where, end - offset));
            }
            Header header = Header.at(image, offset);
            if (header.magic != ITEM_MAGIC) {
                throw new ImageException(file, "%s: bad magic 0x%08x (an item header's is 0x%08x)"
                        .formatted(where, header.magic, ITEM_MAGIC));
            }
            where += " (" + ZbiType.name(header.type) + ")";
            if ((header.flags & FLAGS_VERSION) == 0) {
                throw new ImageException(file, "%s lacks the version flag (flags 0x%08x)".formatted(where, header.flags));
            }
            long payloadEnd = offset + HEADER_SIZE + header.length;
            if (payloadEnd > end) {
                throw new ImageException(file, "%s: its length (%d bytes) runs past the container's end at 0x%x"
                        .formatted(where, header.length, end));
            }
            // Items start at multiples of 8 and the container ends at one, so the padding fits too.
            long next = align(payloadEnd);
            byte[] payload = new byte[(int) header.length];
            image.get(offset + HEADER_SIZE, payload);
            ZbiItem item = new ZbiItem(header.type, header.extra, header.flags, payload);
            int crc32 = crc32(image, offset, payload);
            if (item.hasCrc32() && header.crc32 != crc32) {
                throw new ImageException(file, "%s: CRC32 mismatch: the header says 0x%08x, the item's is 0x%08x"
                        .formatted(where, header.crc32, crc32));
            }
            if (!item.hasCrc32() && header.crc32 != NO_CRC32) {
                throw new ImageException(file, "%s has no CRC32 flag, so its crc32 field must be 0x%08x, not 0x%08x"
                        .formatted(where, NO_CRC32, header.crc32));
            }
            items.add(item);
            offset = (int) next;
        }
        return new Zbi(items);
    }

    /** The image's size in bytes: the container header, then each item's header, payload and padding. */
    public long size() {
        long size = HEADER_SIZE;
        for (ZbiItem item : items) {
            size += HEADER_SIZE + align(item.length());
        }
        return size;
    }

    /** The image as a file holds it: container header, then each item's header, payload and padding. */
    public byte[] toBytes() {
        ByteBuffer image = ByteBuffer.allocate(Math.toIntExact(size())).order(ByteOrder.LITTLE_ENDIAN);
        putHeader(image, ZbiType.CONTAINER.code(), image.capacity() - HEADER_SIZE, CONTAINER_MAGIC, FLAGS_VERSION, NO_CRC32);
        for (ZbiItem item : items) {
            int header = image.position();
            byte[] payload = item.payload();
            putHeader(image, item.type(), item.length(), item.extra(), item.flags(), item.hasCrc32() ? 0 : NO_CRC32);
            if (item.hasCrc32()) {
                image.putInt(header + CRC32_OFFSET, crc32(image, header, payload));
            }
            image.put(payload);
            image.position((int) align(image.position()));
        }
        return image.array();
    }

    /**
     * Writes the image to {@code file}.
     *
     * @throws ImageException naming the file if it cannot be written
     */
    public void write(Path file) {
        try {
            Files.write(file, toBytes());
        } catch (IOException e) {
            throw new ImageException(file, "cannot write: " + FileErrors.reason(e));
        }
    }

    /** {@code n} rounded up to {@link #ALIGNMENT}. */
    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * What the header at {@code offset} in {@code image} holds in {@code crc32} when it has
     * {@link #FLAGS_CRC32}: the CRC32 of the header as it is (its reserved words too) with that
     * field zero, continued over the payload.
     */
    private static int crc32(ByteBuffer image, int offset, byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(image.array(), image.arrayOffset() + offset, CRC32_OFFSET);
        crc.update(new byte[Integer.BYTES]);
        crc.update(payload);
        return (int) crc.getValue();
    }

    private static void putHeader(ByteBuffer image, int type, int length, int extra, int flags, int crc32) {
        image.putInt(type).putInt(length).putInt(extra).putInt(flags).putInt(0).putInt(0).putInt(ITEM_MAGIC).putInt(crc32);
    }

    /** A header's fields that the checks read; {@code length} unsigned. */
    private record Header(int type, long length, int extra, int flags, int magic, int crc32) {
        static Header at(ByteBuffer image, int offset) {
            return new Header(image.getInt(offset), Integer.toUnsignedLong(image.getInt(offset + 4)), image.getInt(offset + 8),
                    image.getInt(offset + 12), image.getInt(offset + 24), image.getInt(offset + 28));
        }
    }
}
