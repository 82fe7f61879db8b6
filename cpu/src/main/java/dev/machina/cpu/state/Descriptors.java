package dev.machina.cpu.state;

/** Field extraction from legacy 8-byte segment and gate descriptors. */
public final class Descriptors {
    public static final int PRESENT = 1 << 7;
    public static final int SYSTEM_TSS_AVAILABLE = 9;
    public static final int SYSTEM_TSS_BUSY = 11;
    public static final int SYSTEM_LDT = 2;
    public static final int GATE_INTERRUPT = 14;
    public static final int GATE_TRAP = 15;
    public static final int GATE_INTERRUPT_16 = 6;
    public static final int GATE_TRAP_16 = 7;

    private Descriptors() {
    }

    public static long base(long descriptor) {
        return ((descriptor >>> 16) & 0xFF_FFFFL) | ((descriptor >>> 32) & 0xFF00_0000L);
    }

    /** The limit in bytes, with the granularity bit applied. */
    public static int limit(long descriptor) {
        int raw = (int) ((descriptor & 0xFFFF) | ((descriptor >>> 32) & 0xF_0000));
        return (descriptor & (1L << 55)) != 0 ? (raw << 12) | 0xFFF : raw;
    }

    /** The attribute bits in VMX layout: type, S, DPL, P (bits 0-7) and AVL, L, D/B, G (12-15). */
    public static int attributes(long descriptor) {
        return (int) ((descriptor >>> 40) & 0xFF) | (int) ((descriptor >>> 40) & 0xF000);
    }

    public static int type(long descriptor) {
        return (int) (descriptor >>> 40) & 0xF;
    }

    public static int dpl(long descriptor) {
        return (int) (descriptor >>> 45) & 3;
    }

    public static boolean present(long descriptor) {
        return (descriptor & (1L << 47)) != 0;
    }

    /** Whether this is a code or data descriptor (S set) rather than a system one. */
    public static boolean codeOrData(long descriptor) {
        return (descriptor & (1L << 44)) != 0;
    }

    public static boolean code(long descriptor) {
        return codeOrData(descriptor) && (descriptor & (1L << 43)) != 0;
    }

    /** A gate's target offset (low 32 bits; a 64-bit gate adds its second quadword's low half). */
    public static long gateOffset(long descriptor) {
        return (descriptor & 0xFFFF) | ((descriptor >>> 32) & 0xFFFF_0000L);
    }

    public static int gateSelector(long descriptor) {
        return (int) (descriptor >>> 16) & 0xFFFF;
    }
}
