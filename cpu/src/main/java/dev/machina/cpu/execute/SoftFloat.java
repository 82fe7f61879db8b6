package dev.machina.cpu.execute;

/**
 * IEEE 754 binary arithmetic in software, shared by the x87 and SSE families: single, double and
 * the x87's 80-bit extended format, with the rounding-control modes, the six exception flags, the
 * x87's precision control and SSE's DAZ and FTZ. Results are computed exactly (or with a sticky
 * bit) and rounded once, so every mode rounds correctly; tininess is detected after rounding,
 * as x86 does.
 *
 * <p>It works like a small datapath rather than on objects, so that an instruction allocates
 * nothing: operands are loaded into latches A (0) and B (1), an operation leaves its unrounded
 * result in the result latch, and a store rounds that to a format. One instance per core; an
 * instruction starts with {@link #beginSse} or {@link #beginX87} and reads {@link #flags()}.
 *
 * <p>A latch holds sign, class and, for finite values, a significand with its top bit set and an
 * exponent such that the value is {@code significand * 2^(exponent - 63)}. NaNs keep their
 * payload in the 80-bit layout (integer bit set, quiet bit 62).
 */
public final class SoftFloat {
    public static final int INVALID = 1;
    public static final int DENORMAL = 1 << 1;
    public static final int DIVIDE_BY_ZERO = 1 << 2;
    public static final int OVERFLOW = 1 << 3;
    public static final int UNDERFLOW = 1 << 4;
    public static final int INEXACT = 1 << 5;

    public static final int NEAREST = 0;
    public static final int DOWN = 1;
    public static final int UP = 2;
    public static final int TOWARD_ZERO = 3;

    public static final int SINGLE = 0;
    public static final int DOUBLE = 1;
    public static final int EXTENDED = 2;

    /** {@link #compare} results, in the order of the x87 condition codes' meaning. */
    public static final int GREATER = 0;
    public static final int LESS = 1;
    public static final int EQUAL = 2;
    public static final int UNORDERED = 3;

    /** The x87 "real indefinite" QNaN, the default result of an invalid operation. */
    public static final int INDEFINITE_SIGN_EXPONENT = 0xFFFF;
    public static final long INDEFINITE_SIGNIFICAND = 0xC000_0000_0000_0000L;

    private static final long INTEGER_BIT = 1L << 63;
    private static final long QUIET_BIT = 1L << 62;

    private static final int ZERO = 0;
    private static final int FINITE = 1;
    private static final int INFINITE = 2;
    private static final int QUIET_NAN = 3;
    private static final int SIGNALING_NAN = 4;
    /** An 80-bit encoding the x87 no longer accepts (unnormals, pseudo-NaNs, pseudo-infinities). */
    private static final int UNSUPPORTED = 5;

    private static final int[] PRECISION = {24, 53, 64};
    private static final int[] MIN_EXPONENT = {-126, -1022, -16382};
    private static final int[] MAX_EXPONENT = {127, 1023, 16383};
    private static final int X87_EXPONENT_WRAP = 24576;

    private final int[] kind = new int[2];
    /** Whether loading each latch raised DE, not raised already by an earlier lane of the instruction. */
    private final boolean[] raisedDenormal = new boolean[2];
    private final boolean[] negative = new boolean[2];
    private final int[] exponent = new int[2];
    private final long[] significand = new long[2];

    private int resultKind;
    private boolean resultNegative;
    private int resultExponent;
    private long resultHigh;
    /** The bits below resultHigh, with any further nonzero bits folded into its lowest (sticky) bit. */
    private long resultLow;
    private int storedSignExponent;

    private int rounding;
    private boolean denormalsAreZero;
    private boolean flushToZero;
    private boolean underflowMasked;
    private boolean overflowMasked;
    private boolean x87;
    private int flags;
    private boolean roundedUp;

    // The outputs of roundSignificand, which has more than one.
    private long rounded;
    private boolean roundCarry;
    private boolean roundInexact;
    private boolean roundIncrement;

    /** Starts an SSE instruction under {@code mxcsr}: its rounding, DAZ, FTZ and underflow mask. */
    public void beginSse(int mxcsr) {
        begin((mxcsr >> 13) & 3, (mxcsr & (1 << 6)) != 0, (mxcsr & (1 << 15)) != 0, (mxcsr & (1 << 11)) != 0,
                (mxcsr & (1 << 10)) != 0, false);
    }

    /** Starts an x87 instruction under control word {@code control}. */
    public void beginX87(int control) {
        begin((control >> 10) & 3, false, false, (control & UNDERFLOW) != 0, (control & OVERFLOW) != 0, true);
    }

