package dev.machina.cpu.differential;

import java.util.random.RandomGenerator;

/**
 * Biased random operands for SSE and x87 instructions: often an edge of the format (signed zeros,
 * infinities, quiet and signalling NaNs with payloads, denormals, the smallest and largest normal
 * numbers, halves that rounding must break, integers at the limits of the conversions), otherwise
 * an ordinary number or random bits.
 */
final class FloatValues {
    /** What the bytes of an operand hold. */
    enum Element {
        SINGLE(4), DOUBLE(8), EXTENDED(10), INTEGER(8),
        /** A shift count in the low quadword, usually within or just past the element width. */
        COUNT(8);

        final int bytes;

        Element(int bytes) {
            this.bytes = bytes;
        }
    }

    private static final int[] SINGLE_EDGES = {0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000,
            0x0080_0000, 0x8080_0000, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x0000_0001, 0x807F_FFFF, 0x3F80_0000, 0xBF00_0000,
            0x3FC0_0000, 0x4020_0000, 0xC020_0000, 0x3F7F_FFFF,
            // 2^31, just below it and -2^31; 2^63, just below it and -2^63: where CVT*2SI overflow.
            0x4F00_0000, 0x4EFF_FFFF, 0xCF00_0000, 0xCF00_0001, 0x5F00_0000, 0x5EFF_FFFF, 0xDF00_0000, 0xDF00_0001};
    private static final long[] DOUBLE_EDGES = {0L, 0x8000_0000_0000_0000L, 0x7FF0_0000_0000_0000L, 0xFFF0_0000_0000_0000L,
            0x7FF8_0000_0000_0000L, 0xFFF8_0000_0000_0000L, 0x0010_0000_0000_0000L, 0x8010_0000_0000_0000L,
            0x7FEF_FFFF_FFFF_FFFFL, 0xFFEF_FFFF_FFFF_FFFFL, 1L, 0x800F_FFFF_FFFF_FFFFL, 0x3FF0_0000_0000_0000L,
            0xBFE0_0000_0000_0000L, 0x3FF8_0000_0000_0000L, 0x4004_0000_0000_0000L, 0xC004_0000_0000_0000L,
            // Beyond float's range and below its denormals: CVTSD2SS overflows and underflows.
            0x47F0_0000_0000_0000L, 0x3690_0000_0000_0000L, 0x36A0_0000_0000_0001L,
            // 2^31 - 0.5, 2^31, -2^31 - 0.5, -2^31 - 1, 2^63, just below it, -2^63 and just past it.
            0x41DF_FFFF_FFE0_0000L, 0x41E0_0000_0000_0000L, 0xC1E0_0000_0010_0000L, 0xC1E0_0000_0020_0000L,
            0x43E0_0000_0000_0000L, 0x43DF_FFFF_FFFF_FFFFL, 0xC3E0_0000_0000_0000L, 0xC3E0_0000_0000_0001L};
    private static final int EXTENDED_BIAS = 16383;
    private static final long INTEGER_BIT = 1L << 63;

    private FloatValues() {
    }

    /** Fills {@code bytes} bytes of {@code target} from {@code offset} with elements of {@code element}. */
    static void fill(RandomGenerator random, Element element, byte[] target, int offset, int bytes) {
        if (element == Element.COUNT) {
            long count = random.nextInt(4) == 0 ? Values.interesting(random, 8) : random.nextInt(70);
            FpuImage.write(target, offset, 8, count);
            FpuImage.write(target, offset + 8, bytes - 8, random.nextInt(8) == 0 ? random.nextLong() : 0);
            return;
        }
        for (int at = 0; at + element.bytes <= bytes; at += element.bytes) {
            switch (element) {
                case SINGLE -> FpuImage.write(target, offset + at, 4, single(random));
                case DOUBLE -> FpuImage.write(target, offset + at, 8, doubleBits(random));
                case EXTENDED -> {
                    long[] value = extended(random);
                    FpuImage.write(target, offset + at, 8, value[0]);
                    FpuImage.write(target, offset + at + 8, 2, value[1]);
                }
                default -> FpuImage.write(target, offset + at, 8, Values.interesting(random, 8));
            }
        }
        int rest = bytes % element.bytes;
        if (rest != 0) {
            // A 4-byte operand of a 64-bit element type (FILD m32 and the like).
            FpuImage.write(target, offset + bytes - rest, rest, Values.interesting(random, rest));
        }
    }

