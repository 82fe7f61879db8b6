package dev.machina.hypervisor.x86;

import java.util.Arrays;

/**
 * The general-purpose registers, RIP and RFLAGS of a vCPU, indexed by {@link Register}.
 * Immutable: {@link #with} returns a changed copy.
 */
public final class GeneralRegisters {
    /** RFLAGS bit 1 is always set on x86. */
    public static final long RFLAGS_FIXED = 0x2;

    private static final GeneralRegisters RESET = new GeneralRegisters(initialValues());

    private final long[] values;

    private GeneralRegisters(long[] values) {
        this.values = values;
    }

    private static long[] initialValues() {
        long[] values = new long[Register.values().length];
        values[Register.RFLAGS.ordinal()] = RFLAGS_FIXED;
        return values;
    }

    /** All registers zero but the fixed bit of RFLAGS. */
    public static GeneralRegisters reset() {
        return RESET;
    }

    /** Registers from values in {@link Register} order. */
    public static GeneralRegisters of(long[] values) {
        if (values.length != Register.values().length) {
            throw new IllegalArgumentException("expected " + Register.values().length + " values, got " + values.length);
        }
        return new GeneralRegisters(values.clone());
    }

    public long get(Register register) {
        return values[register.ordinal()];
    }

    public GeneralRegisters with(Register register, long value) {
        long[] changed = values.clone();
        changed[register.ordinal()] = value;
        return new GeneralRegisters(changed);
    }

    /** The values in {@link Register} order (a copy). */
    public long[] toArray() {
        return values.clone();
    }

    public long rip() {
        return get(Register.RIP);
    }

    public long rflags() {
        return get(Register.RFLAGS);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof GeneralRegisters that && Arrays.equals(values, that.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (Register register : Register.values()) {
            text.append(text.isEmpty() ? "" : " ").append(register.name().toLowerCase())
                    .append('=').append(Long.toHexString(get(register)));
        }
        return text.toString();
    }
}