    private void begin(int rounding, boolean daz, boolean ftz, boolean underflowMasked, boolean overflowMasked, boolean x87) {
        this.rounding = rounding;
        this.denormalsAreZero = daz;
        this.flushToZero = ftz;
        this.underflowMasked = underflowMasked;
        this.overflowMasked = overflowMasked;
        this.x87 = x87;
        this.flags = 0;
        this.roundedUp = false;
        raisedDenormal[0] = false;
        raisedDenormal[1] = false;
    }

    /** Overrides the rounding mode for the rest of the instruction (truncating conversions). */
    public void setRounding(int mode) {
        rounding = mode;
    }

    /** The exception flags raised since the instruction began. */
    public int flags() {
        return flags;
    }

    /** Forgets a denormal operand flag (stores and integer conversions do not report it). */
    public void clearDenormal() {
        flags &= ~DENORMAL;
    }

    public void raise(int flag) {
        flags |= flag;
    }

    /** Whether the last rounding increased the magnitude (the x87 reports it in C1). */
    public boolean roundedUp() {
        return roundedUp;
    }

    /** The sign and biased exponent of the last {@link #store} to {@link #EXTENDED}. */
    public int storedSignExponent() {
        return storedSignExponent;
    }

    // ---- loading ----------------------------------------------------------------------------------

    /** Loads a single (the low 32 bits of {@code bits}) or a double into latch {@code which}. */
    public void load(int which, int format, long bits) {
        raisedDenormal[which] = false;
        int fractionBits = PRECISION[format] - 1;
        int exponentBits = format == SINGLE ? 8 : 11;
        int bias = (1 << (exponentBits - 1)) - 1;
        long fraction = bits & ((1L << fractionBits) - 1);
        int biased = (int) (bits >>> fractionBits) & ((1 << exponentBits) - 1);
        negative[which] = ((bits >>> (fractionBits + exponentBits)) & 1) != 0;
        if (biased == (1 << exponentBits) - 1) {
            if (fraction == 0) {
                kind[which] = INFINITE;
            } else {
                long payload = INTEGER_BIT | fraction << (63 - fractionBits);
                kind[which] = (payload & QUIET_BIT) != 0 ? QUIET_NAN : SIGNALING_NAN;
                significand[which] = payload;
            }
        } else if (biased == 0) {
            if (fraction == 0) {
                kind[which] = ZERO;
            } else if (denormalsAreZero) {
                kind[which] = ZERO;
            } else {
                raiseDenormal(which);
                int shift = Long.numberOfLeadingZeros(fraction);
                kind[which] = FINITE;
                significand[which] = fraction << shift;
                exponent[which] = 64 - bias - fractionBits - shift;
            }
        } else {
            kind[which] = FINITE;
            significand[which] = INTEGER_BIT | fraction << (63 - fractionBits);
            exponent[which] = biased - bias;
        }
    }

    /** Loads an 80-bit value into latch {@code which}. */
    public void loadExtended(int which, int signExponent, long bits) {
        raisedDenormal[which] = false;
        int biased = signExponent & 0x7FFF;
        negative[which] = (signExponent & 0x8000) != 0;
        significand[which] = bits;
        if (biased == 0x7FFF) {
            if (bits >= 0) {
                kind[which] = UNSUPPORTED;
            } else if (bits << 1 == 0) {
                kind[which] = INFINITE;
            } else {
                kind[which] = (bits & QUIET_BIT) != 0 ? QUIET_NAN : SIGNALING_NAN;
            }
        } else if (biased == 0) {
            if (bits == 0) {
                kind[which] = ZERO;
            } else {
                // Denormals and pseudo-denormals alike: the exponent is that of the smallest normal.
                raiseDenormal(which);
                int shift = Long.numberOfLeadingZeros(bits);
                kind[which] = FINITE;
                significand[which] = bits << shift;
                exponent[which] = -16382 - shift;
            }
        } else if (bits >= 0) {
            kind[which] = UNSUPPORTED;
        } else {
            kind[which] = FINITE;
            exponent[which] = biased - 16383;
        }
    }

    private void raiseDenormal(int which) {
        raisedDenormal[which] = (flags & DENORMAL) == 0;
        flags |= DENORMAL;
    }

    /**
     * Takes back the DE that this operation's operands raised: a NaN operand, an invalid
     * operation and a division by zero outrank the denormal-operand exception, and with both masked only the higher
     * one is reported (SDM Vol. 1, 4.9.2 and 11.5.2.1). A DE from an earlier lane stays.
     */
    private void withdrawDenormal() {
        if (raisedDenormal[0] || raisedDenormal[1]) {
            flags &= ~DENORMAL;
        }
    }

    /** Loads a signed integer (exactly: every 64-bit integer fits the extended format). */
    public void loadInteger(int which, long value) {
        negative[which] = value < 0;
        if (value == 0) {
            kind[which] = ZERO;
            return;
        }
        long magnitude = value < 0 ? -value : value;
        int shift = Long.numberOfLeadingZeros(magnitude);
        kind[which] = FINITE;
        significand[which] = magnitude << shift;
        exponent[which] = 63 - shift;
    }

