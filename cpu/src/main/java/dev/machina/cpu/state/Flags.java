package dev.machina.cpu.state;

/**
 * RFLAGS with lazily computed arithmetic flags. The hot arithmetic instructions only record their
 * operands, result and kind; CF, PF, AF, ZF, SF and OF are derived when something reads them, so
 * an ADD followed by another ADD never computes the first one's flags at all.
 *
 * <p>The pending record is a tuple of plain values (kind, sign position, operands, result, a carry
 * and the stored bits), and every flag is a pure static function of that tuple, which the
 * instance methods apply to the fields. Translated code records and asks through the same
 * methods; once the JIT has inlined them after a recording with constant kind, a condition folds
 * to a compare or two.
 */
public final class Flags {
    public static final long CF = 1;
    public static final long FIXED = 1L << 1;
    public static final long PF = 1L << 2;
    public static final long AF = 1L << 4;
    public static final long ZF = 1L << 6;
    public static final long SF = 1L << 7;
    public static final long TF = 1L << 8;
    public static final long IF = 1L << 9;
    public static final long DF = 1L << 10;
    public static final long OF = 1L << 11;
    public static final long IOPL = 3L << 12;
    public static final long NT = 1L << 14;
    public static final long RF = 1L << 16;
    public static final long VM = 1L << 17;
    public static final long AC = 1L << 18;
    public static final long VIF = 1L << 19;
    public static final long VIP = 1L << 20;
    public static final long ID = 1L << 21;
    public static final long ARITHMETIC = CF | PF | AF | ZF | SF | OF;
    /** The bits software can change at all on this CPU (no virtual-8086 mode: VM stays clear). */
    public static final long WRITABLE = ARITHMETIC | TF | IF | DF | IOPL | NT | RF | AC | VIF | VIP | ID;

    /**
     * How the pending arithmetic flags are to be derived from the recorded operands; in the tuple
     * a kind is its {@link #ordinal()}. NONE: they are the stored bits. For ADC and SBB the
     * tuple's carry is the carry that went in, for INC and DEC the CF they keep.
     */
    public enum Kind { NONE, ADD, ADC, SUB, SBB, LOGIC, INC, DEC }

    private static final int NONE = 0;
    private static final int ADD = 1;
    private static final int ADC = 2;
    private static final int SUB = 3;
    private static final int SBB = 4;
    private static final int LOGIC = 5;
    private static final int INC = 6;
    private static final int DEC = 7;

    private long stored = FIXED;
    private int kind = NONE;
    private int signShift;
    private long left;
    private long right;
    private long result;
    private boolean carry;

    /**
     * Records an arithmetic result of {@code size} bytes whose flags follow from {@code kind}. For
     * ADC and SBB {@code carryIn} is the carry that was added or subtracted; INC and DEC keep CF.
     */
    public void record(Kind kind, int size, long left, long right, boolean carryIn, long result) {
        int code = kind.ordinal();
        boolean keptOrIn = code == INC || code == DEC ? carry() : carryIn;
        long mask = size == 8 ? -1L : (1L << (size * 8)) - 1;
        this.kind = code;
        this.signShift = size * 8 - 1;
        this.left = left & mask;
        this.right = right & mask;
        this.result = result & mask;
        this.carry = keptOrIn;
    }

    /** Sets the arithmetic flags to {@code values} (only its {@link #ARITHMETIC} bits count). */
    public void setArithmetic(long values) {
        stored = (stored & ~ARITHMETIC) | (values & ARITHMETIC);
        kind = NONE;
    }

    /** Sets the arithmetic flags in {@code which} to those bits of {@code values}, keeping the others. */
    public void setArithmetic(long which, long values) {
        setArithmetic((get() & ~which) | (values & which));
    }

    /** The whole register. */
    public long get() {
        return kind == NONE ? stored : (stored & ~ARITHMETIC) | arithmetic(kind, signShift, left, right, result, carry, stored);
    }

    /** Replaces the whole register; bit 1 stays set. */
    public void set(long value) {
        stored = value | FIXED;
        kind = NONE;
    }

    /** Whether the non-arithmetic flag {@code bit} (IF, DF, TF, ...) is set. */
    public boolean isSet(long bit) {
        return (stored & bit) != 0;
    }

    /** Sets or clears a non-arithmetic flag. */
    public void put(long bit, boolean value) {
        stored = value ? stored | bit : stored & ~bit;
    }

    public boolean carry() {
        return carry(kind, left, right, result, carry, stored);
    }

    public boolean zero() {
        return kind == NONE ? (stored & ZF) != 0 : result == 0;
    }

    public boolean sign() {
        return sign(kind, signShift, result, stored);
    }

    public boolean overflow() {
        return overflow(kind, signShift, left, right, result, stored);
    }

    public boolean parity() {
        return kind == NONE ? (stored & PF) != 0 : evenParity(result);
    }

    public boolean adjust() {
        return adjust(kind, left, right, result, stored);
    }

