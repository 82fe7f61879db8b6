package dev.machina.cpu.state;

/**
 * RFLAGS with lazily computed arithmetic flags. The hot arithmetic instructions only record their
 * operands, result and kind; CF, PF, AF, ZF, SF and OF are derived when something reads them, so
 * an ADD followed by another ADD never computes the first one's flags at all.
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

    /** How the pending arithmetic flags are to be derived from the recorded operands. */
    public enum Kind { NONE, ADD, ADC, SUB, SBB, LOGIC, INC, DEC }

    private long stored = FIXED;
    private Kind kind = Kind.NONE;
    private int signShift;
    private long mask;
    private long left;
    private long right;
    private long result;
    private boolean carryIn;

    /**
     * Records an arithmetic result of {@code size} bytes whose flags follow from {@code kind}. For
     * ADC and SBB {@code carryIn} is the carry that was added or subtracted; INC and DEC keep CF.
     */
    public void record(Kind kind, int size, long left, long right, boolean carryIn, long result) {
        if (kind == Kind.INC || kind == Kind.DEC) {
            stored = (stored & ~CF) | (carry() ? CF : 0);
        }
        this.kind = kind;
        this.signShift = size * 8 - 1;
        this.mask = size == 8 ? -1L : (1L << (size * 8)) - 1;
        this.left = left & mask;
        this.right = right & mask;
        this.result = result & mask;
        this.carryIn = carryIn;
    }

    /** Sets the arithmetic flags to {@code values} (only its {@link #ARITHMETIC} bits count). */
    public void setArithmetic(long values) {
        stored = (stored & ~ARITHMETIC) | (values & ARITHMETIC);
        kind = Kind.NONE;
    }

    /** Sets the arithmetic flags in {@code which} to those bits of {@code values}, keeping the others. */
    public void setArithmetic(long which, long values) {
        setArithmetic((get() & ~which) | (values & which));
    }

    /** The whole register. */
    public long get() {
        if (kind == Kind.NONE) {
            return stored;
        }
        long flags = stored & ~ARITHMETIC;
        if (carry()) {
            flags |= CF;
        }
        if (parity()) {
            flags |= PF;
        }
        if (adjust()) {
            flags |= AF;
        }
        if (zero()) {
            flags |= ZF;
        }
        if (sign()) {
            flags |= SF;
        }
        if (overflow()) {
            flags |= OF;
        }
        return flags;
    }

    /** Replaces the whole register; bit 1 stays set. */
    public void set(long value) {
        stored = value | FIXED;
        kind = Kind.NONE;
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
        return switch (kind) {
            case NONE, INC, DEC -> (stored & CF) != 0;
            case ADD -> Long.compareUnsigned(result, left) < 0;
            case ADC -> carryIn ? Long.compareUnsigned(result, left) <= 0 : Long.compareUnsigned(result, left) < 0;
            case SUB -> Long.compareUnsigned(left, right) < 0;
            case SBB -> carryIn ? Long.compareUnsigned(left, right) <= 0 : Long.compareUnsigned(left, right) < 0;
            case LOGIC -> false;
        };
    }

    public boolean zero() {
        return kind == Kind.NONE ? (stored & ZF) != 0 : result == 0;
    }

    public boolean sign() {
        return kind == Kind.NONE ? (stored & SF) != 0 : (result >>> signShift & 1) != 0;
    }

    public boolean overflow() {
        return switch (kind) {
            case NONE -> (stored & OF) != 0;
            case ADD, ADC, INC -> (((left ^ result) & (right ^ result)) >>> signShift & 1) != 0;
            case SUB, SBB, DEC -> (((left ^ right) & (left ^ result)) >>> signShift & 1) != 0;
            case LOGIC -> false;
        };
    }

    public boolean parity() {
        return kind == Kind.NONE ? (stored & PF) != 0 : evenParity(result);
    }

    public boolean adjust() {
        return switch (kind) {
            case NONE -> (stored & AF) != 0;
            case LOGIC -> false;
            default -> ((left ^ right ^ result) & 0x10) != 0;
        };
    }

    /** Condition code {@code cc} (0..15) in the order of Jcc/SETcc/CMOVcc's low opcode nibble. */
    public boolean condition(int cc) {
        boolean value = switch (cc >> 1) {
            case 0 -> overflow();
            case 1 -> carry();
            case 2 -> zero();
            case 3 -> carry() || zero();
            case 4 -> sign();
            case 5 -> parity();
            case 6 -> sign() != overflow();
            default -> zero() || sign() != overflow();
        };
        return value != ((cc & 1) != 0);
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