    /** Exchanges latches A and B (the reversed x87 forms, FSUBR and FDIVR). */
    public void swap() {
        int k = kind[0];
        kind[0] = kind[1];
        kind[1] = k;
        boolean n = negative[0];
        negative[0] = negative[1];
        negative[1] = n;
        int e = exponent[0];
        exponent[0] = exponent[1];
        exponent[1] = e;
        long s = significand[0];
        significand[0] = significand[1];
        significand[1] = s;
    }

    public boolean isNan(int which) {
        return kind[which] == QUIET_NAN || kind[which] == SIGNALING_NAN;
    }

    public boolean isZero(int which) {
        return kind[which] == ZERO;
    }

    public boolean isNegative(int which) {
        return negative[which];
    }

    public boolean isFinite(int which) {
        return kind[which] == FINITE;
    }

    public boolean isInfinite(int which) {
        return kind[which] == INFINITE;
    }

    public boolean isUnsupported(int which) {
        return kind[which] == UNSUPPORTED;
    }

    // ---- results ----------------------------------------------------------------------------------

    private void finite(boolean sign, int exp, long high, long low) {
        resultKind = FINITE;
        resultNegative = sign;
        resultExponent = exp;
        resultHigh = high;
        resultLow = low;
    }

    private void special(int resultClass, boolean sign) {
        resultKind = resultClass;
        resultNegative = sign;
        resultHigh = INTEGER_BIT;
        resultLow = 0;
    }

    private void invalid() {
        withdrawDenormal();
        flags |= INVALID;
        resultKind = QUIET_NAN;
        resultNegative = true;
        resultHigh = INDEFINITE_SIGNIFICAND;
        resultLow = 0;
    }

    private void quietNan(int which) {
        resultKind = QUIET_NAN;
        resultNegative = negative[which];
        resultHigh = significand[which] | QUIET_BIT;
        resultLow = 0;
    }

    /** Latch A unchanged as the result (quieting a signaling NaN). */
    public void passThrough() {
        if (kind[0] == SIGNALING_NAN) {
            flags |= INVALID;
            quietNan(0);
        } else if (kind[0] == UNSUPPORTED) {
            invalid();
        } else {
            resultKind = kind[0];
            resultNegative = negative[0];
            resultExponent = exponent[0];
            resultHigh = significand[0];
            resultLow = 0;
        }
    }

    /**
     * Handles NaN and unsupported operands of a two-operand operation; true when it set the
     * result. SSE returns the first operand's NaN if it has one; the x87 prefers a quiet NaN,
     * then the larger significand, then the positive sign.
     */
    private boolean nanOperands() {
        int a = kind[0];
        int b = kind[1];
        if (a == UNSUPPORTED || b == UNSUPPORTED) {
            invalid();
            return true;
        }
        boolean aNan = a == QUIET_NAN || a == SIGNALING_NAN;
        boolean bNan = b == QUIET_NAN || b == SIGNALING_NAN;
        if (!aNan && !bNan) {
            return false;
        }
        withdrawDenormal();
        if (a == SIGNALING_NAN || b == SIGNALING_NAN) {
            flags |= INVALID;
        }
        int chosen;
        if (!x87 || !bNan) {
            chosen = aNan ? 0 : 1;
        } else if (!aNan) {
            chosen = 1;
        } else if (a != b) {
            chosen = a == QUIET_NAN ? 0 : 1;
        } else if (significand[0] != significand[1]) {
            chosen = Long.compareUnsigned(significand[1], significand[0]) > 0 ? 1 : 0;
        } else {
            // Equal significands: the positive one, as the x87 does (and Berkeley SoftFloat's x87 rules).
            chosen = negative[0] && !negative[1] ? 1 : 0;
        }
        quietNan(chosen);
        return true;
    }

    /** The result latch set to {@code value}, exactly, raising nothing. */
    public void setResult(double value) {
        int before = flags;
        load(0, DOUBLE, Double.doubleToRawLongBits(value));
        flags = before;
        passThrough();
    }

    /**
     * The result latch set to ±{@code high}:{@code low} × 2^({@code exponent} − 63), {@code high}
     * with its top bit set and the last bit of {@code low} sticky; raises nothing. The x87
     * transcendentals deliver their results so.
     */
    void setResult(boolean negative, int exponent, long high, long low) {
        resultKind = FINITE;
        resultNegative = negative;
        resultExponent = exponent;
        resultHigh = high;
        resultLow = low;
    }

    /** The unbiased exponent of finite, nonzero latch {@code which}: its value is significand × 2^(exponent − 63). */
    int exponentOf(int which) {
        return exponent[which];
    }

