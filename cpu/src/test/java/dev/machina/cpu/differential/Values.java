package dev.machina.cpu.differential;

import java.util.random.RandomGenerator;

/** Operand-sized arithmetic and the biased random values the generator draws from. */
final class Values {
    private Values() {
    }

    static long mask(int bytes) {
        return bytes == 8 ? -1L : (1L << (bytes * 8)) - 1;
    }

    static long truncate(long value, int bytes) {
        return value & mask(bytes);
    }

    static long signExtend(long value, int bytes) {
        int shift = 64 - bytes * 8;
        return (value << shift) >> shift;
    }

    /**
     * A value of {@code bytes} bytes (zero-extended) that is often an edge: zero, one, all ones,
     * the signed limits and their neighbours, a single bit, a small number; otherwise uniform.
     */
    static long interesting(RandomGenerator random, int bytes) {
        int bits = bytes * 8;
        long value = switch (random.nextInt(10)) {
            case 0 -> random.nextInt(-3, 4);
            case 1 -> 1L << random.nextInt(bits);
            case 2 -> (1L << (bits - 1)) + random.nextInt(-2, 3);
            case 3 -> random.nextBoolean() ? 0 : -1;
            case 4 -> random.nextInt(256);
            default -> random.nextLong();
        };
        return truncate(value, bytes);
    }
}
