package dev.machina.cpu.execute;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * The functions behind the x87 transcendental instructions, evaluated in binary on the
 * operands' exact values: series summed in fixed point with {@link #BITS} fraction bits, far
 * more than the extended format's 64, so that rounding the result is correct but for values
 * within 2^-120 of a rounding boundary. Each series is written relative to its argument
 * (sin r = r·(1 - r²/3! + ...)), so a tiny argument keeps its precision.
 */
final class PreciseMath {
    /** The fraction bits of the fixed-point sums. */
    static final int BITS = 192;
    private static final BigInteger ONE = BigInteger.ONE.shiftLeft(BITS);
    private static final BigInteger PI = fixed(
            "3.1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679");
    private static final BigInteger LN2 = fixed(
            "0.6931471805599453094172321214581765680755001343602552541206800094933936219696947156058633269964186875");
    private static final BigInteger INVERSE_LN2 = ONE.shiftLeft(BITS).divide(LN2);
    /** √2, rounded down to 64 bits: log2 takes significands above it as halves of the next power. */
    private static final Value SQRT2 = new Value(unsigned(0xB504_F333_F9DE_6484L), -63);
    /**
     * The 66-bit π/2 with which the x87 reduces the arguments of FSIN, FCOS, FSINCOS and FPTAN
     * (SDM vol. 1, 8.3.10), times 2^65: results near multiples of π differ from the true ones
     * as on hardware.
     */
    private static final BigInteger REDUCTION_HALF_PI = new BigInteger("3243F6A8885A308D3", 16);
    private static final int REDUCTION_HALF_PI_EXPONENT = -65;
    /** 1/k and 1/k! in fixed point, the coefficients of the series. */
    private static final BigInteger[] RECIPROCALS = new BigInteger[160];
    private static final BigInteger[] INVERSE_FACTORIALS = new BigInteger[80];
    private static final BigInteger[] ARCTANGENTS;

    static {
        BigInteger factorial = BigInteger.ONE;
        for (int k = 1; k < RECIPROCALS.length; k++) {
            RECIPROCALS[k] = ONE.divide(BigInteger.valueOf(k));
        }
        for (int k = 0; k < INVERSE_FACTORIALS.length; k++) {
            factorial = factorial.multiply(BigInteger.valueOf(Math.max(k, 1)));
            INVERSE_FACTORIALS[k] = ONE.divide(factorial);
        }
        ARCTANGENTS = arctangentTable();
    }

    /** A binary value: mantissa × 2^exponent. */
    record Value(BigInteger mantissa, int exponent) {
        /** ±significand × 2^(exponent − 63), a finite extended operand. */
        static Value of(boolean negative, int exponent, long significand) {
            BigInteger magnitude = unsigned(significand);
            return new Value(negative ? magnitude.negate() : magnitude, exponent - 63);
        }

        static Value ofFixed(BigInteger fixed) {
            return new Value(fixed, -BITS);
        }

        static Value ofInteger(long value) {
            return new Value(BigInteger.valueOf(value), 0);
        }

        int signum() {
            return mantissa.signum();
        }

        int compareTo(Value other) {
            int common = Math.min(exponent, other.exponent);
            return mantissa.shiftLeft(exponent - common).compareTo(other.mantissa.shiftLeft(other.exponent - common));
        }

        Value negate() {
            return new Value(mantissa.negate(), exponent);
        }

        Value abs() {
            return new Value(mantissa.abs(), exponent);
        }

        Value times(Value other) {
            return new Value(mantissa.multiply(other.mantissa), exponent + other.exponent).trimmed();
        }

        /** This divided by {@code other}, to about {@link #BITS} significant bits. */
        Value dividedBy(Value other) {
            int shift = BITS + 8 + other.mantissa.bitLength() - mantissa.bitLength();
            return new Value(mantissa.shiftLeft(Math.max(shift, 0)).divide(other.mantissa),
                    exponent - Math.max(shift, 0) - other.exponent);
        }

        Value plus(Value other) {
            int common = Math.min(exponent, other.exponent);
            return new Value(mantissa.shiftLeft(exponent - common).add(other.mantissa.shiftLeft(other.exponent - common)), common)
                    .trimmed();
        }

        /** This in fixed point (bits below 2^-BITS are dropped). */
        BigInteger fixed() {
            int shift = exponent + BITS;
            return shift >= 0 ? mantissa.shiftLeft(shift) : mantissa.shiftRight(-shift);
        }

        /** No more mantissa bits than a few beyond the precision the sums carry. */
        private Value trimmed() {
            int excess = mantissa.bitLength() - (BITS + 64);
            return excess > 0 ? new Value(mantissa.shiftRight(excess), exponent + excess) : this;
        }