    /** The significand of finite, nonzero latch {@code which}, its integer bit at the top. */
    long significandOf(int which) {
        return significand[which];
    }

    /** The result latch set to a signed zero. */
    public void setZero(boolean sign) {
        special(ZERO, sign);
    }

    /** The result latch set to an infinity (FXTRACT of zero gives -∞ as the exponent). */
    public void setInfinity(boolean sign) {
        special(INFINITE, sign);
    }

    public void setDefaultNan() {
        invalid();
    }

    // ---- operations ---------------------------------------------------------------------------------

    public void add() {
        addOrSubtract(false);
    }

    public void subtract() {
        addOrSubtract(true);
    }

    private void addOrSubtract(boolean subtract) {
        if (nanOperands()) {
            return;
        }
        boolean aSign = negative[0];
        boolean bSign = negative[1] ^ subtract;
        int a = kind[0];
        int b = kind[1];
        if (a == INFINITE || b == INFINITE) {
            if (a == INFINITE && b == INFINITE && aSign != bSign) {
                invalid();
            } else {
                special(INFINITE, a == INFINITE ? aSign : bSign);
            }
            return;
        }
        if (a == ZERO || b == ZERO) {
            if (a == ZERO && b == ZERO) {
                special(ZERO, aSign == bSign ? aSign : rounding == DOWN);
            } else if (a == ZERO) {
                finite(bSign, exponent[1], significand[1], 0);
            } else {
                finite(aSign, exponent[0], significand[0], 0);
            }
            return;
        }
        int ea = exponent[0];
        int eb = exponent[1];
        long ma = significand[0];
        long mb = significand[1];
        if (eb > ea || (eb == ea && Long.compareUnsigned(mb, ma) > 0)) {
            int e = ea;
            ea = eb;
            eb = e;
            long m = ma;
            ma = mb;
            mb = m;
            boolean s = aSign;
            aSign = bSign;
            bSign = s;
        }
        // |a| >= |b|: align b to a in 128 bits; bits shifted out past them fold into a sticky bit.
        int shift = ea - eb;
        long bHigh;
        long bLow;
        if (shift == 0) {
            bHigh = mb;
            bLow = 0;
        } else if (shift < 64) {
            bHigh = mb >>> shift;
            bLow = mb << (64 - shift);
        } else if (shift == 64) {
            bHigh = 0;
            bLow = mb;
        } else if (shift < 128) {
            bHigh = 0;
            bLow = (mb >>> (shift - 64)) | ((mb << (128 - shift)) != 0 ? 1 : 0);
        } else {
            bHigh = 0;
            bLow = 1;
        }
        if (aSign == bSign) {
            long high = ma + bHigh;
            long low = bLow;
            if (Long.compareUnsigned(high, ma) < 0) {
                low = (low >>> 1) | (high << 63) | (low & 1);
                high = (high >>> 1) | INTEGER_BIT;
                ea++;
            }
            finite(aSign, ea, high, low);
        } else {
            long low = -bLow;
            long high = ma - bHigh - (bLow != 0 ? 1 : 0);
            if (high == 0 && low == 0) {
                special(ZERO, rounding == DOWN);
                return;
            }
            int normalize = high != 0 ? Long.numberOfLeadingZeros(high) : 64 + Long.numberOfLeadingZeros(low);
            if (normalize >= 64) {
                high = low << (normalize - 64);
                low = 0;
            } else if (normalize > 0) {
                high = (high << normalize) | (low >>> (64 - normalize));
                low <<= normalize;
            }
            finite(aSign, ea - normalize, high, low);
        }
    }

    public void multiply() {
        if (nanOperands()) {
            return;
        }
        boolean sign = negative[0] ^ negative[1];
        int a = kind[0];
        int b = kind[1];
        if (a == INFINITE || b == INFINITE) {
            if (a == ZERO || b == ZERO) {
                invalid();
            } else {
                special(INFINITE, sign);
            }
            return;
        }
        if (a == ZERO || b == ZERO) {
            special(ZERO, sign);
            return;
        }
        long high = Math.unsignedMultiplyHigh(significand[0], significand[1]);
        long low = significand[0] * significand[1];
        int exp = exponent[0] + exponent[1] + 1;
        if (high >= 0) {
            high = (high << 1) | (low >>> 63);
            low <<= 1;
            exp--;
        }
        finite(sign, exp, high, low);
    }

