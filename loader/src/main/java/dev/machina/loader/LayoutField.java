package dev.machina.loader;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One little-endian unsigned integer field of a boot-protocol struct, resolved once from the
 * struct's {@link GroupLayout} by name, so that code reads {@code VERSION.get(header)} rather than
 * an offset. Boot structs are packed (the Linux setup header starts at the odd offset 0x1F1), so
 * the field layouts made here have byte alignment.
 */
public record LayoutField(String name, long offset, ValueLayout layout) {

    /** The field at {@code path} (group element names, outermost first) of {@code struct}. */
    public static LayoutField of(GroupLayout struct, String... path) {
        MemoryLayout.PathElement[] elements = Arrays.stream(path)
                .map(MemoryLayout.PathElement::groupElement).toArray(MemoryLayout.PathElement[]::new);
        if (!(struct.select(elements) instanceof ValueLayout value)) {
            throw new IllegalArgumentException(String.join(".", path) + " is not an integer field");
        }
        return new LayoutField(String.join(".", path), struct.byteOffset(elements), value);
    }

    public static ValueLayout u8(String name) {
        return ValueLayout.JAVA_BYTE.withName(name);
    }

    public static ValueLayout u16(String name) {
        return ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName(name);
    }

    public static ValueLayout u32(String name) {
        return ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName(name);
    }

    public static ValueLayout u64(String name) {
        return ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN).withName(name);
    }

    /** An opaque array of {@code count} bytes: padding or a field Machina does not interpret. */
    public static MemoryLayout bytes(String name, long count) {
        return MemoryLayout.sequenceLayout(count, ValueLayout.JAVA_BYTE).withName(name);
    }

    /** The field's value in {@code struct}, zero-extended. */
    public long get(MemorySegment struct) {
        return switch (layout) {
            case ValueLayout.OfByte b -> Byte.toUnsignedLong(struct.get(b, offset));
            case ValueLayout.OfShort s -> Short.toUnsignedLong(struct.get(s, offset));
            case ValueLayout.OfInt i -> Integer.toUnsignedLong(struct.get(i, offset));
            case ValueLayout.OfLong l -> struct.get(l, offset);
            default -> throw new IllegalStateException(name + " has unsupported layout " + layout);
        };
    }

    /** Stores the low bytes of {@code value} into the field; the caller checks that it fits. */
    public void set(MemorySegment struct, long value) {
        switch (layout) {
            case ValueLayout.OfByte b -> struct.set(b, offset, (byte) value);
            case ValueLayout.OfShort s -> struct.set(s, offset, (short) value);
            case ValueLayout.OfInt i -> struct.set(i, offset, (int) value);
            case ValueLayout.OfLong l -> struct.set(l, offset, value);
            default -> throw new IllegalStateException(name + " has unsupported layout " + layout);
        }
    }
}
