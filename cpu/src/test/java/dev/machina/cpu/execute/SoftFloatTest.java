package dev.machina.cpu.execute;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The software floating-point unit against independent references: Java's own IEEE arithmetic
 * (round to nearest even) bit for bit, BigDecimal for the exactness flag and the directed
 * rounding modes, and BigInteger for the extended format's 64-bit significands.
 */
class SoftFloatTest {
    private static final int ADD = 0;
    private static final int SUBTRACT = 1;
    private static final int MULTIPLY = 2;
    private static final int DIVIDE = 3;
    private static final int SQUARE_ROOT = 4;

    private final SoftFloat unit = new SoftFloat();
    private final Random random = new Random(7);

    private long operate(int op, int format, long a, long b, int rounding) {
        unit.beginSse(0x1F80 | rounding << 13);
        unit.load(0, format, a);
        unit.load(1, format, b);
        switch (op) {
            case ADD -> unit.add();
            case SUBTRACT -> unit.subtract();
            case MULTIPLY -> unit.multiply();
            case DIVIDE -> unit.divide();
            default -> unit.squareRoot();
        }
        return unit.store(format);
    }

    /** Doubles from all over the range: random bits, small integers, denormals, values near each other. */
    private double randomDouble() {
        return switch (random.nextInt(6)) {
            case 0 -> Double.longBitsToDouble(random.nextLong());
            case 1 -> random.nextDouble() * 10 - 5;
            case 2 -> Double.longBitsToDouble(random.nextLong() & 0x800F_FFFF_FFFF_FFFFL);
            case 3 -> random.nextInt(100);
            case 4 -> Double.longBitsToDouble((random.nextLong() & 0x800F_FFFF_FFFF_FFFFL) | (long) (random.nextInt(60) + 1) << 52);
            default -> Math.scalb(random.nextDouble(), random.nextInt(2100) - 1075);
        };
    }