    public void divide() {
        if (nanOperands()) {
            return;
        }
        boolean sign = negative[0] ^ negative[1];
        int a = kind[0];
        int b = kind[1];
        if ((a == INFINITE && b == INFINITE) || (a == ZERO && b == ZERO)) {
            invalid();
            return;
        }
        if (a == INFINITE || b == ZERO) {
            // Only a finite dividend divides by zero: infinity over zero is an exact infinity.
            if (a == FINITE && b == ZERO) {
                // Divide-by-zero ranks with invalid operations, above the denormal operand.
                withdrawDenormal();
                flags |= DIVIDE_BY_ZERO;
            }
            special(INFINITE, sign);
            return;
        }
        if (a == ZERO || b == INFINITE) {
            special(ZERO, sign);
            return;
        }
        long ma = significand[0];
        long mb = significand[1];
        int exp = exponent[0] - exponent[1];
        long quotient;
        long remainder;
        int bits;
        if (Long.compareUnsigned(ma, mb) >= 0) {
            quotient = 1;
            remainder = ma - mb;
            bits = 63;
        } else {
            quotient = 0;
            remainder = ma;
            bits = 64;
            exp--;
        }
        // Restoring division, one bit a step: 64 significand bits, then two more and a sticky bit.
        long extra = 0;
        for (int i = 0; i < bits + 2; i++) {
            boolean carry = remainder < 0;
            remainder <<= 1;
            boolean fits = carry || Long.compareUnsigned(remainder, mb) >= 0;
            if (fits) {
                remainder -= mb;
            }
            if (i < bits) {
                quotient = (quotient << 1) | (fits ? 1 : 0);
            } else if (fits) {
                extra |= INTEGER_BIT >>> (i - bits);
            }
        }
        finite(sign, exp, quotient, extra | (remainder != 0 ? 1 : 0));
    }

    /** The square root of latch A. */
    public void squareRoot() {
        int a = kind[0];
        if (a == UNSUPPORTED || a == SIGNALING_NAN || a == QUIET_NAN) {
            passThrough();
            return;
        }
        if (a == ZERO) {
            special(ZERO, negative[0]);
            return;
        }
        if (negative[0]) {
            invalid();
            return;
        }
        if (a == INFINITE) {
            special(INFINITE, false);
            return;
        }
        long m = significand[0];
        int e = exponent[0];
        // The radicand m * 2^s as a 128-bit integer in [2^126, 2^128), s making e - 63 - s even.
        long high;
        long low;
        int s;
        if ((e & 1) != 0) {
            s = 64;
            high = m;
            low = 0;
        } else {
            s = 63;
            high = m >>> 1;
            low = m << 63;
        }
        // Digit-by-digit square root: two radicand bits a step, the remainder up to 67 bits wide.
        long root = 0;
        long remainderHigh = 0;
        long remainderLow = 0;
        for (int i = 0; i < 64; i++) {
            long pair = high >>> 62;
            high = (high << 2) | (low >>> 62);
            low <<= 2;
            remainderHigh = (remainderHigh << 2) | (remainderLow >>> 62);
            remainderLow = (remainderLow << 2) | pair;
            long trialHigh = root >>> 62;
            long trialLow = (root << 2) | 1;
            root <<= 1;
            boolean fits = remainderHigh > trialHigh
                    || (remainderHigh == trialHigh && Long.compareUnsigned(remainderLow, trialLow) >= 0);
            if (fits) {
                long borrow = Long.compareUnsigned(remainderLow, trialLow) < 0 ? 1 : 0;
                remainderLow -= trialLow;
                remainderHigh -= trialHigh + borrow;
                root |= 1;
            }
        }
        // The exact root lies in [root, root + 1); it is past the half exactly when remainder > root.
        boolean half = remainderHigh != 0 || Long.compareUnsigned(remainderLow, root) > 0;
        boolean sticky = remainderHigh != 0 || remainderLow != 0;
        long extra = (half ? INTEGER_BIT : 0) | (sticky ? 1 : 0);
        finite(false, 63 + (e - 63 - s) / 2, root, extra);
    }

    /** Latch A rounded to an integral value by the rounding mode (FRNDINT). */
    public void roundToIntegral() {
        int a = kind[0];
        if (a != FINITE) {
            passThrough();
            return;
        }
        int e = exponent[0];
        if (e >= 63) {
            finite(negative[0], e, significand[0], 0);
            return;
        }
        long magnitude = integerPart(e, significand[0], negative[0]);
        if (roundInexact) {
            flags |= INEXACT;
            roundedUp = roundIncrement;
        }
        if (magnitude == 0) {
            special(ZERO, negative[0]);
        } else {
            setMagnitude(negative[0], 63, magnitude);
        }
    }

