package dev.machina.cpu.state;

/**
 * The SSE register file: XMM0-15 as pairs of quadwords and MXCSR. A further register past the
 * sixteen architectural ones holds a 128-bit memory operand once read, so the families treat
 * register and memory sources alike without allocating.
 */
public final class XmmRegisters {
    /** The register that holds a memory operand staged by the executor; not architectural. */
    public static final int STAGED = 16;

    /** MXCSR exception flags (IE, DE, ZE, OE, UE, PE), in the positions the x87 status word uses too. */
    public static final int FLAGS = 0x3F;
    public static final int DENORMALS_ARE_ZERO = 1 << 6;
    /** The exception masks, the flags shifted left by this. */
    public static final int MASK_SHIFT = 7;
    public static final int ROUNDING_SHIFT = 13;
    public static final int FLUSH_TO_ZERO = 1 << 15;
    /** The MXCSR bits this core implements (DAZ included); setting any other raises #GP. */
    public static final int MXCSR_MASK = 0xFFFF;
    /** MXCSR at power-up and after FXRSTOR of a fresh image: all exceptions masked, round to nearest. */
    public static final int MXCSR_RESET = 0x1F80;

    /** Register n's low quadword is at 2n, its high quadword at 2n + 1. */
    public final long[] xmm = new long[2 * (STAGED + 1)];
    public int mxcsr = MXCSR_RESET;

    public long low(int register) {
        return xmm[2 * register];
    }

    public long high(int register) {
        return xmm[2 * register + 1];
    }

    public void set(int register, long low, long high) {
        xmm[2 * register] = low;
        xmm[2 * register + 1] = high;
    }
}