        /** The exponent e with 2^e ≤ |this| < 2^(e+1). */
        int binaryExponent() {
            return exponent + mantissa.abs().bitLength() - 1;
        }
    }

    private PreciseMath() {
    }

    private static BigInteger unsigned(long value) {
        BigInteger signed = BigInteger.valueOf(value);
        return value < 0 ? signed.add(BigInteger.ONE.shiftLeft(64)) : signed;
    }

    private static BigInteger fixed(String decimal) {
        return new BigDecimal(decimal).multiply(new BigDecimal(ONE)).toBigInteger();
    }

    /**
     * Sets the result latch to nonzero {@code value}: its top 128 bits, the last one sticky.
     * The true value is transcendental, never exactly what was computed: it lies beyond the
     * computed bits, on the side {@code tailTowardZero} names when they come out exact (sin x
     * just below x for tiny x), so the rounding is inexact and C1 says which way it went, as on
     * hardware.
     */
    static void toResult(SoftFloat s, Value value, boolean tailTowardZero) {
        BigInteger magnitude = value.mantissa().abs();
        int shift = magnitude.bitLength() - 128;
        BigInteger bits = shift > 0 ? magnitude.shiftRight(shift) : magnitude.shiftLeft(-shift);
        boolean exact = shift <= 0 || magnitude.getLowestSetBit() >= shift;
        int exponent = value.binaryExponent();
        if (exact && tailTowardZero) {
            if (bits.bitCount() == 1) {
                exponent--;
                bits = BigInteger.ONE.shiftLeft(128);
            }
            bits = bits.subtract(BigInteger.ONE);
        }
        s.setResult(value.signum() < 0, exponent, bits.shiftRight(64).longValue(), bits.longValue() | 1);
    }

    /** k·π/4: the angles FPATAN gives for zeros and infinities. */
    static Value quartersOfPi(long quarters) {
        return Value.ofFixed(PI.multiply(BigInteger.valueOf(quarters)).shiftRight(2));
    }

    /** 2^x − 1 for |x| ≤ 1, as u·(1 + u/2! + u²/3! + ...) with u = x·ln 2. */
    static Value exp2MinusOne(Value x) {
        Value u = x.times(Value.ofFixed(LN2));
        return u.times(Value.ofFixed(series(u.fixed(), INVERSE_FACTORIALS, 2, 1, false)));
    }

    /** log2(x) for x > 0: the binary exponent exactly, plus log2 of the significand. */
    static Value log2(Value x) {
        int exponent = x.binaryExponent();
        Value significand = new Value(x.mantissa(), x.exponent() - exponent);
        if (significand.compareTo(SQRT2) > 0) {
            exponent++;
            significand = new Value(significand.mantissa(), significand.exponent() - 1);
        }
        Value one = Value.ofInteger(1);
        Value fraction = significand.plus(one.negate());
        if (fraction.signum() == 0) {
            return Value.ofInteger(exponent);
        }
        Value logOfSignificand = twiceArtanh(fraction.dividedBy(significand.plus(one))).times(Value.ofFixed(INVERSE_LN2));
        return exponent == 0 ? logOfSignificand : logOfSignificand.plus(Value.ofInteger(exponent));
    }

    /** log2(1 + x) for x > −1, without losing a small x to the addition. */
    static Value log2OnePlus(Value x) {
        if (x.abs().binaryExponent() >= -2) {
            return log2(x.plus(Value.ofInteger(1)));
        }
        return twiceArtanh(x.dividedBy(x.plus(Value.ofInteger(2)))).times(Value.ofFixed(INVERSE_LN2));
    }

    /** 2·artanh(t) = ln((1 + t)/(1 − t)) for |t| ≤ 0.2, as 2t·(1 + t²/3 + t⁴/5 + ...). */
    private static Value twiceArtanh(Value t) {
        return t.times(Value.ofFixed(series(t.times(t).fixed(), RECIPROCALS, 3, 2, false).shiftLeft(1)));
    }

    /**
     * 1 + Σ (±x)^j · coefficients[first + step·(j − 1)] for j = 1, 2, ... in fixed point, the
     * sign alternating when {@code alternating}, until a term vanishes: every function here is
     * its argument (or 1) times such a series, so that a tiny argument keeps its precision.
     */
    private static BigInteger series(BigInteger x, BigInteger[] coefficients, int first, int step, boolean alternating) {
        BigInteger power = ONE;
        BigInteger sum = ONE;
        for (int j = 1, n = first; ; j++, n += step) {
            power = power.multiply(x).shiftRight(BITS);
            BigInteger term = power.multiply(coefficients[n]).shiftRight(BITS);
            if (term.signum() == 0) {
                return sum;
            }
            sum = alternating && (j & 1) != 0 ? sum.subtract(term) : sum.add(term);
        }
    }

