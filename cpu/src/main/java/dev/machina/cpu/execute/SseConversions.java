package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.X87Registers;
import dev.machina.cpu.state.XmmRegisters;

/**
 * The SSE and SSE2 conversions between doubleword integers, singles and doubles, packed and
 * scalar, with XMM, MMX or general registers: CVTPS2PD, CVTPD2PS, CVTDQ2PS, CVT(T)PS2DQ,
 * CVTDQ2PD, CVT(T)PD2DQ, CVTSS2SD, CVTSD2SS, CVTPI2PS, CVT(T)PS2PI, CVTPI2PD, CVT(T)PD2PI,
 * CVTSI2SS/SD and CVT(T)SS2SI/SD2SI. Rounding is MXCSR's, or toward zero for the truncating
 * forms; NaN and out-of-range conversions to integers give the "integer indefinite" (the most
 * negative value) with IE.
 *
 * <p>The lane conversions are described by {@link #lanes}: source and destination types, the
 * number of lanes, and where the operands live.
 */
public final class SseConversions {
    public static final int INTEGER = 0;
    public static final int SINGLE = 1;
    public static final int DOUBLE = 2;

    public static final int TRUNCATE = 1 << 6;
    public static final int MMX_SOURCE = 1 << 7;
    public static final int MMX_DESTINATION = 1 << 8;
    /** The destination's bits past the converted lanes are kept (scalar forms, CVTPI2PS); else cleared. */
    public static final int MERGE = 1 << 9;

    private SseConversions() {
    }

    /** A lane conversion's argument: {@code count} lanes of type {@code from} to {@code to}, with flags. */
    public static int lanes(int from, int to, int count, int flags) {
        return from | to << 2 | (count - 1) << 4 | flags;
    }

    private static int format(int type) {
        return type == SINGLE ? SoftFloat.SINGLE : SoftFloat.DOUBLE;
    }

    private static int bytes(int type) {
        return type == DOUBLE ? 8 : 4;
    }

    /** The lane conversions (every form but those with a general register). */
    public static void convert(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        X87Registers mmx = cpu.state.x87;
        int a = i.argument();
        int from = a & 3;
        int to = (a >> 2) & 3;
        int count = ((a >> 4) & 3) + 1;
        int fromBytes = bytes(from);
        int toBytes = bytes(to);
        int size = count * fromBytes;
        long sourceLow;
        long sourceHigh = 0;
        if ((a & MMX_SOURCE) != 0 && !i.memory()) {
            sourceLow = mmx.mmx(i.rm());
        } else if (size == 16) {
            int s = VectorOperands.source(cpu, i);
            sourceLow = x.low(s);
            sourceHigh = x.high(s);
        } else {
            sourceLow = VectorOperands.sourceLow(cpu, i, size);
        }
        SoftFloat f = cpu.floatingPoint();
        f.beginSse(x.mxcsr);
        if ((a & TRUNCATE) != 0) {
            f.setRounding(SoftFloat.TOWARD_ZERO);
        }
        long low = 0;
        long high = 0;
        for (int k = 0; k < count; k++) {
            int at = k * fromBytes;
            long element = at < 8 ? sourceLow : sourceHigh;
            if (fromBytes == 4) {
                element = (element >>> (8 * (at & 7))) & 0xFFFF_FFFFL;
            }
            long converted = convertOne(f, from, to, element);
            int place = k * toBytes;
            long placed = (toBytes == 4 ? converted & 0xFFFF_FFFFL : converted) << (8 * (place & 7));
            if (place < 8) {
                low |= placed;
            } else {
                high |= placed;
            }
        }
        SseFloatingPoint.raiseUnmasked(cpu, f);
        if ((a & MMX_DESTINATION) != 0) {
            mmx.setMmx(i.reg(), low);
            return;
        }
        int written = count * toBytes;
        if ((a & MERGE) != 0 && written < 16) {
            long keep = written >= 8 ? 0 : -1L << (8 * written);
            low |= x.low(i.reg()) & keep;
            high = x.high(i.reg());
        }
        x.set(i.reg(), low, high);
    }

    private static long convertOne(SoftFloat f, int from, int to, long element) {
        if (from == INTEGER) {
            f.loadInteger(0, (int) element);
            f.passThrough();
            return f.store(format(to));
        }
        f.load(0, format(from), element);
        if (to == INTEGER) {
            // Conversions to integers report no denormal operands.
            f.clearDenormal();
            return f.toInteger(32);
        }
        f.passThrough();
        return f.store(format(to));
    }

    /** CVTSI2SS and CVTSI2SD (argument: the destination type) from r/m32 or r/m64 by REX.W. */
    public static void fromInteger(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        long value = Arithmetic.signExtend(VectorOperands.integerSource(cpu, i, i.operandSize()), i.operandSize());
        int format = format(i.argument() & 3);
        SoftFloat f = cpu.floatingPoint();
        f.beginSse(x.mxcsr);
        f.loadInteger(0, value);
        f.passThrough();
        long result = f.store(format);
        SseFloatingPoint.raiseUnmasked(cpu, f);
        long low = format == SoftFloat.SINGLE ? (x.low(i.reg()) & ~0xFFFF_FFFFL) | result : result;
        x.xmm[2 * i.reg()] = low;
    }

    /** CVT(T)SS2SI and CVT(T)SD2SI (argument: the source type, maybe TRUNCATE) to r32 or r64 by REX.W. */
    public static void toInteger(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int format = format(i.argument() & 3);
        long source = VectorOperands.sourceLow(cpu, i, format == SoftFloat.SINGLE ? 4 : 8);
        SoftFloat f = cpu.floatingPoint();
        f.beginSse(x.mxcsr);
        if ((i.argument() & TRUNCATE) != 0) {
            f.setRounding(SoftFloat.TOWARD_ZERO);
        }
        f.load(0, format, source);
        f.clearDenormal();
        long value = f.toInteger(i.operandSize() * 8);
        SseFloatingPoint.raiseUnmasked(cpu, f);
        cpu.writeReg(i, value);
    }
}
