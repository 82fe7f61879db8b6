package dev.machina.cpu.state;

/**
 * The x87 register file: eight 80-bit registers kept exactly (a 64-bit significand with its
 * explicit integer bit, and a 16-bit sign and exponent), the stack top, status, control and tag
 * words, and the last-instruction pointers. Registers are indexed physically; ST(i) is
 * {@link #physical(int) physical(i)}. The MMX registers alias the significands.
 */
public final class X87Registers {
    public static final int INVALID = 1;
    public static final int DENORMAL = 1 << 1;
    public static final int DIVIDE_BY_ZERO = 1 << 2;
    public static final int OVERFLOW = 1 << 3;
    public static final int UNDERFLOW = 1 << 4;
    public static final int PRECISION = 1 << 5;
    public static final int EXCEPTIONS = 0x3F;
    public static final int STACK_FAULT = 1 << 6;
    /** Error summary: an unmasked exception is pending. */
    public static final int ERROR_SUMMARY = 1 << 7;
    public static final int C0 = 1 << 8;
    public static final int C1 = 1 << 9;
    public static final int C2 = 1 << 10;
    public static final int TOP_SHIFT = 11;
    public static final int C3 = 1 << 14;
    public static final int BUSY = 1 << 15;
    public static final int CONDITION_CODES = C0 | C1 | C2 | C3;

    /** Control word: the precision-control and rounding-control fields. */
    public static final int PRECISION_SHIFT = 8;
    public static final int ROUNDING_SHIFT = 10;
    /** The control-word bits that hold state; bit 6 always reads as one. */
    public static final int CONTROL_WRITABLE = 0x1F3F;
    public static final int CONTROL_FIXED = 0x40;
    /** The control word after FNINIT: all exceptions masked, 64-bit precision, round to nearest. */
    public static final int CONTROL_INITIAL = 0x037F;

    /** Full tag word values. */
    public static final int TAG_VALID = 0;
    public static final int TAG_ZERO = 1;
    public static final int TAG_SPECIAL = 2;
    public static final int TAG_EMPTY = 3;

    public final long[] significand = new long[8];
    public final int[] signExponent = new int[8];
    public int top;
    /** The status word without its TOP field, which lives in {@link #top}. */
    public int status;
    public int control = CONTROL_FIXED;
    /** Bit n set: physical register n holds a value (its tag is not "empty"). */
    public int valid = 0xFF;
    /** FOP: the low three bits of the first opcode byte and the ModRM byte of the last non-control instruction. */
    public int lastOpcode;
    public long lastInstruction;
    public int lastCodeSelector;
    public long lastOperand;
    public int lastDataSelector;

    /** The physical register that is ST(i). */
    public int physical(int stackIndex) {
        return (top + stackIndex) & 7;
    }

    public boolean isValid(int physical) {
        return (valid & (1 << physical)) != 0;
    }

    public int statusWord() {
        return (status & ~(7 << TOP_SHIFT)) | (top << TOP_SHIFT);
    }

    public void setStatusWord(int word) {
        status = word & ~(7 << TOP_SHIFT);
        top = (word >> TOP_SHIFT) & 7;
    }

    public void setControlWord(int word) {
        control = (word & CONTROL_WRITABLE) | CONTROL_FIXED;
    }

    /** FNINIT: the control word's defaults, everything else cleared and every register empty. */
    public void initialize() {
        control = CONTROL_INITIAL;
        status = 0;
        top = 0;
        valid = 0;
        lastOpcode = 0;
        lastInstruction = 0;
        lastCodeSelector = 0;
        lastOperand = 0;
        lastDataSelector = 0;
    }

    /** The tag word FNSTENV and FNSAVE store, two bits a register, derived from the contents. */
    public int fullTagWord() {
        int word = 0;
        for (int r = 0; r < 8; r++) {
            word |= tag(r) << (2 * r);
        }
        return word;
    }

    private int tag(int r) {
        if (!isValid(r)) {
            return TAG_EMPTY;
        }
        int exponent = signExponent[r] & 0x7FFF;
        long m = significand[r];
        if (exponent == 0) {
            return m == 0 ? TAG_ZERO : TAG_SPECIAL;
        }
        return exponent == 0x7FFF || m >= 0 ? TAG_SPECIAL : TAG_VALID;
    }

    /** Loads a full tag word: only "empty" or not counts, the rest is recomputed from the contents. */
    public void setFullTagWord(int word) {
        valid = 0;
        for (int r = 0; r < 8; r++) {
            if (((word >> (2 * r)) & 3) != TAG_EMPTY) {
                valid |= 1 << r;
            }
        }
    }

    /** MMX register n as an MMX instruction reads it. */
    public long mmx(int n) {
        return significand[n & 7];
    }

    /** Writes MMX register n: the exponent and sign of its x87 register become all ones. */
    public void setMmx(int n, long value) {
        significand[n & 7] = value;
        signExponent[n & 7] = 0xFFFF;
    }
}
