package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.X87Registers;

/**
 * F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS and FSINCOS. A limit of this core: they
 * compute with Java's {@link Math} in double precision (53 significand bits, not the x87's 64),
 * the operands rounded to double first, and always report an inexact result. Special operands
 * (NaNs, infinities, zeros, out-of-domain arguments) follow the SDM.
 */
public final class X87Transcendentals {
    /** FSIN, FCOS, FSINCOS and FPTAN leave operands of magnitude 2^63 and more alone, with C2 set. */
    private static final double REDUCTION_LIMIT = 0x1p63;
    private static final double LN2 = Math.log(2);

    public static final int SINE = 0;
    public static final int COSINE = 1;

    private X87Transcendentals() {
    }

    /** F2XM1: 2^ST(0) - 1, for ST(0) in [-1, 1]. */
    public static void exponentMinusOne(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = top(cpu, f);
        if (s == null || special(s, f)) {
            return;
        }
        finish(s, f, f.physical(0), Math.expm1(asDouble(s) * LN2));
    }

    /** FYL2X: ST(1) * log2(ST(0)), popped into ST(1). */
    public static void logarithm(Processor cpu, Instruction i) {
        logarithm(cpu, false);
    }

    /** FYL2XP1: ST(1) * log2(ST(0) + 1), popped into ST(1). */
    public static void logarithmOfOnePlus(Processor cpu, Instruction i) {
        logarithm(cpu, true);
    }

    private static void logarithm(Processor cpu, boolean plusOne) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTopTwo(cpu, f, 1, true);
        if (s == null) {
            return;
        }
        int target = f.physical(1);
        if (nans(s, f, target)) {
            return;
        }
        double x = asDouble(s, 0);
        double y = asDouble(s, 1);
        double log = plusOne ? Math.log1p(x) / LN2 : Math.log(x) / LN2;
        if (x < (plusOne ? -1 : 0) || (log == 0 && Double.isInfinite(y)) || (Double.isInfinite(log) && y == 0)) {
            s.setDefaultNan();
            s.raise(SoftFloat.INVALID);
        } else {
            if (!plusOne && x == 0) {
                s.raise(SoftFloat.DIVIDE_BY_ZERO);
            }
            s.setResult(y * log);
            s.raise(SoftFloat.INEXACT);
        }
        if (X87Stack.storeResult(s, f, target, 64)) {
            X87Stack.pop(f);
        }
    }

    /** FPATAN: atan2(ST(1), ST(0)), popped into ST(1). */
    public static void arctangent(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTopTwo(cpu, f, 1, true);
        if (s == null) {
            return;
        }
        int target = f.physical(1);
        if (nans(s, f, target)) {
            return;
        }
        finishTwo(s, f, target, Math.atan2(asDouble(s, 1), asDouble(s, 0)));
    }

    /** FSIN (argument SINE) and FCOS (COSINE). */
    public static void trigonometric(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = top(cpu, f);
        if (s == null || special(s, f) || outOfRange(s, f)) {
            return;
        }
        double x = asDouble(s);
        finish(s, f, f.physical(0), X87Stack.extra(i) == SINE ? Math.sin(x) : Math.cos(x));
    }

    /** FSINCOS: ST(0) becomes the sine and the cosine is pushed. */
    public static void sineAndCosine(Processor cpu, Instruction i) {
        pushingTrigonometric(cpu, true);
    }

    /** FPTAN: ST(0) becomes the tangent and 1.0 is pushed. */
    public static void tangent(Processor cpu, Instruction i) {
        pushingTrigonometric(cpu, false);
    }

    private static void pushingTrigonometric(Processor cpu, boolean sineAndCosine) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = top(cpu, f);
        if (s == null) {
            return;
        }
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        int top = f.physical(0);
        if (s.isNan(0) || s.isUnsupported(0) || s.isInfinite(0)) {
            if (s.isInfinite(0)) {
                s.setDefaultNan();
                s.raise(SoftFloat.INVALID);
            } else {
                s.passThrough();
            }
            long nan = s.store(SoftFloat.EXTENDED);
            int signExponent = s.storedSignExponent();
            if (X87Stack.commit(f, s, false)) {
                X87Stack.write(f, top, signExponent, nan);
                X87Stack.push(f, signExponent, nan);
            }
            return;
        }
        if (outOfRange(s, f)) {
            return;
        }
        double x = asDouble(s);
        double first = sineAndCosine ? Math.sin(x) : Math.tan(x);
        double pushed = sineAndCosine ? Math.cos(x) : 1.0;
        s.setResult(first);
        long firstBits = s.store(SoftFloat.EXTENDED);
        int firstSignExponent = s.storedSignExponent();
        s.setResult(pushed);
        long pushedBits = s.store(SoftFloat.EXTENDED);
        int pushedSignExponent = s.storedSignExponent();
        s.raise(SoftFloat.INEXACT);
        if (X87Stack.commit(f, s, false)) {
            X87Stack.write(f, top, firstSignExponent, firstBits);
            X87Stack.push(f, pushedSignExponent, pushedBits);
        }
    }

    // ---- shared steps ---------------------------------------------------------------------------

    /** ST(0) in latch A, C1 and C2 cleared, or null after an underflow. */
    private static SoftFloat top(Processor cpu, X87Registers f) {
        SoftFloat s = X87Stack.loadTop(cpu, f);
        if (s != null) {
            f.status &= ~(X87Registers.C1 | X87Registers.C2);
        }
        return s;
    }

    /** A NaN, unsupported or (for the one-operand functions) infinite ST(0) gives a NaN; true if handled. */
    private static boolean special(SoftFloat s, X87Registers f) {
        if (s.isNan(0) || s.isUnsupported(0)) {
            s.passThrough();
        } else if (s.isInfinite(0)) {
            s.setDefaultNan();
            s.raise(SoftFloat.INVALID);
        } else {
            return false;
        }
        X87Stack.storeResult(s, f, f.physical(0), 64);
        return true;
    }

    /** Two NaN-able operands: SoftFloat's propagation rules, through an addition. */
    private static boolean nans(SoftFloat s, X87Registers f, int target) {
        if (!s.isNan(0) && !s.isNan(1) && !s.isUnsupported(0) && !s.isUnsupported(1)) {
            return false;
        }
        s.add();
        if (X87Stack.storeResult(s, f, target, 64)) {
            X87Stack.pop(f);
        }
        return true;
    }

    private static boolean outOfRange(SoftFloat s, X87Registers f) {
        if (Math.abs(asDouble(s)) < REDUCTION_LIMIT) {
            return false;
        }
        f.status |= X87Registers.C2;
        return true;
    }

    private static double asDouble(SoftFloat s) {
        return asDouble(s, 0);
    }

    /** Latch {@code which} rounded to the nearest double, without disturbing the instruction's flags. */
    private static double asDouble(SoftFloat s, int which) {
        return s.peekDouble(which);
    }

    private static void finish(SoftFloat s, X87Registers f, int target, double value) {
        s.setResult(value);
        s.raise(SoftFloat.INEXACT);
        X87Stack.storeResult(s, f, target, 64);
    }

    private static void finishTwo(SoftFloat s, X87Registers f, int target, double value) {
        s.setResult(value);
        s.raise(SoftFloat.INEXACT);
        if (X87Stack.storeResult(s, f, target, 64)) {
            X87Stack.pop(f);
        }
    }
}