    /** Condition code {@code cc} (0..15) in the order of Jcc/SETcc/CMOVcc's low opcode nibble. */
    public boolean condition(int cc) {
        return condition(cc, kind, signShift, left, right, result, carry, stored);
    }

    /**
     * {@link #record} of operands and a result already masked to the operand size (sign bit at
     * {@code signShift}), {@code kind} being a {@link Kind}'s ordinal: what translated code calls,
     * small enough for the JIT to inline anywhere.
     */
    public void recordMasked(int kind, int signShift, long left, long right, long result, boolean carry) {
        this.kind = kind;
        this.signShift = signShift;
        this.left = left;
        this.right = right;
        this.result = result;
        this.carry = carry;
    }

    // ---- the flags as functions of the tuple ------------------------------------------------------

    /**
     * Condition code {@code cc} of the tuple. After a SUB (CMP), "below" and "less" are the
     * unsigned and signed comparisons of the operands, which is what CF and SF != OF mean then.
     */
    public static boolean condition(int cc, int kind, int signShift, long left, long right, long result, boolean carry, long bits) {
        int unused = 63 - signShift;
        boolean value = switch (cc >> 1) {
            case 0 -> overflow(kind, signShift, left, right, result, bits);
            case 1 -> carry(kind, left, right, result, carry, bits);
            case 2 -> kind == NONE ? (bits & ZF) != 0 : result == 0;
            case 3 -> kind == SUB ? Long.compareUnsigned(left, right) <= 0
                    : carry(kind, left, right, result, carry, bits) || (kind == NONE ? (bits & ZF) != 0 : result == 0);
            case 4 -> sign(kind, signShift, result, bits);
            case 5 -> kind == NONE ? (bits & PF) != 0 : evenParity(result);
            case 6 -> kind == SUB ? (left << unused >> unused) < (right << unused >> unused)
                    : sign(kind, signShift, result, bits) != overflow(kind, signShift, left, right, result, bits);
            default -> kind == SUB ? (left << unused >> unused) <= (right << unused >> unused)
                    : (kind == NONE ? (bits & ZF) != 0 : result == 0)
                    || sign(kind, signShift, result, bits) != overflow(kind, signShift, left, right, result, bits);
        };
        return value != ((cc & 1) != 0);
    }

    /** CF of the tuple. */
    public static boolean carry(int kind, long left, long right, long result, boolean carry, long bits) {
        return switch (kind) {
            case NONE -> (bits & CF) != 0;
            case ADD -> Long.compareUnsigned(result, left) < 0;
            case ADC -> carry ? Long.compareUnsigned(result, left) <= 0 : Long.compareUnsigned(result, left) < 0;
            case SUB -> Long.compareUnsigned(left, right) < 0;
            case SBB -> carry ? Long.compareUnsigned(left, right) <= 0 : Long.compareUnsigned(left, right) < 0;
            case LOGIC -> false;
            default -> carry;
        };
    }

    private static boolean sign(int kind, int signShift, long result, long bits) {
        return kind == NONE ? (bits & SF) != 0 : (result >>> signShift & 1) != 0;
    }

    private static boolean overflow(int kind, int signShift, long left, long right, long result, long bits) {
        return switch (kind) {
            case NONE -> (bits & OF) != 0;
            case ADD, ADC, INC -> (((left ^ result) & (right ^ result)) >>> signShift & 1) != 0;
            case SUB, SBB, DEC -> (((left ^ right) & (left ^ result)) >>> signShift & 1) != 0;
            default -> false;
        };
    }

    private static boolean adjust(int kind, long left, long right, long result, long bits) {
        return switch (kind) {
            case NONE -> (bits & AF) != 0;
            case LOGIC -> false;
            default -> ((left ^ right ^ result) & 0x10) != 0;
        };
    }

    /** The six arithmetic flags of the tuple as RFLAGS bits. */
    public static long arithmetic(int kind, int signShift, long left, long right, long result, boolean carry, long bits) {
        if (kind == NONE) {
            return bits & ARITHMETIC;
        }
        return (carry(kind, left, right, result, carry, bits) ? CF : 0)
                | (evenParity(result) ? PF : 0)
                | (adjust(kind, left, right, result, bits) ? AF : 0)
                | (result == 0 ? ZF : 0)
                | (sign(kind, signShift, result, bits) ? SF : 0)
                | (overflow(kind, signShift, left, right, result, bits) ? OF : 0);
    }

    /** PF's rule: set when the low byte of a result has an even number of one bits. */
    public static boolean evenParity(long value) {
        return (Long.bitCount(value & 0xFF) & 1) == 0;
    }

    /** The SF, ZF and PF bits for {@code result} of {@code size} bytes. */
    public static long signZeroParity(long result, int size) {
        long masked = size == 8 ? result : result & ((1L << (size * 8)) - 1);
        long flags = masked == 0 ? ZF : 0;
        if ((masked >>> (size * 8 - 1) & 1) != 0) {
            flags |= SF;
        }
        return evenParity(masked) ? flags | PF : flags;
    }
}
