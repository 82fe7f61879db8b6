package dev.machina.cpu.chipset;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A set of the 256 interrupt vectors, as the APIC's IRR, ISR and TMR hold them. Every operation is
 * atomic per bit, so other threads may add vectors while the owning vCPU takes them out, without a
 * lock and without allocating.
 */
final class VectorSet {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words = new long[4];

    void add(int vector) {
        WORDS.getAndBitwiseOr(words, vector >>> 6, 1L << vector);
    }

    void remove(int vector) {
        WORDS.getAndBitwiseAnd(words, vector >>> 6, ~(1L << vector));
    }

    boolean contains(int vector) {
        return (word(vector >>> 6) & (1L << vector)) != 0;
    }

    /** The highest vector in the set, or -1 if it is empty. */
    int highest() {
        for (int i = words.length - 1; i >= 0; i--) {
            long word = word(i);
            if (word != 0) {
                return i * 64 + 63 - Long.numberOfLeadingZeros(word);
            }
        }
        return -1;
    }

    /** Vectors {@code 32 * index} to {@code 32 * index + 31}, as the APIC register of that index reads. */
    int register(int index) {
        return (int) (word(index >>> 1) >>> ((index & 1) * 32));
    }

    void clear() {
        for (int i = 0; i < words.length; i++) {
            WORDS.setVolatile(words, i, 0L);
        }
    }

    private long word(int index) {
        return (long) WORDS.getVolatile(words, index);
    }
}
