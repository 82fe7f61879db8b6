package dev.machina.cpu.differential;

import java.util.ArrayList;
import java.util.List;

/**
 * The layout of the 64-bit FXSAVE image that carries the x87, MMX and SSE state of a case, and
 * which of its fields the comparison looks at. Left out: FOP, FIP and FDP (the host's are the
 * addresses of its own code, and AMD stores them only when an exception is pending), MXCSR_MASK
 * (a model constant), the six reserved bytes after each 80-bit register and the reserved and
 * software-available tail.
 */
final class FpuImage {
    static final int SIZE = 512;
    static final int CONTROL = 0;
    static final int STATUS = 2;
    static final int TAGS = 4;
    static final int MXCSR = 24;
    static final int STACK = 32;
    static final int XMM = 160;
    static final int XMM_REGISTERS = 16;

    /** FSW's condition codes, which many x87 instructions leave undefined. */
    static final int C0 = 1 << 8;
    static final int C1 = 1 << 9;
    static final int C2 = 1 << 10;
    static final int C3 = 1 << 14;
    static final int CONDITION_CODES = C0 | C1 | C2 | C3;

    /** A compared field: {@code bytes} bytes at {@code offset}. */
    private record Field(String name, int offset, int bytes) {
    }

    private static final List<Field> FIELDS = fields();

    private FpuImage() {
    }

    private static List<Field> fields() {
        List<Field> list = new ArrayList<>(List.of(new Field("fcw", CONTROL, 2), new Field("fsw", STATUS, 2),
                new Field("ftw", TAGS, 1), new Field("mxcsr", MXCSR, 4)));
        for (int i = 0; i < 8; i++) {
            list.add(new Field("st" + i, stack(i), 10));
        }
        for (int n = 0; n < XMM_REGISTERS; n++) {
            list.add(new Field("xmm" + n, xmm(n), 16));
        }
        return list;
    }

    /** Where ST(i) is: the image holds the stack in ST order, not by physical register. */
    static int stack(int i) {
        return STACK + 16 * i;
    }

    static int xmm(int n) {
        return XMM + 16 * n;
    }

    /** What differs between two images, FSW compared only under {@code statusMask}. */
    static List<String> differences(byte[] host, byte[] simulated, byte[] initial, int statusMask) {
        List<String> out = new ArrayList<>();
        for (Field field : FIELDS) {
            long mask = field.offset == STATUS ? statusMask : -1L;
            if (!equal(host, simulated, field, mask)) {
                out.add(String.format("  %s%s: host %s, java %s (initial %s)", field.name,
                        field.offset == STATUS ? String.format(" & %x", statusMask) : "",
                        text(host, field), text(simulated, field), text(initial, field)));
            }
        }
        return out;
    }

    private static boolean equal(byte[] a, byte[] b, Field field, long mask) {
        for (int i = 0; i < field.bytes; i++) {
            int byteMask = (int) (mask >>> (8 * Math.min(i, 7))) & 0xFF;
            if (((a[field.offset + i] ^ b[field.offset + i]) & byteMask) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The field as a hexadecimal number, most significant byte first. */
    private static String text(byte[] image, Field field) {
        StringBuilder text = new StringBuilder();
        for (int i = field.bytes - 1; i >= 0; i--) {
            text.append(String.format("%02x", image[field.offset + i] & 0xFF));
            if (i % 8 == 0 && i > 0) {
                text.append('_');
            }
        }
        return text.toString();
    }

    static long read(byte[] image, int offset, int bytes) {
        long value = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            value = value << 8 | (image[offset + i] & 0xFF);
        }
        return value;
    }

    static void write(byte[] image, int offset, int bytes, long value) {
        for (int i = 0; i < bytes; i++) {
            image[offset + i] = (byte) (value >>> (8 * i));
        }
    }
}