    /**
     * Rounds |value| = m * 2^(e - 63), e < 64, to an integer by the rounding mode, which it
     * returns as an unsigned magnitude (it wraps to 0 if it reaches 2^64; the callers exclude
     * that); roundInexact and roundIncrement tell what happened.
     */
    private long integerPart(int e, long m, boolean sign) {
        long whole;
        boolean half;
        boolean sticky;
        if (e < -1) {
            whole = 0;
            half = false;
            sticky = true;
        } else if (e == -1) {
            whole = 0;
            half = true;
            sticky = (m << 1) != 0;
        } else if (e == 63) {
            whole = m;
            half = false;
            sticky = false;
        } else {
            int shift = 63 - e;
            whole = m >>> shift;
            long fraction = m << (64 - shift);
            half = fraction < 0;
            sticky = (fraction << 1) != 0;
        }
        roundInexact = half || sticky;
        roundIncrement = increments(half, sticky, (whole & 1) != 0, sign);
        return roundIncrement ? whole + 1 : whole;
    }

    private boolean increments(boolean half, boolean sticky, boolean odd, boolean sign) {
        return switch (rounding) {
            case NEAREST -> half && (sticky || odd);
            case DOWN -> (half || sticky) && sign;
            case UP -> (half || sticky) && !sign;
            default -> false;
        };
    }

    /**
     * Latch A converted to a signed integer of {@code bits} (16, 32 or 64) by the rounding mode;
     * NaNs, infinities and values out of range raise IE and give the "integer indefinite", the
     * most negative value.
     */
    public long toInteger(int bits) {
        long indefinite = 1L << (bits - 1);
        int a = kind[0];
        if (a == ZERO) {
            return 0;
        }
        if (a != FINITE || exponent[0] > 63) {
            flags |= INVALID;
            return indefinite;
        }
        boolean sign = negative[0];
        long magnitude = integerPart(exponent[0], significand[0], sign);
        long limit = sign ? indefinite : indefinite - 1;
        if (Long.compareUnsigned(magnitude, limit) > 0) {
            flags |= INVALID;
            return indefinite;
        }
        if (roundInexact) {
            flags |= INEXACT;
            roundedUp = roundIncrement;
        }
        return sign ? -magnitude : magnitude;
    }

    /**
     * FSCALE: A times 2 to the power of B truncated toward zero. An infinite B scales to
     * infinity or zero, and is invalid with a zero (or, for -∞, an infinite) A.
     */
    public void scale() {
        if (nanOperands()) {
            return;
        }
        int a = kind[0];
        int b = kind[1];
        if (b == INFINITE) {
            if (negative[1] ? a == INFINITE : a == ZERO) {
                invalid();
            } else {
                special(negative[1] ? ZERO : INFINITE, negative[0]);
            }
            return;
        }
        if (a != FINITE) {
            passThrough();
            return;
        }
        // Beyond 2^17 every finite extended value overflows or underflows, so larger B need not be exact.
        long n = 0;
        if (b == FINITE && exponent[1] >= 0) {
            n = exponent[1] > 17 ? 1 << 18 : significand[1] >>> (63 - exponent[1]);
        }
        finite(negative[0], exponent[0] + (int) (negative[1] ? -n : n), significand[0], 0);
    }

    /**
     * Compares A with B: {@link #GREATER}, {@link #LESS}, {@link #EQUAL} or {@link #UNORDERED}. A
     * signaling comparison raises IE for any NaN, a quiet one only for signaling NaNs.
     */
    public int compare(boolean signaling) {
        int a = kind[0];
        int b = kind[1];
        if (a == UNSUPPORTED || b == UNSUPPORTED) {
            withdrawDenormal();
            flags |= INVALID;
            return UNORDERED;
        }
        boolean aNan = a == QUIET_NAN || a == SIGNALING_NAN;
        boolean bNan = b == QUIET_NAN || b == SIGNALING_NAN;
        if (aNan || bNan) {
            withdrawDenormal();
            if (signaling || a == SIGNALING_NAN || b == SIGNALING_NAN) {
                flags |= INVALID;
            }
            return UNORDERED;
        }
        if (a == ZERO && b == ZERO) {
            return EQUAL;
        }
        if (a != ZERO && b != ZERO && negative[0] == negative[1]) {
            int magnitude = compareMagnitudes();
            if (magnitude == 0) {
                return EQUAL;
            }
            return (magnitude > 0) != negative[0] ? GREATER : LESS;
        }
        // Different signs, or one zero: the sign of the nonzero one (or of A) decides.
        boolean aBelow = a == ZERO ? !negative[1] : negative[0];
        return aBelow ? LESS : GREATER;
    }

    private int compareMagnitudes() {
        int a = kind[0];
        int b = kind[1];
        if (a == INFINITE || b == INFINITE) {
            return a == b ? 0 : a == INFINITE ? 1 : -1;
        }
        if (exponent[0] != exponent[1]) {
            return exponent[0] > exponent[1] ? 1 : -1;
        }
        return Long.compareUnsigned(significand[0], significand[1]);
    }

