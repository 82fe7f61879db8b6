package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.XmmRegisters;
import dev.machina.hypervisor.x86.ControlRegisters;

/**
 * SSE and SSE2 floating-point arithmetic on packed and scalar singles and doubles: ADD, SUB, MUL,
 * DIV, MIN, MAX, SQRT, the CMP predicates, COMIS/UCOMIS and the reciprocal estimates. Each lane
 * goes through {@link SoftFloat} under MXCSR (rounding, DAZ, FTZ); the raised flags are added
 * to MXCSR, and if any is unmasked nothing is written and #XM (or #UD without
 * CR4.OSXMMEXCPT) is raised.
 *
 * <p>The argument is {@link #argument(int, int, boolean)}: the operation, the format and whether
 * the instruction is packed; a scalar one changes the low lane only.
 */
public final class SseFloatingPoint {
    public static final int ADD = 0;
    public static final int SUBTRACT = 1;
    public static final int MULTIPLY = 2;
    public static final int DIVIDE = 3;
    public static final int MINIMUM = 4;
    public static final int MAXIMUM = 5;
    public static final int SQUARE_ROOT = 6;
    public static final int COMPARE = 7;
    public static final int RECIPROCAL = 8;
    public static final int RECIPROCAL_SQUARE_ROOT = 9;

    /** COMISS/UCOMISS argument bit: signal on quiet NaNs too. */
    public static final int SIGNALING = 1 << 6;

    private static final int PACKED = 1 << 5;
    private static final int SINGLE_INDEFINITE = 0xFFC0_0000;

    private SseFloatingPoint() {
    }

    public static int argument(int operation, int format, boolean packed) {
        return operation | format << 4 | (packed ? PACKED : 0);
    }

    /** The arithmetic instructions, and CMPPS & co. (operation COMPARE, the predicate in the immediate). */
    public static void arithmetic(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int op = i.argument() & 0xF;
        int format = (i.argument() >> 4) & 1;
        boolean packed = (i.argument() & PACKED) != 0;
        long sourceLow;
        long sourceHigh;
        if (packed) {
            int s = VectorOperands.source(cpu, i);
            sourceLow = x.low(s);
            sourceHigh = x.high(s);
        } else {
            sourceLow = VectorOperands.sourceLow(cpu, i, format == SoftFloat.SINGLE ? 4 : 8);
            sourceHigh = 0;
        }
        int d = i.reg();
        int predicate = (int) i.immediate() & 7;
        SoftFloat f = cpu.floatingPoint();
        f.beginSse(x.mxcsr);
        long low = chunk(f, op, format, x.low(d), sourceLow, packed, predicate);
        long high = packed ? chunk(f, op, format, x.high(d), sourceHigh, true, predicate) : x.high(d);
        raiseUnmasked(cpu, f);
        x.set(d, low, high);
    }

    /** One 64-bit chunk: one double, or two singles (only the low one unless {@code whole}). */
    private static long chunk(SoftFloat f, int op, int format, long a, long b, boolean whole, int predicate) {
        if (format == SoftFloat.DOUBLE) {
            return lane(f, op, format, a, b, predicate);
        }
        long low = lane(f, op, format, a & 0xFFFF_FFFFL, b & 0xFFFF_FFFFL, predicate) & 0xFFFF_FFFFL;
        long high = whole ? lane(f, op, format, a >>> 32, b >>> 32, predicate) : a >>> 32;
        return low | high << 32;
    }

    private static long lane(SoftFloat f, int op, int format, long a, long b, int predicate) {
        switch (op) {
            case SQUARE_ROOT -> {
                f.load(0, format, b);
                f.squareRoot();
                return f.store(format);
            }
            case RECIPROCAL, RECIPROCAL_SQUARE_ROOT -> {
                return estimate(op, (int) b) & 0xFFFF_FFFFL;
            }
            default -> {
                f.load(0, format, a);
                f.load(1, format, b);
            }
        }
        return switch (op) {
            case ADD -> {
                f.add();
                yield f.store(format);
            }
            case SUBTRACT -> {
                f.subtract();
                yield f.store(format);
            }
            case MULTIPLY -> {
                f.multiply();
                yield f.store(format);
            }
            case DIVIDE -> {
                f.divide();
                yield f.store(format);
            }
            // Not IEEE minNum/maxNum: a NaN anywhere, or equal values (±0), give the source.
            case MINIMUM -> asRead(f, format, f.compare(true) == SoftFloat.LESS ? 0 : 1, a, b);
            case MAXIMUM -> asRead(f, format, f.compare(true) == SoftFloat.GREATER ? 0 : 1, a, b);
            default -> predicateHolds(predicate, f) ? (format == SoftFloat.DOUBLE ? -1L : 0xFFFF_FFFFL) : 0;
        };
    }