    /** atan2(y, x) for finite y and x, not both zero: the angle of (x, y) in (−π, π]. */
    static Value atan2(Value y, Value x) {
        Value ay = y.abs();
        Value ax = x.abs();
        Value angle;
        if (ax.signum() == 0) {
            angle = Value.ofFixed(PI.shiftRight(1));
        } else if (ay.compareTo(ax) <= 0) {
            angle = arctangent(ay.dividedBy(ax));
        } else {
            angle = Value.ofFixed(PI.shiftRight(1).subtract(arctangent(ax.dividedBy(ay)).fixed()));
        }
        if (x.signum() < 0) {
            angle = Value.ofFixed(PI.subtract(angle.fixed()));
        }
        return y.signum() < 0 ? angle.negate() : angle;
    }

    /**
     * atan(z) for z in [0, 1]: atan(c) + atan((z − c)/(1 + z·c)) with c the nearest sixteenth,
     * which leaves the series an argument below 1/32.
     */
    private static Value arctangent(Value z) {
        int k = z.fixed().shiftRight(BITS - 5).add(BigInteger.ONE).shiftRight(1).intValue();
        if (k == 0) {
            return arctangentSeries(z);
        }
        Value c = new Value(BigInteger.valueOf(k), -4);
        Value w = z.plus(c.negate()).dividedBy(z.times(c).plus(Value.ofInteger(1)));
        return Value.ofFixed(ARCTANGENTS[k].add(arctangentSeries(w).fixed()));
    }

    /** atan(k/16) for k in 0..16, by halving: atan(z) = 2·atan(z / (1 + √(1 + z²))). */
    private static BigInteger[] arctangentTable() {
        BigInteger[] table = new BigInteger[17];
        for (int k = 0; k <= 16; k++) {
            Value z = new Value(BigInteger.valueOf(k), -4);
            for (int i = 0; i < 3; i++) {
                BigInteger root = ONE.add(z.times(z).fixed()).shiftLeft(BITS).sqrt();
                z = z.dividedBy(Value.ofFixed(ONE.add(root)));
            }
            table[k] = arctangentSeries(z).fixed().shiftLeft(3);
        }
        return table;
    }

    /** atan(z) = z·(1 − z²/3 + z⁴/5 − ...), for |z| small enough that it converges quickly. */
    private static Value arctangentSeries(Value z) {
        return z.times(Value.ofFixed(series(z.times(z).fixed(), RECIPROCALS, 3, 2, true)));
    }

    /** sin(x), or cos(x) with {@code cosine}, for |x| < 2^63, reduced exactly by the x87's 66-bit π/2. */
    static Value sineOrCosine(Value x, boolean cosine) {
        int common = Math.min(x.exponent(), REDUCTION_HALF_PI_EXPONENT);
        BigInteger scaledX = x.mantissa().shiftLeft(x.exponent() - common);
        BigInteger halfPi = REDUCTION_HALF_PI.shiftLeft(REDUCTION_HALF_PI_EXPONENT - common);
        BigInteger[] quotient = scaledX.divideAndRemainder(halfPi);
        BigInteger quadrant = quotient[0];
        BigInteger remainder = quotient[1];
        // To the nearest multiple: |r| ≤ π/4.
        if (remainder.abs().shiftLeft(1).compareTo(halfPi) > 0) {
            quadrant = quadrant.add(BigInteger.valueOf(remainder.signum()));
            remainder = remainder.subtract(halfPi.multiply(BigInteger.valueOf(remainder.signum())));
        }
        Value r = new Value(remainder, common);
        // sin(r + q·π/2) is sin r, cos r, -sin r, -cos r by q mod 4; cos(x) is sin(x + π/2).
        int q = (quadrant.intValue() + (cosine ? 1 : 0)) & 3;
        boolean sine = (q & 1) == 0;
        // sin r = r·(1 − r²/3! + r⁴/5! − ...), cos r = 1 − r²/2! + r⁴/4! − ...
        BigInteger sum = series(r.times(r).fixed(), INVERSE_FACTORIALS, sine ? 3 : 2, 2, true);
        Value value = sine ? r.times(Value.ofFixed(sum)) : Value.ofFixed(sum);
        return q >= 2 ? value.negate() : value;
    }
}