    static int single(RandomGenerator random) {
        return switch (random.nextInt(8)) {
            case 0, 1 -> SINGLE_EDGES[random.nextInt(SINGLE_EDGES.length)];
            case 2 -> nan(random.nextBoolean(), random.nextInt(1 << 22), random.nextBoolean()) ;
            case 3 -> sign(random) | random.nextInt(1, 1 << 23); // denormal
            case 4 -> random.nextInt();
            default -> Float.floatToRawIntBits((float) ordinary(random));
        };
    }

    static long doubleBits(RandomGenerator random) {
        return switch (random.nextInt(8)) {
            case 0, 1 -> DOUBLE_EDGES[random.nextInt(DOUBLE_EDGES.length)];
            case 2 -> (random.nextBoolean() ? INTEGER_BIT : 0) | 0x7FF0_0000_0000_0000L
                    | (random.nextBoolean() ? 1L << 51 : 0) | random.nextLong(1, 1L << 51);
            case 3 -> (random.nextBoolean() ? INTEGER_BIT : 0) | random.nextLong(1, 1L << 52); // denormal
            case 4 -> random.nextLong();
            default -> Double.doubleToRawLongBits(ordinary(random));
        };
    }

    /** An 80-bit value as {significand, sign and exponent}; only the encodings the SDM supports (J set unless zero or denormal). */
    static long[] extended(RandomGenerator random) {
        return switch (random.nextInt(8)) {
            case 0, 1 -> fromDouble(DOUBLE_EDGES[random.nextInt(DOUBLE_EDGES.length)]);
            case 2 -> new long[] {INTEGER_BIT | (random.nextBoolean() ? 1L << 62 : 0) | random.nextLong(1, 1L << 62),
                    signExponent(random.nextBoolean(), 0x7FFF)};
            case 3 -> new long[] {random.nextLong(1, Long.MAX_VALUE), signExponent(random.nextBoolean(), 0)}; // denormal
            case 4 -> integerLimit(random);
            case 5 -> new long[] {INTEGER_BIT | random.nextLong(), signExponent(random.nextBoolean(), random.nextInt(1, 0x7FFF))};
            default -> new long[] {INTEGER_BIT | random.nextLong(),
                    signExponent(random.nextBoolean(), EXTENDED_BIAS + random.nextInt(-70, 70))};
        };
    }

    /** 2^15, 2^31 or 2^63, give or take the last bits, where FIST and FISTTP overflow. */
    private static long[] integerLimit(RandomGenerator random) {
        int power = new int[] {15, 31, 63}[random.nextInt(3)];
        boolean below = random.nextBoolean();
        long significand = below ? -1L << (63 - power + 1) : INTEGER_BIT | random.nextInt(3) * (1L << (63 - power));
        return new long[] {significand, signExponent(random.nextBoolean(), EXTENDED_BIAS + power - (below ? 1 : 0))};
    }

    /** The exact 80-bit value of a double (every double is one). */
    private static long[] fromDouble(long bits) {
        boolean negative = bits < 0;
        int exponent = (int) (bits >>> 52) & 0x7FF;
        long fraction = bits & ((1L << 52) - 1);
        if (exponent == 0x7FF) {
            return new long[] {INTEGER_BIT | fraction << 11, signExponent(negative, 0x7FFF)};
        }
        if (exponent == 0) {
            if (fraction == 0) {
                return new long[] {0, signExponent(negative, 0)};
            }
            int shift = Long.numberOfLeadingZeros(fraction);
            return new long[] {fraction << shift, signExponent(negative, EXTENDED_BIAS - 1023 - (shift - 12))};
        }
        return new long[] {INTEGER_BIT | fraction << 11, signExponent(negative, exponent - 1023 + EXTENDED_BIAS)};
    }

    private static long signExponent(boolean negative, int exponent) {
        return (negative ? 0x8000 : 0) | exponent;
    }

    private static int nan(boolean negative, int payload, boolean quiet) {
        int fraction = (quiet ? 1 << 22 : 0) | payload;
        return (negative ? 0x8000_0000 : 0) | 0x7F80_0000 | (fraction == 0 ? 1 : fraction);
    }

    private static int sign(RandomGenerator random) {
        return random.nextBoolean() ? 0x8000_0000 : 0;
    }

    /** A number of moderate size, sometimes an integer or a half (where rounding modes differ). */
    private static double ordinary(RandomGenerator random) {
        double value = switch (random.nextInt(4)) {
            case 0 -> random.nextInt(-1000, 1000);
            case 1 -> random.nextInt(-1000, 1000) + 0.5;
            case 2 -> Math.scalb(random.nextDouble(1, 2), random.nextInt(-40, 40));
            default -> random.nextDouble(-1e6, 1e6);
        };
        return random.nextBoolean() ? -value : value;
    }
}