    /** The operand MIN or MAX returns, as the unit read it: under DAZ a denormal is a zero of its sign. */
    private static long asRead(SoftFloat f, int format, int which, long a, long b) {
        long bits = which == 0 ? a : b;
        long sign = format == SoftFloat.DOUBLE ? 1L << 63 : 1L << 31;
        return f.isZero(which) ? bits & sign : bits;
    }

    /** CMPPS predicates 0-7: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD; LT, LE and their negations signal on QNaNs. */
    private static boolean predicateHolds(int predicate, SoftFloat f) {
        boolean signaling = (predicate & 3) == 1 || (predicate & 3) == 2;
        int order = f.compare(signaling);
        boolean holds = switch (predicate & 3) {
            case 0 -> order == SoftFloat.EQUAL;
            case 1 -> order == SoftFloat.LESS;
            case 2 -> order == SoftFloat.LESS || order == SoftFloat.EQUAL;
            default -> order == SoftFloat.UNORDERED;
        };
        return predicate < 4 ? holds : !holds;
    }

    /**
     * RCPPS and RSQRTPS: the hardware gives 12-bit estimates; these are the correctly rounded
     * values, well inside the architected error. As on hardware they raise nothing, denormal
     * operands count as zeros and denormal results are flushed.
     */
    private static int estimate(int op, int bits) {
        float v = Float.intBitsToFloat(bits);
        if (Float.isNaN(v)) {
            return bits | 0x40_0000;
        }
        if (Math.abs(v) < Float.MIN_NORMAL) {
            v = Math.copySign(0f, v);
        }
        float r;
        if (op == RECIPROCAL) {
            r = 1f / v;
        } else if (v < 0) {
            return SINGLE_INDEFINITE;
        } else {
            r = v == 0 ? Math.copySign(Float.POSITIVE_INFINITY, v) : (float) (1.0 / Math.sqrt(v));
        }
        if (Math.abs(r) < Float.MIN_NORMAL) {
            r = Math.copySign(0f, r);
        }
        return Float.floatToRawIntBits(r);
    }

    /** COMISS, UCOMISS, COMISD, UCOMISD: ZF PF CF as the x87's FCOMI; OF SF AF cleared. */
    public static void compareToFlags(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int format = (i.argument() >> 4) & 1;
        boolean single = format == SoftFloat.SINGLE;
        long b = VectorOperands.sourceLow(cpu, i, single ? 4 : 8);
        long a = single ? x.low(i.reg()) & 0xFFFF_FFFFL : x.low(i.reg());
        SoftFloat f = cpu.floatingPoint();
        f.beginSse(x.mxcsr);
        f.load(0, format, a);
        f.load(1, format, b);
        int order = f.compare((i.argument() & SIGNALING) != 0);
        raiseUnmasked(cpu, f);
        long flags = switch (order) {
            case SoftFloat.LESS -> Flags.CF;
            case SoftFloat.EQUAL -> Flags.ZF;
            case SoftFloat.UNORDERED -> Flags.ZF | Flags.PF | Flags.CF;
            default -> 0;
        };
        cpu.state.flags.setArithmetic(flags);
    }

    /**
     * Adds the instruction's flags to MXCSR; an unmasked one raises #XM, or #UD when the OS has
     * not set CR4.OSXMMEXCPT, before any result is written.
     */
    static void raiseUnmasked(Processor cpu, SoftFloat f) {
        XmmRegisters x = cpu.state.sse;
        int raised = f.flags();
        x.mxcsr |= raised;
        if ((raised & ~(x.mxcsr >> XmmRegisters.MASK_SHIFT) & XmmRegisters.FLAGS) != 0) {
            throw (cpu.state.cr4 & ControlRegisters.CR4_OSXMMEXCPT) != 0 ? CpuException.of(Vector.XM)
                    : CpuException.invalidOpcode();
        }
    }
}
