package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.X87Registers;

/**
 * The register-stack rules the x87 families share: pushing and popping, stack faults (an empty
 * register read, a full one pushed onto), and committing an operation's exception flags. A
 * masked exception writes the default result (the QNaN "indefinite"); an unmasked one leaves
 * the destination alone and is pending until the next waiting instruction raises #MF. A limit of
 * this core: an unmasked overflow or underflow into a register delivers the masked response's
 * value, not the SDM's result with its exponent wrapped by 24576.
 *
 * <p>The x87 instructions' argument holds the opcode's low three bits (the last-opcode register
 * records them); what a family method needs beyond ModRM is above them, see {@link #extra}.
 */
final class X87Stack {
    static final int INDEFINITE_SIGN_EXPONENT = SoftFloat.INDEFINITE_SIGN_EXPONENT;
    static final long INDEFINITE = SoftFloat.INDEFINITE_SIGNIFICAND;

    private X87Stack() {
    }

    /** The per-opcode argument above the opcode bits. */
    static int extra(Instruction i) {
        return i.argument() >> 3;
    }

    /** ST(i) of a register form: ModRM.rm, whatever REX.B says. */
    static int stackOperand(Instruction i) {
        return i.modrm() & 7;
    }

    /** The ModRM reg field, which picks the operation in the arithmetic groups. */
    static int operation(Instruction i) {
        return (i.modrm() >> 3) & 7;
    }

    static boolean isEmpty(X87Registers f, int stackIndex) {
        return !f.isValid(f.physical(stackIndex));
    }

    /** Whether a push would land on a register in use (stack overflow). */
    static boolean isFull(X87Registers f) {
        return f.isValid((f.top - 1) & 7);
    }

    static void write(X87Registers f, int physical, int signExponent, long significand) {
        f.significand[physical] = significand;
        f.signExponent[physical] = signExponent & 0xFFFF;
        f.valid |= 1 << physical;
    }

    static void push(X87Registers f, int signExponent, long significand) {
        f.top = (f.top - 1) & 7;
        write(f, f.top, signExponent, significand);
    }

    static void pop(X87Registers f) {
        f.valid &= ~(1 << f.top);
        f.top = (f.top + 1) & 7;
    }

    /**
     * A stack fault: IE and SF, C1 telling overflow (1) from underflow (0). Returns whether IE is
     * masked, in which case the caller writes the indefinite result.
     */
    static boolean stackFault(X87Registers f, boolean overflow) {
        f.status = (f.status & ~X87Registers.C1) | X87Registers.INVALID | X87Registers.STACK_FAULT
                | (overflow ? X87Registers.C1 : 0);
        if ((f.control & X87Registers.INVALID) != 0) {
            return true;
        }
        f.status |= X87Registers.ERROR_SUMMARY | X87Registers.BUSY;
        return false;
    }

    /** Underflow on reading an empty register; when masked the indefinite goes to {@code physical}. */
    static void underflow(X87Registers f, int physical) {
        if (stackFault(f, false)) {
            write(f, physical, INDEFINITE_SIGN_EXPONENT, INDEFINITE);
        }
    }

    /** Overflow on a push; when masked the indefinite is pushed. */
    static void overflow(X87Registers f) {
        if (stackFault(f, true)) {
            push(f, INDEFINITE_SIGN_EXPONENT, INDEFINITE);
        }
    }

    /**
     * Records the flags of a finished operation in the status word (C1 from the rounding) and
     * returns whether its result may be written: not after an unmasked invalid-operation,
     * denormal or divide-by-zero exception, which are detected before the operation computes.
     * A store to memory ({@code toMemory}) is also suppressed by an unmasked overflow or underflow.
     */
    static boolean commit(X87Registers f, SoftFloat s, boolean toMemory) {
        int raised = s.flags();
        int unmasked = raised & ~f.control & X87Registers.EXCEPTIONS;
        f.status = (f.status & ~X87Registers.C1) | raised | (s.roundedUp() ? X87Registers.C1 : 0);
        if (unmasked != 0) {
            f.status |= X87Registers.ERROR_SUMMARY | X87Registers.BUSY;
        }
        int suppressing = toMemory ? X87Registers.EXCEPTIONS & ~X87Registers.PRECISION
                : X87Registers.INVALID | X87Registers.DENORMAL | X87Registers.DIVIDE_BY_ZERO;
        return (unmasked & suppressing) == 0;
    }

    /**
     * ST(0) in latch A of the core's SoftFloat, begun for the instruction, or null after an
     * underflow into ST(0) (the caller then does nothing more).
     */
    static SoftFloat loadTop(Processor cpu, X87Registers f) {
        int r = f.physical(0);
        if (!f.isValid(r)) {
            underflow(f, r);
            return null;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        load(s, f, 0, 0);
        return s;
    }

    /**
     * ST(0) in latch A and ST(1) in B, or null after an underflow whose masked result goes to
     * ST({@code resultIndex}); an instruction that pops ({@code pops}) still pops then.
     */
    static SoftFloat loadTopTwo(Processor cpu, X87Registers f, int resultIndex, boolean pops) {
        if (isEmpty(f, 0) || isEmpty(f, 1)) {
            underflow(f, f.physical(resultIndex));
            if (pops && (f.control & X87Registers.INVALID) != 0) {
                pop(f);
            }
            return null;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        load(s, f, 0, 0);
        load(s, f, 1, 1);
        return s;
    }

    /** Rounds the result latch to the extended format and pushes it if the flags allow. */
    static void pushResult(SoftFloat s, X87Registers f) {
        long significand = s.store(SoftFloat.EXTENDED, 64);
        if (commit(f, s, false)) {
            push(f, s.storedSignExponent(), significand);
        }
    }

    /** Loads ST(i) into SoftFloat latch {@code which}. */
    static void load(SoftFloat s, X87Registers f, int which, int stackIndex) {
        int r = f.physical(stackIndex);
        s.loadExtended(which, f.signExponent[r], f.significand[r]);
    }

    /** Rounds the result latch and writes it to {@code physical} if the flags allow; returns whether it did. */
    static boolean storeResult(SoftFloat s, X87Registers f, int physical, int precision) {
        long significand = s.store(SoftFloat.EXTENDED, precision);
        if (!commit(f, s, false)) {
            return false;
        }
        write(f, physical, s.storedSignExponent(), significand);
        return true;
    }

    /** The significand precision the control word's PC field gives FADD, FSUB, FMUL, FDIV and FSQRT. */
    static int arithmeticPrecision(X87Registers f) {
        return switch ((f.control >> X87Registers.PRECISION_SHIFT) & 3) {
            case 0 -> 24;
            case 2 -> 53;
            default -> 64;
        };
    }

    /** Clears C1 (and the other condition codes when {@code all}) before an operation sets them. */
    static void clearConditions(X87Registers f, boolean all) {
        f.status &= ~(all ? X87Registers.CONDITION_CODES : X87Registers.C1);
    }
}