    /**
     * The partial remainder of A by B, FPREM (truncated quotient) or FPREM1 (nearest), into the
     * result latch. Returns the low three quotient bits, or -1 when the reduction is incomplete
     * (C2: the exponents differ by 64 or more and A was only reduced by 2^63 times B's scale).
     */
    public int partialRemainder(boolean nearest) {
        if (nanOperands()) {
            return 0;
        }
        int a = kind[0];
        int b = kind[1];
        if (a == INFINITE || b == ZERO) {
            invalid();
            return 0;
        }
        if (a == ZERO || b == INFINITE) {
            passThrough();
            return 0;
        }
        long ma = significand[0];
        long mb = significand[1];
        int difference = exponent[0] - exponent[1];
        if (difference < 0) {
            if (nearest && difference == -1 && Long.compareUnsigned(ma, mb) > 0) {
                // |B|/2 < |A| < |B|: the nearest quotient is 1, the remainder |B| - |A| = 2mb - ma units of A.
                setMagnitude(!negative[0], exponent[0], mb - ma + mb);
                return 1;
            }
            passThrough();
            return 0;
        }
        boolean complete = difference < 64;
        int steps = complete ? difference : 63;
        long remainder = ma;
        long quotient = 0;
        if (Long.compareUnsigned(remainder, mb) >= 0) {
            remainder -= mb;
            quotient = 1;
        }
        for (int i = 0; i < steps; i++) {
            boolean carry = remainder < 0;
            remainder <<= 1;
            quotient <<= 1;
            if (carry || Long.compareUnsigned(remainder, mb) >= 0) {
                remainder -= mb;
                quotient |= 1;
            }
        }
        // The remainder now counts units of 2^(exponent(A) - steps - 63).
        int unit = exponent[0] - steps;
        if (complete && nearest) {
            long rest = mb - remainder;
            int above = Long.compareUnsigned(remainder, rest);
            if (above > 0 || (above == 0 && (quotient & 1) != 0)) {
                setMagnitude(!negative[0], unit, rest);
                return (int) (quotient + 1) & 7;
            }
        }
        if (remainder == 0) {
            special(ZERO, negative[0]);
        } else {
            setMagnitude(negative[0], unit, remainder);
        }
        return complete ? (int) quotient & 7 : -1;
    }

    /** The result latch set to {@code units * 2^(unit - 63)}, exactly; units is nonzero. */
    private void setMagnitude(boolean sign, int unit, long units) {
        int shift = Long.numberOfLeadingZeros(units);
        finite(sign, unit - shift, units << shift, 0);
    }

    /** FXTRACT's exponent: the unbiased exponent of A, as a value, into the result latch. */
    public void extractExponent() {
        int e = exponent[0];
        if (e == 0) {
            special(ZERO, false);
            return;
        }
        setMagnitude(e < 0, 63, Math.abs((long) e));
    }

    /** FXTRACT's significand: A with exponent 0, into the result latch. */
    public void extractSignificand() {
        finite(negative[0], 0, significand[0], 0);
    }

    // ---- rounding and storing -------------------------------------------------------------------------

    /** Rounds the result latch to {@code format} at its own precision; see {@link #store(int, int)}. */
    public long store(int format) {
        return store(format, PRECISION[format]);
    }

    /**
     * Rounds the result latch to {@code format}, keeping {@code precision} significand bits (the
     * x87's precision control narrows the extended format's significand but not its exponent),
     * and returns the encoding: the bits of a single or double, or an extended significand whose
     * sign and exponent {@link #storedSignExponent()} then gives.
     */
    public long store(int format, int precision) {
        boolean sign = resultNegative;
        return switch (resultKind) {
            case ZERO -> encode(format, sign, 0, 0, true);
            case INFINITE -> encodeInfinity(format, sign);
            case QUIET_NAN, SIGNALING_NAN, UNSUPPORTED -> encodeNan(format, sign, resultHigh | QUIET_BIT);
            default -> round(format, precision);
        };
    }

