package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.X87Registers;


/**
 * F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS and FSINCOS: special operands (NaNs,
 * infinities, zeros, out-of-domain arguments) by the SDM's tables, the rest computed by
 * {@link PreciseMath} on the exact operands and rounded once to the extended format by the
 * rounding control (C1 says whether it rounded up; PE only when the result is inexact).
 */
public final class X87Transcendentals {
    /** FSIN, FCOS, FSINCOS and FPTAN leave operands of magnitude 2^63 and more alone, with C2 set. */
    private static final int REDUCTION_LIMIT_EXPONENT = 63;

    public static final int SINE = 0;
    public static final int COSINE = 1;

    private X87Transcendentals() {
    }

    /**
     * F2XM1: 2^ST(0) - 1 for ST(0) in [-1, 1]; 2^±∞ - 1 is +∞ or -1. Outside [-1, 1] the SDM
     * leaves the result undefined; this core leaves the operand, as the AMD hosts it was
     * checked on do.
     */
    public static void exponentMinusOne(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = top(cpu, f);
        if (s == null) {
            return;
        }
        if (s.isInfinite(0)) {
            if (s.isNegative(0)) {
                s.setResult(-1.0);
            } else {
                s.passThrough();
            }
        } else if (special(s, f)) {
            return;
        } else if (s.isZero(0)) {
            s.passThrough(); // 2^±0 - 1 is that zero
        } else if (s.exponentOf(0) >= 0 && !(s.exponentOf(0) == 0 && s.significandOf(0) == Long.MIN_VALUE)) {
            s.passThrough();
            s.raise(SoftFloat.INEXACT);
        } else {
            PreciseMath.toResult(s, PreciseMath.exp2MinusOne(exact(s, 0)), false);
        }
        X87Stack.storeResult(s, f, f.physical(0), 64);
    }

    /** FYL2X: ST(1) * log2(ST(0)), popped into ST(1). */
    public static void logarithm(Processor cpu, Instruction i) {
        logarithm(cpu, false);
    }

    /** FYL2XP1: ST(1) * log2(ST(0) + 1), popped into ST(1). */
    public static void logarithmOfOnePlus(Processor cpu, Instruction i) {
        logarithm(cpu, true);
    }