    private static double java(int op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUBTRACT -> a - b;
            case MULTIPLY -> a * b;
            case DIVIDE -> a / b;
            default -> Math.sqrt(a);
        };
    }

    @Test
    void doubleArithmeticMatchesJavaBitForBitWithAnExactInexactFlag() {
        for (int n = 0; n < 200_000; n++) {
            double a = randomDouble();
            double b = randomDouble();
            int op = random.nextInt(5);
            double expected = java(op, a, b);
            long result = operate(op, SoftFloat.DOUBLE, Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b), SoftFloat.NEAREST);
            if (Double.isNaN(expected)) {
                assertThat(Double.isNaN(Double.longBitsToDouble(result))).isTrue();
                continue;
            }
            assertThat(result).as("op %d on %s, %s", op, a, b).isEqualTo(Double.doubleToRawLongBits(expected));
            if (Double.isFinite(a) && Double.isFinite(b) && Double.isFinite(expected) && !(op == DIVIDE && b == 0)) {
                assertThat((unit.flags() & SoftFloat.INEXACT) != 0).as("inexact of op %d on %s, %s", op, a, b)
                        .isEqualTo(!exact(op, a, b, expected));
            }
        }
    }

    private static boolean exact(int op, double a, double b, double r) {
        BigDecimal x = new BigDecimal(a);
        BigDecimal y = new BigDecimal(b);
        BigDecimal z = new BigDecimal(r);
        return switch (op) {
            case ADD -> x.add(y).compareTo(z) == 0;
            case SUBTRACT -> x.subtract(y).compareTo(z) == 0;
            case MULTIPLY -> x.multiply(y).compareTo(z) == 0;
            case DIVIDE -> z.multiply(y).compareTo(x) == 0;
            default -> a < 0 || z.multiply(z).compareTo(x) == 0;
        };
    }

    @Test
    void singleArithmeticMatchesJavaBitForBit() {
        for (int n = 0; n < 200_000; n++) {
            float a = random.nextInt(4) == 0 ? Float.intBitsToFloat(random.nextInt()) : (float) randomDouble();
            float b = (float) randomDouble();
            int op = random.nextInt(5);
            float expected = (float) (op == SQUARE_ROOT ? Math.sqrt(a) : 0);
            expected = switch (op) {
                case ADD -> a + b;
                case SUBTRACT -> a - b;
                case MULTIPLY -> a * b;
                case DIVIDE -> a / b;
                default -> expected;
            };
            long result = operate(op, SoftFloat.SINGLE, Float.floatToRawIntBits(a) & 0xFFFF_FFFFL,
                    Float.floatToRawIntBits(b) & 0xFFFF_FFFFL, SoftFloat.NEAREST);
            if (Float.isNaN(expected)) {
                assertThat(Float.isNaN(Float.intBitsToFloat((int) result))).isTrue();
            } else {
                assertThat(result).as("op %d on %s, %s", op, a, b).isEqualTo(Float.floatToRawIntBits(expected) & 0xFFFF_FFFFL);
            }
        }
    }

    @Test
    void directedRoundingGivesTheNeighbourOnTheRightSideOfTheExactValue() {
        for (int n = 0; n < 50_000; n++) {
            double a = randomDouble();
            double b = randomDouble();
            int op = random.nextInt(4);
            int rounding = 1 + random.nextInt(3);
            double nearest = java(op, a, b);
            if (!Double.isFinite(a) || !Double.isFinite(b) || !Double.isFinite(nearest) || (op == DIVIDE && b == 0)) {
                continue;
            }
            BigDecimal x = new BigDecimal(a);
            BigDecimal y = new BigDecimal(b);
            BigDecimal value = switch (op) {
                case ADD -> x.add(y);
                case SUBTRACT -> x.subtract(y);
                case MULTIPLY -> x.multiply(y);
                default -> x.divide(y, new MathContext(1200));
            };
            int side = new BigDecimal(nearest).compareTo(value);
            double expected = nearest;
            boolean down = rounding == SoftFloat.DOWN || (rounding == SoftFloat.TOWARD_ZERO && value.signum() > 0);
            boolean up = rounding == SoftFloat.UP || (rounding == SoftFloat.TOWARD_ZERO && value.signum() < 0);
            if (side > 0 && down) {
                expected = Math.nextDown(nearest);
            } else if (side < 0 && up) {
                expected = Math.nextUp(nearest);
            }
            if (value.signum() == 0 && op <= SUBTRACT) {
                // An exact zero sum of opposite signs is -0 only when rounding down.
                expected = rounding == SoftFloat.DOWN ? -0.0 : 0.0;
                if (Math.copySign(1, a) == Math.copySign(1, op == ADD ? b : -b)) {
                    expected = a;
                }
            }
            long result = operate(op, SoftFloat.DOUBLE, Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b), rounding);
            assertThat(Double.longBitsToDouble(result)).as("rounding %d op %d on %s, %s", rounding, op, a, b).isEqualTo(expected);
        }
    }

    @Test
    void overflowAndUnderflowFollowTheRoundingMode() {
        long max = Double.doubleToRawLongBits(Double.MAX_VALUE);
        long two = Double.doubleToRawLongBits(2.0);
        assertThat(operate(MULTIPLY, SoftFloat.DOUBLE, max, two, SoftFloat.NEAREST)).isEqualTo(Double.doubleToRawLongBits(Double.POSITIVE_INFINITY));
        assertThat(unit.flags() & (SoftFloat.OVERFLOW | SoftFloat.INEXACT)).isEqualTo(SoftFloat.OVERFLOW | SoftFloat.INEXACT);
        assertThat(operate(MULTIPLY, SoftFloat.DOUBLE, max, two, SoftFloat.TOWARD_ZERO)).isEqualTo(max);
        long tiny = Double.doubleToRawLongBits(Double.MIN_VALUE);
        long half = Double.doubleToRawLongBits(0.5);
        // MIN_VALUE / 2 is a tie between 0 and MIN_VALUE: even is 0; rounding up gives MIN_VALUE back.
        assertThat(operate(MULTIPLY, SoftFloat.DOUBLE, tiny, half, SoftFloat.NEAREST)).isZero();
        assertThat(unit.flags() & (SoftFloat.UNDERFLOW | SoftFloat.INEXACT)).isEqualTo(SoftFloat.UNDERFLOW | SoftFloat.INEXACT);
        assertThat(operate(MULTIPLY, SoftFloat.DOUBLE, tiny, half, SoftFloat.UP)).isEqualTo(tiny);
        // An exact denormal result is not an underflow while the exception is masked.
        assertThat(operate(MULTIPLY, SoftFloat.DOUBLE, Double.doubleToRawLongBits(Double.MIN_NORMAL), half, SoftFloat.NEAREST))
                .isEqualTo(Double.doubleToRawLongBits(Double.MIN_NORMAL / 2));
        assertThat(unit.flags() & SoftFloat.UNDERFLOW).isZero();
    }

    @Test
    void invalidOperationsGiveTheIndefiniteAndDivisionByZeroAnInfinity() {
        long infinity = Double.doubleToRawLongBits(Double.POSITIVE_INFINITY);
        assertThat(operate(SUBTRACT, SoftFloat.DOUBLE, infinity, infinity, SoftFloat.NEAREST)).isEqualTo(0xFFF8_0000_0000_0000L);
        assertThat(unit.flags()).isEqualTo(SoftFloat.INVALID);
        assertThat(operate(DIVIDE, SoftFloat.SINGLE, Float.floatToRawIntBits(-1f), 0, SoftFloat.NEAREST))
                .isEqualTo(Float.floatToRawIntBits(Float.NEGATIVE_INFINITY) & 0xFFFF_FFFFL);
        assertThat(unit.flags()).isEqualTo(SoftFloat.DIVIDE_BY_ZERO);
        assertThat(operate(SQUARE_ROOT, SoftFloat.DOUBLE, Double.doubleToRawLongBits(-4.0), 0, SoftFloat.NEAREST))
                .isEqualTo(0xFFF8_0000_0000_0000L);
        // A signaling NaN operand is quieted, SSE keeping the first operand's NaN.
        long signaling = 0x7FF0_0000_0000_0001L;
        long quiet = 0x7FF8_0000_0000_0002L;
        assertThat(operate(ADD, SoftFloat.DOUBLE, signaling, quiet, SoftFloat.NEAREST)).isEqualTo(0x7FF8_0000_0000_0001L);
        assertThat(unit.flags()).isEqualTo(SoftFloat.INVALID);
    }

    @Test
    void integerConversionRoundsByTheModeAndGivesTheIndefiniteOutOfRange() {
        unit.beginSse(0x1F80);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(2.5));
        assertThat(unit.toInteger(32)).isEqualTo(2);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(-3.5));
        assertThat(unit.toInteger(32)).isEqualTo(-4);
        assertThat(unit.flags()).isEqualTo(SoftFloat.INEXACT);
        unit.setRounding(SoftFloat.TOWARD_ZERO);
        assertThat(unit.toInteger(32)).isEqualTo(-3);
        unit.setRounding(SoftFloat.DOWN);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(0.25));
        assertThat(unit.toInteger(16)).isZero();
        unit.setRounding(SoftFloat.UP);
        assertThat(unit.toInteger(16)).isEqualTo(1);
        unit.beginSse(0x1F80);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(2147483648.0));
        assertThat(unit.toInteger(32)).isEqualTo(0x8000_0000L);
        assertThat(unit.flags()).isEqualTo(SoftFloat.INVALID);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(-2147483648.0));
        assertThat(unit.toInteger(32)).isEqualTo(-2147483648L);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(-0x1p63));
        assertThat(unit.toInteger(64)).isEqualTo(Long.MIN_VALUE);
        unit.beginSse(0x1F80);
        unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(0x1p63));
        assertThat(unit.toInteger(64)).isEqualTo(Long.MIN_VALUE);
        assertThat(unit.flags()).isEqualTo(SoftFloat.INVALID);
        unit.load(0, SoftFloat.DOUBLE, 0x7FF8_0000_0000_0000L);
        assertThat(unit.toInteger(64)).isEqualTo(Long.MIN_VALUE);
    }

    /** value = significand * 2^(exponent - 16383 - 63) as an exact BigDecimal. */
    private static BigDecimal extended(int signExponent, long significand) {
        BigDecimal m = new BigDecimal(new BigInteger(Long.toUnsignedString(significand)));
        int e = (signExponent & 0x7FFF) - 16383 - 63;
        BigDecimal v = e >= 0 ? m.multiply(new BigDecimal(BigInteger.TWO.pow(e))) : m.divide(new BigDecimal(BigInteger.TWO.pow(-e)));
        return (signExponent & 0x8000) != 0 ? v.negate() : v;
    }

    @Test
    void extendedMultiplyAndAddAreCorrectlyRoundedTo64Bits() {
        for (int n = 0; n < 5_000; n++) {
            long ma = random.nextLong() | Long.MIN_VALUE;
            long mb = random.nextLong() | Long.MIN_VALUE;
            int ea = 16383 + random.nextInt(40) - 20;
            int eb = 16383 + random.nextInt(40) - 20;
            boolean multiply = random.nextBoolean();
            unit.beginX87(0x037F);
            unit.loadExtended(0, ea, ma);
            int sb = eb | (random.nextBoolean() ? 0x8000 : 0);
            unit.loadExtended(1, sb, mb);
            if (multiply) {
                unit.multiply();
            } else {
                unit.add();
            }
            long m = unit.store(SoftFloat.EXTENDED);
            int se = unit.storedSignExponent();
            BigDecimal exact = multiply ? extended(ea, ma).multiply(extended(sb, mb))
                    : extended(ea, ma).add(extended(sb, mb));
            BigDecimal got = extended(se, m);
            // Correctly rounded to nearest: within half a unit in the last place of the result.
            BigDecimal ulp = extended(se & 0x7FFF, 1);
            assertThat(got.subtract(exact).abs().multiply(BigDecimal.TWO).compareTo(ulp)).as("case %d", n).isLessThanOrEqualTo(0);
            assertThat((unit.flags() & SoftFloat.INEXACT) != 0).isEqualTo(got.compareTo(exact) != 0);
        }
    }

    @Test
    void extendedDivisionAndSquareRootAreCorrectlyRounded() {
        for (int n = 0; n < 2_000; n++) {
            long ma = random.nextLong() | Long.MIN_VALUE;
            long mb = random.nextLong() | Long.MIN_VALUE;
            unit.beginX87(0x037F);
            unit.loadExtended(0, 16383, ma);
            unit.loadExtended(1, 16383, mb);
            unit.divide();
            long q = unit.store(SoftFloat.EXTENDED);
            int qe = unit.storedSignExponent();
            // q * b must be within half an ulp of q times b of a.
            BigDecimal a = extended(16383, ma);
            BigDecimal b = extended(16383, mb);
            BigDecimal error = extended(qe, q).multiply(b).subtract(a).abs();
            assertThat(error.multiply(BigDecimal.TWO).compareTo(extended(qe & 0x7FFF, 1).multiply(b))).isLessThanOrEqualTo(0);

            unit.beginX87(0x037F);
            int e = 16383 + random.nextInt(11) - 5;
            unit.loadExtended(0, e, ma);
            unit.squareRoot();
            long r = unit.store(SoftFloat.EXTENDED);
            int re = unit.storedSignExponent();
            BigDecimal root = extended(re, r);
            BigDecimal half = extended(re & 0x7FFF, 1).divide(BigDecimal.TWO);
            BigDecimal x = extended(e, ma);
            // x lies between (root - half ulp)^2 and (root + half ulp)^2.
            assertThat(root.subtract(half).pow(2).compareTo(x)).isLessThanOrEqualTo(0);
            assertThat(root.add(half).pow(2).compareTo(x)).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void precisionControlRoundsTheSignificandOnly() {
        unit.beginX87(0x037F);
        unit.loadInteger(0, 1);
        unit.loadInteger(1, 3);
        unit.divide();
        long significand = unit.store(SoftFloat.EXTENDED, 24);
        assertThat(significand).isEqualTo(0xAAAA_AB00_0000_0000L);
        unit.divide();
        assertThat(unit.store(SoftFloat.EXTENDED, 53)).isEqualTo(0xAAAA_AAAA_AAAA_A800L);
        unit.divide();
        assertThat(unit.store(SoftFloat.EXTENDED, 64)).isEqualTo(0xAAAA_AAAA_AAAA_AAABL);
        assertThat(unit.storedSignExponent()).isEqualTo(16383 - 2);
    }

    @Test
    void partialRemaindersMatchJava() {
        for (int n = 0; n < 5_000; n++) {
            double a = random.nextDouble() * Math.scalb(1.0, random.nextInt(60));
            double b = random.nextDouble() + 0.1;
            if (random.nextBoolean()) {
                a = -a;
            }
            unit.beginX87(0x037F);
            unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(a));
            unit.load(1, SoftFloat.DOUBLE, Double.doubleToRawLongBits(b));
            int quotient = unit.partialRemainder(false);
            assertThat(quotient).isNotNegative();
            assertThat(Double.longBitsToDouble(unit.store(SoftFloat.DOUBLE))).isEqualTo(a % b);
            long q = (long) Math.abs(a / b);
            if (Math.abs(a / b) < 0x1p50) {
                assertThat(quotient).isEqualTo((int) (new BigDecimal(a).divideToIntegralValue(new BigDecimal(b)).abs().longValue() & 7));
            }
            unit.beginX87(0x037F);
            unit.load(0, SoftFloat.DOUBLE, Double.doubleToRawLongBits(a));
            unit.load(1, SoftFloat.DOUBLE, Double.doubleToRawLongBits(b));
            unit.partialRemainder(true);
            assertThat(Double.longBitsToDouble(unit.store(SoftFloat.DOUBLE))).as("%s rem %s (%d)", a, b, q)
                    .isEqualTo(Math.IEEEremainder(a, b));
        }
    }
}
