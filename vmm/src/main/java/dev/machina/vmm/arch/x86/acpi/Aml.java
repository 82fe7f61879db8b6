package dev.machina.vmm.arch.x86.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Encoders for the few ACPI Machine Language terms Machina's DSDT needs (ACPI 6.5, chapter 20):
 * names, integers, packages, buffers, scopes, devices and EISA ids, and the resource descriptors
 * of chapter 6.4 its devices' {@code _CRS} use. Each returns the term's bytes;
 * {@link #terms} concatenates a term list.
 */
public final class Aml {
    private static final int ZERO_OP = 0x00;
    private static final int ONE_OP = 0x01;
    private static final int NAME_OP = 0x08;
    private static final int BYTE_PREFIX = 0x0A;
    private static final int WORD_PREFIX = 0x0B;
    private static final int DWORD_PREFIX = 0x0C;
    private static final int QWORD_PREFIX = 0x0E;
    private static final int SCOPE_OP = 0x10;
    private static final int BUFFER_OP = 0x11;
    private static final int PACKAGE_OP = 0x12;
    private static final int EXT_OP_PREFIX = 0x5B;
    private static final int DEVICE_OP = 0x82;
    private static final int ROOT_CHAR = '\\';
    private static final int IO_PORT_DESCRIPTOR = 0x47;
    private static final int DECODE_16 = 0x01;
    private static final int IRQ_NO_FLAGS_DESCRIPTOR = 0x22;
    private static final int END_TAG = 0x79;
    private static final int MEMORY32_FIXED_DESCRIPTOR = 0x86;
    private static final int DWORD_ADDRESS_DESCRIPTOR = 0x87;
    private static final int WORD_ADDRESS_DESCRIPTOR = 0x88;
    private static final int MEMORY_RANGE = 0;
    private static final int IO_RANGE = 1;
    private static final int BUS_NUMBER_RANGE = 2;
    /** Address space flags: a producer (a bridge's window) whose minimum and maximum are fixed, positive decode. */
    private static final int PRODUCER_FIXED = 0x0C;
    private static final int IO_ENTIRE_RANGE = 0x03;
    private static final int MEMORY_READ_WRITE = 0x01;

    private Aml() {
    }

    /** {@code Name(name, value)}. */
    public static byte[] name(String name, byte[] value) {
        return terms(new byte[] {NAME_OP}, nameString(name), value);
    }

    /** {@code Scope(name) { terms }}. */
    public static byte[] scope(String name, byte[]... terms) {
        return terms(new byte[] {SCOPE_OP}, withPackageLength(terms(nameString(name), terms(terms))));
    }

    /** {@code Device(name) { terms }}. */
    public static byte[] device(String name, byte[]... terms) {
        return terms(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, withPackageLength(terms(nameString(name), terms(terms))));
    }

    /** {@code Package() { elements }}. */
    public static byte[] packageOf(byte[]... elements) {
        if (elements.length > 0xFF) {
            throw new IllegalArgumentException("a Package holds at most 255 elements");
        }
        return terms(new byte[] {PACKAGE_OP}, withPackageLength(terms(new byte[] {(byte) elements.length}, terms(elements))));
    }

    /** {@code Buffer() { bytes }}. */
    public static byte[] buffer(byte[] bytes) {
        return terms(new byte[] {BUFFER_OP}, withPackageLength(terms(integer(bytes.length), bytes)));
    }

    /**
     * {@code ResourceTemplate() { descriptors }}: a buffer of resource descriptors closed by an
     * end tag whose checksum byte is zero ("treat as valid").
     */
    public static byte[] resourceTemplate(byte[]... descriptors) {
        return buffer(terms(terms(descriptors), new byte[] {END_TAG, 0}));
    }

    /** {@code IO(Decode16, base, base, 1, length)}: a fixed range of x86 ports. */
    public static byte[] ioPorts(int base, int length) {
        return new byte[] {IO_PORT_DESCRIPTOR, DECODE_16, (byte) base, (byte) (base >>> 8),
                (byte) base, (byte) (base >>> 8), 1, (byte) length};
    }

    /** {@code IRQNoFlags() { irq }}: an ISA interrupt, edge-triggered, active high. */
    public static byte[] irq(int irq) {
        int mask = 1 << irq;
        return new byte[] {IRQ_NO_FLAGS_DESCRIPTOR, (byte) mask, (byte) (mask >>> 8)};
    }

    /** {@code Memory32Fixed(ReadWrite, base, length)}: a fixed range of memory the device decodes. */
    public static byte[] memory32Fixed(long base, long length) {
        return littleEndianFields(MEMORY32_FIXED_DESCRIPTOR, 2, 9, 1, MEMORY_READ_WRITE, 4, base, 4, length);
    }

    /** {@code WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, first, last, 0, count)}. */
    public static byte[] busNumbers(int first, int last) {
        return wordAddressSpace(BUS_NUMBER_RANGE, 0, first, last);
    }

    /** {@code WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, first, last, 0, count)}: a bridge's port window. */
    public static byte[] ioWindow(int first, int last) {
        return wordAddressSpace(IO_RANGE, IO_ENTIRE_RANGE, first, last);
    }

    /** {@code DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}: a bridge's memory window. */
    public static byte[] memoryWindow(long first, long last) {
        return littleEndianFields(DWORD_ADDRESS_DESCRIPTOR, 2, 23, 1, MEMORY_RANGE, 1, PRODUCER_FIXED, 1, MEMORY_READ_WRITE,
                4, 0, 4, first, 4, last, 4, 0, 4, last - first + 1);
    }

    private static byte[] wordAddressSpace(int type, int typeFlags, int first, int last) {
        return littleEndianFields(WORD_ADDRESS_DESCRIPTOR, 2, 13, 1, type, 1, PRODUCER_FIXED, 1, typeFlags,
                2, 0, 2, first, 2, last, 2, 0, 2, last - first + 1);
    }

    /** A large resource descriptor: its tag byte, then (size, value) pairs, little-endian. */
    private static byte[] littleEndianFields(int tag, long... sizesAndValues) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        for (int i = 0; i < sizesAndValues.length; i += 2) {
            for (int b = 0; b < sizesAndValues[i]; b++) {
                out.write((int) (sizesAndValues[i + 1] >>> (8 * b)));
            }
        }
        return out.toByteArray();
    }

    /** An integer constant in its shortest encoding. */
    public static byte[] integer(long value) {
        if (value == 0) {
            return new byte[] {ZERO_OP};
        } else if (value == 1) {
            return new byte[] {ONE_OP};
        } else if (value >= 0 && value <= 0xFF) {
            return new byte[] {BYTE_PREFIX, (byte) value};
        } else if (value >= 0 && value <= 0xFFFF) {
            return littleEndian(WORD_PREFIX, value, 2);
        } else if (value >= 0 && value <= 0xFFFF_FFFFL) {
            return littleEndian(DWORD_PREFIX, value, 4);
        }
        return littleEndian(QWORD_PREFIX, value, 8);
    }

    /** {@code EisaId("PNP0501")}: three letters and four hex digits compressed into a DWord. */
    public static byte[] eisaId(String id) {
        if (!id.matches("[A-Z]{3}[0-9A-F]{4}")) {
            throw new IllegalArgumentException("not an EISA id: " + id);
        }
        int vendor = ((id.charAt(0) - 0x40) << 10) | ((id.charAt(1) - 0x40) << 5) | (id.charAt(2) - 0x40);
        int product = Integer.parseInt(id.substring(3), 16);
        // The id is stored big-endian: vendor bytes first, then the product bytes.
        long value = Integer.toUnsignedLong(Integer.reverseBytes((vendor << 16) | product));
        return littleEndian(DWORD_PREFIX, value, 4);
    }

    /** The concatenation of {@code terms}. */
    public static byte[] terms(byte[]... terms) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] term : terms) {
            out.writeBytes(term);
        }
        return out.toByteArray();
    }

    /**
     * A NameString: an optional root prefix and one NameSeg of up to four characters, padded
     * with underscores ("_S5" → "_S5_").
     */
    static byte[] nameString(String name) {
        boolean rooted = name.startsWith("\\");
        String segment = rooted ? name.substring(1) : name;
        if (!segment.matches("[A-Z_][A-Z0-9_]{0,3}")) {
            throw new IllegalArgumentException("not a single AML name segment: " + name);
        }
        byte[] padded = (segment + "___".substring(0, 4 - segment.length())).getBytes(StandardCharsets.US_ASCII);
        return rooted ? terms(new byte[] {ROOT_CHAR}, padded) : padded;
    }

    /**
     * {@code body} preceded by its PkgLength, which counts itself: one byte up to 63 bytes in all,
     * otherwise a lead byte (count of extra bytes in bits 6-7, low nibble in bits 0-3) and up to
     * three more bytes of length.
     */
    static byte[] withPackageLength(byte[] body) {
        for (int extraBytes = 0; extraBytes <= 3; extraBytes++) {
            int total = body.length + 1 + extraBytes;
            int limit = extraBytes == 0 ? 1 << 6 : 1 << (4 + 8 * extraBytes);
            if (total < limit) {
                byte[] length = new byte[1 + extraBytes];
                if (extraBytes == 0) {
                    length[0] = (byte) total;
                } else {
                    length[0] = (byte) ((extraBytes << 6) | (total & 0xF));
                    for (int i = 1; i <= extraBytes; i++) {
                        length[i] = (byte) (total >>> (4 + 8 * (i - 1)));
                    }
                }
                return terms(length, body);
            }
        }
        throw new IllegalArgumentException("AML package too long: " + body.length + " bytes");
    }

    private static byte[] littleEndian(int prefix, long value, int size) {
        byte[] bytes = new byte[1 + size];
        bytes[0] = (byte) prefix;
        for (int i = 0; i < size; i++) {
            bytes[1 + i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }
}