    /**
     * The logarithm's cases: below its domain, 0 × ∞ either way round, and ±∞ are invalid;
     * log2(0) is -∞ with divide-by-zero; a zero or infinite factor makes a signed zero or
     * infinity; the rest is y · log2(x) rounded once.
     */
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
        PreciseMath.Value x = s.isFinite(0) && !s.isZero(0) ? exact(s, 0) : null;
        // The argument of log2 compared with 1 (its sign for the logarithm) and with 0 (its domain).
        PreciseMath.Value one = PreciseMath.Value.ofInteger(1);
        PreciseMath.Value minusOne = PreciseMath.Value.ofInteger(-1);
        boolean belowDomain = plusOne ? (x == null ? s.isInfinite(0) && s.isNegative(0) : x.compareTo(minusOne) < 0)
                : s.isNegative(0) && !s.isZero(0);
        boolean logInfinite = s.isInfinite(0) || (!plusOne && s.isZero(0)) || (plusOne && x != null && x.compareTo(minusOne) == 0);
        boolean logZero = plusOne ? s.isZero(0) : x != null && x.compareTo(one) == 0;
        boolean logNegative = plusOne ? s.isNegative(0) : s.isZero(0) || (x != null && x.compareTo(one) < 0);
        boolean yZero = s.isZero(1);
        boolean yInfinite = s.isInfinite(1);
        boolean negative = logNegative != s.isNegative(1);
        if (belowDomain || (logZero && yInfinite) || (logInfinite && yZero)) {
            s.setDefaultNan();
            s.raise(SoftFloat.INVALID);
        } else if (logInfinite || yInfinite) {
            if (!plusOne && s.isZero(0) && !yInfinite) {
                s.raise(SoftFloat.DIVIDE_BY_ZERO);
            }
            s.setInfinity(negative);
        } else if (logZero || yZero) {
            s.setZero(negative);
        } else {
            PreciseMath.Value log = plusOne ? PreciseMath.log2OnePlus(x) : PreciseMath.log2(x);
            PreciseMath.toResult(s, exact(s, 1).times(log), false);
        }
        if (X87Stack.storeResult(s, f, target, 64)) {
            X87Stack.pop(f);
        }
    }

    /**
     * FPATAN: atan2(ST(1), ST(0)), popped into ST(1); zeros and infinities give the signed
     * zeros and multiples of π/4 that C's atan2 gives.
     */
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
        boolean ordinary = s.isFinite(0) && s.isFinite(1) && !s.isZero(0) && !s.isZero(1);
        double angle = ordinary ? 0 : Math.atan2(signOnly(s, 1), signOnly(s, 0));
        if (ordinary) {
            PreciseMath.toResult(s, PreciseMath.atan2(exact(s, 1), exact(s, 0)), true);
        } else if (angle == 0) {
            s.setZero(Double.doubleToRawLongBits(angle) != 0);
        } else {
            long quarters = Math.round(angle / (Math.PI / 4));
            PreciseMath.toResult(s, PreciseMath.quartersOfPi(quarters), false);
        }
        if (X87Stack.storeResult(s, f, target, 64)) {
            X87Stack.pop(f);
        }
    }

    /** FSIN (argument SINE) and FCOS (COSINE). */
    public static void trigonometric(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = top(cpu, f);
        if (s == null || special(s, f) || outOfRange(s, f)) {
            return;
        }
        boolean sine = X87Stack.extra(i) == SINE;
        if (s.isZero(0)) {
            if (sine) {
                s.passThrough();
            } else {
                s.setResult(1.0);
            }
        } else {
            PreciseMath.toResult(s, PreciseMath.sineOrCosine(exact(s, 0), !sine), true);
        }
        X87Stack.storeResult(s, f, f.physical(0), 64);
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
        boolean negativeZero = s.isNegative(0);
        PreciseMath.Value first = null; // sin(±0) and tan(±0) are that zero
        PreciseMath.Value cosine = null; // cos(±0) and FPTAN's pushed value are exactly 1
        if (!s.isZero(0)) {
            PreciseMath.Value x = exact(s, 0);
            PreciseMath.Value sine = PreciseMath.sineOrCosine(x, false);
            PreciseMath.Value cosineOfX = PreciseMath.sineOrCosine(x, true);
            first = sineAndCosine ? sine : sine.dividedBy(cosineOfX);
            cosine = sineAndCosine ? cosineOfX : null;
        }
        if (cosine == null) {
            s.setResult(1.0);
        } else {
            PreciseMath.toResult(s, cosine, true);
        }
        long pushedBits = s.store(SoftFloat.EXTENDED);
        int pushedSignExponent = s.storedSignExponent();
        // Rounded last, so that C1 tells whether the sine or tangent was rounded up, as hardware's does.
        if (first == null) {
            s.setZero(negativeZero);
        } else {
            PreciseMath.toResult(s, first, sineAndCosine);
        }
        long firstBits = s.store(SoftFloat.EXTENDED);
        int firstSignExponent = s.storedSignExponent();
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
        if (s.isZero(0) || s.exponentOf(0) < REDUCTION_LIMIT_EXPONENT) {
            return false;
        }
        f.status |= X87Registers.C2;
        return true;
    }

    /** The exact value of finite, nonzero latch {@code which}. */
    private static PreciseMath.Value exact(SoftFloat s, int which) {
        return PreciseMath.Value.of(s.isNegative(which), s.exponentOf(which), s.significandOf(which));
    }

    /** ±0, ±1 or ±∞ for latch {@code which}: enough for atan2's table of special cases. */
    private static double signOnly(SoftFloat s, int which) {
        double magnitude = s.isZero(which) ? 0 : s.isInfinite(which) ? Double.POSITIVE_INFINITY : 1;
        return s.isNegative(which) ? -magnitude : magnitude;
    }
}