    private long round(int format, int precision) {
        boolean sign = resultNegative;
        int e = resultExponent;
        int emin = MIN_EXPONENT[format];
        int emax = MAX_EXPONENT[format];
        int discard = 64 - precision;
        roundSignificand(resultHigh, resultLow, discard, sign);
        int roundedExponent = roundCarry ? e + 1 : e;
        if (roundedExponent > emax && !overflowMasked && format == EXTENDED
                && roundedExponent - X87_EXPONENT_WRAP <= emax) {
            return wrapped(roundedExponent - X87_EXPONENT_WRAP, OVERFLOW);
        }
        if (roundedExponent > emax) {
            flags |= OVERFLOW | INEXACT;
            boolean toInfinity = rounding == NEAREST || (rounding == UP && !sign) || (rounding == DOWN && sign);
            roundedUp = toInfinity;
            if (toInfinity) {
                return encodeInfinity(format, sign);
            }
            return encode(format, sign, emax, -1L << discard, false);
        }
        if (e >= emin) {
            if (roundInexact) {
                flags |= INEXACT;
                roundedUp = roundIncrement;
            }
            return encode(format, sign, roundedExponent, rounded, false);
        }
        boolean tiny = roundedExponent < emin;
        if (tiny && !underflowMasked && format == EXTENDED && roundedExponent + X87_EXPONENT_WRAP >= emin) {
            return wrapped(roundedExponent + X87_EXPONENT_WRAP, UNDERFLOW);
        }
        if (flushToZero && tiny && underflowMasked) {
            flags |= UNDERFLOW | INEXACT;
            return encode(format, sign, 0, 0, true);
        }
        // Denormalize the exact value, then round it again at the same bit position.
        int shift = emin - e;
        long high;
        long low;
        if (shift < 64) {
            high = resultHigh >>> shift;
            low = (resultHigh << (64 - shift)) | (resultLow != 0 ? 1 : 0);
        } else if (shift == 64) {
            high = 0;
            low = resultHigh | (resultLow != 0 ? 1 : 0);
        } else {
            high = 0;
            low = 1;
        }
        roundSignificand(high, low, discard, sign);
        if (roundInexact) {
            flags |= INEXACT;
            roundedUp = roundIncrement;
        }
        if (tiny && (roundInexact || !underflowMasked)) {
            flags |= UNDERFLOW;
        }
        return encode(format, sign, emin, rounded, rounded >= 0);
    }

    /**
     * The x87's response to an unmasked overflow or underflow into a register: the rounded
     * significand with the exponent brought back into range by 2^∓24576, so that the handler
     * can still tell the true result (SDM vol. 1, 8.5.4 and 8.5.5). A result too far out even
     * for that gets the masked response instead.
     */
    private long wrapped(int exponent, int exception) {
        flags |= exception | (roundInexact ? INEXACT : 0);
        roundedUp = roundInexact && roundIncrement;
        return encode(EXTENDED, resultNegative, exponent, rounded, false);
    }

    /** Rounds high:low to keep all but the low {@code discard} bits of high. */
    private void roundSignificand(long high, long low, int discard, boolean sign) {
        long kept;
        boolean half;
        boolean sticky;
        if (discard == 0) {
            kept = high;
            half = low < 0;
            sticky = (low << 1) != 0;
        } else {
            long mask = (1L << discard) - 1;
            kept = high & ~mask;
            half = ((high >>> (discard - 1)) & 1) != 0;
            sticky = (high & (mask >>> 1)) != 0 || low != 0;
        }
        roundInexact = half || sticky;
        roundIncrement = increments(half, sticky, ((kept >>> discard) & 1) != 0, sign);
        roundCarry = false;
        if (roundIncrement) {
            long next = kept + (1L << discard);
            if (Long.compareUnsigned(next, kept) < 0) {
                next = INTEGER_BIT;
                roundCarry = true;
            }
            kept = next;
        }
        rounded = kept;
    }

    private long encode(int format, boolean sign, int exp, long m, boolean denormal) {
        return switch (format) {
            case SINGLE -> (sign ? 1L << 31 : 0) | (long) (denormal ? 0 : exp + 127) << 23 | ((m >>> 40) & 0x7F_FFFF);
            case DOUBLE -> (sign ? 1L << 63 : 0) | (long) (denormal ? 0 : exp + 1023) << 52 | ((m >>> 11) & 0xF_FFFF_FFFF_FFFFL);
            default -> {
                storedSignExponent = (sign ? 0x8000 : 0) | (denormal ? 0 : exp + 16383);
                yield m;
            }
        };
    }

    private long encodeInfinity(int format, boolean sign) {
        return switch (format) {
            case SINGLE -> (sign ? 1L << 31 : 0) | 0x7F80_0000L;
            case DOUBLE -> (sign ? 1L << 63 : 0) | 0x7FF0_0000_0000_0000L;
            default -> {
                storedSignExponent = (sign ? 0x8000 : 0) | 0x7FFF;
                yield INTEGER_BIT;
            }
        };
    }

    private long encodeNan(int format, boolean sign, long payload) {
        return switch (format) {
            case SINGLE -> (sign ? 1L << 31 : 0) | 0x7F80_0000L | ((payload >>> 40) & 0x7F_FFFF);
            case DOUBLE -> (sign ? 1L << 63 : 0) | 0x7FF0_0000_0000_0000L | ((payload >>> 11) & 0xF_FFFF_FFFF_FFFFL);
            default -> {
                storedSignExponent = (sign ? 0x8000 : 0) | 0x7FFF;
                yield payload | INTEGER_BIT;
            }
        };
    }
}
