package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.X87Registers;

/**
 * x87 arithmetic and comparison: FADD, FSUB(R), FMUL, FDIV(R) with registers, reals and integers
 * (and their popping forms), FCOM, FUCOM, FICOM and their popping forms, FCOMI/FUCOMI(P), FTST,
 * FXAM, FCHS, FABS, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM and FPREM1. Operations compute in
 * {@link SoftFloat} at the extended format's exact precision and round by the control word.
 *
 * <p>The arithmetic groups pick the operation by ModRM.reg: 0 add, 1 multiply, 2 compare, 3
 * compare and pop, 4 ST(0) - other, 5 other - ST(0), 6 ST(0) / other, 7 other / ST(0) — the same
 * whether the destination is ST(0) (D8, memory forms) or ST(i) (DC, DE).
 */
public final class X87Arithmetic {
    /** Comparison argument bits: how many pops (0-2), quiet (FUCOM), result in EFLAGS (FCOMI). */
    public static final int QUIET = 1 << 2;
    public static final int TO_EFLAGS = 1 << 3;
    /** FPREM1 rather than FPREM. */
    public static final int NEAREST = 1;

    private X87Arithmetic() {
    }

    /** D8, DA, DC, DE with a memory operand: m32 real, m32 integer, m64 real, m16 integer by the opcode. */
    public static void withMemory(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int op = X87Stack.operation(i);
        int opcode = i.argument() & 7;
        long raw = cpu.readMemory(i.segment(), cpu.effectiveAddress(i), opcode == 4 ? 8 : opcode == 6 ? 2 : 4);
        int top = f.physical(0);
        boolean compare = op == 2 || op == 3;
        if (!f.isValid(top)) {
            if (compare) {
                compareUnderflow(cpu, f, false, op == 3 ? 1 : 0);
            } else {
                X87Stack.underflow(f, top);
            }
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        X87Stack.load(s, f, 0, 0);
        switch (opcode) {
            case 0 -> s.load(1, SoftFloat.SINGLE, raw);
            case 4 -> s.load(1, SoftFloat.DOUBLE, raw);
            case 2 -> s.loadInteger(1, (int) raw);
            default -> s.loadInteger(1, (short) raw);
        }
        if (compare) {
            finishCompare(cpu, f, s, s.compare(true), false, op == 3 ? 1 : 0);
            return;
        }
        compute(s, op);
        X87Stack.storeResult(s, f, top, X87Stack.arithmeticPrecision(f));
    }

    /** D8 (into ST(0)), DC (into ST(i)) and DE (into ST(i), then pop) with ST(i). */
    public static void withRegister(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int opcode = i.argument() & 7;
        int top = f.physical(0);
        int other = f.physical(X87Stack.stackOperand(i));
        int destination = opcode == 0 ? top : other;
        boolean pops = opcode == 6;
        if (!f.isValid(top) || !f.isValid(other)) {
            X87Stack.underflow(f, destination);
            if (pops && (f.control & X87Registers.INVALID) != 0) {
                X87Stack.pop(f);
            }
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        X87Stack.load(s, f, 0, 0);
        X87Stack.load(s, f, 1, X87Stack.stackOperand(i));
        compute(s, X87Stack.operation(i));
        if (X87Stack.storeResult(s, f, destination, X87Stack.arithmeticPrecision(f)) && pops) {
            X87Stack.pop(f);
        }
    }

    private static void compute(SoftFloat s, int op) {
        switch (op) {
            case 0 -> s.add();
            case 1 -> s.multiply();
            case 4 -> s.subtract();
            case 6 -> s.divide();
            case 5 -> {
                s.swap();
                s.subtract();
            }
            default -> {
                s.swap();
                s.divide();
            }
        }
    }

    // ---- comparisons ----------------------------------------------------------------------------

    /** FCOM, FCOMP, FCOMPP, FUCOM(P)(P), FCOMI(P), FUCOMI(P) of ST(0) with ST(i). */
    public static void compare(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int extra = X87Stack.extra(i);
        int pops = extra & 3;
        boolean toFlags = (extra & TO_EFLAGS) != 0;
        if (X87Stack.isEmpty(f, 0) || X87Stack.isEmpty(f, X87Stack.stackOperand(i))) {
            compareUnderflow(cpu, f, toFlags, pops);
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        X87Stack.load(s, f, 0, 0);
        X87Stack.load(s, f, 1, X87Stack.stackOperand(i));
        finishCompare(cpu, f, s, s.compare((extra & QUIET) == 0), toFlags, pops);
    }

    /** FTST: ST(0) compared with +0.0. */
    public static void test(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        if (X87Stack.isEmpty(f, 0)) {
            compareUnderflow(cpu, f, false, 0);
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        X87Stack.load(s, f, 0, 0);
        s.loadInteger(1, 0);
        finishCompare(cpu, f, s, s.compare(true), false, 0);
    }

    private static void finishCompare(Processor cpu, X87Registers f, SoftFloat s, int order, boolean toFlags, int pops) {
        if (!X87Stack.commit(f, s, false)) {
            return;
        }
        setOrder(cpu, f, order, toFlags);
        for (int p = 0; p < pops; p++) {
            X87Stack.pop(f);
        }
    }

    private static void compareUnderflow(Processor cpu, X87Registers f, boolean toFlags, int pops) {
        if (!X87Stack.stackFault(f, false)) {
            return;
        }
        setOrder(cpu, f, SoftFloat.UNORDERED, toFlags);
        for (int p = 0; p < pops; p++) {
            X87Stack.pop(f);
        }
    }

    /** C3 C2 C0 (or ZF PF CF): greater 000, less 001, equal 100, unordered 111. */
    private static void setOrder(Processor cpu, X87Registers f, int order, boolean toFlags) {
        boolean low = order == SoftFloat.LESS || order == SoftFloat.UNORDERED;
        boolean zero = order == SoftFloat.EQUAL || order == SoftFloat.UNORDERED;
        boolean parity = order == SoftFloat.UNORDERED;
        if (toFlags) {
            cpu.state.flags.setArithmetic((low ? Flags.CF : 0) | (zero ? Flags.ZF : 0) | (parity ? Flags.PF : 0));
        } else {
            f.status = (f.status & ~X87Registers.CONDITION_CODES) | (low ? X87Registers.C0 : 0)
                    | (zero ? X87Registers.C3 : 0) | (parity ? X87Registers.C2 : 0);
        }
    }

    /** FXAM: the class of ST(0) in C3 C2 C0 and its sign in C1; never signals. */
    public static void examine(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int r = f.physical(0);
        int exponent = f.signExponent[r] & 0x7FFF;
        long m = f.significand[r];
        int kind;
        if (!f.isValid(r)) {
            kind = X87Registers.C3 | X87Registers.C0;
        } else if (exponent == 0) {
            kind = m == 0 ? X87Registers.C3 : X87Registers.C3 | X87Registers.C2;
        } else if (m >= 0) {
            kind = 0;
        } else if (exponent == 0x7FFF) {
            kind = m << 1 == 0 ? X87Registers.C2 | X87Registers.C0 : X87Registers.C0;
        } else {
            kind = X87Registers.C2;
        }
        boolean negative = (f.signExponent[r] & 0x8000) != 0;
        f.status = (f.status & ~X87Registers.CONDITION_CODES) | kind | (negative ? X87Registers.C1 : 0);
    }

    // ---- operations on ST(0) --------------------------------------------------------------------

    /** FCHS: the sign flipped, even of a NaN; never signals. */
    public static void changeSign(Processor cpu, Instruction i) {
        changeSignBit(cpu.state.x87, false);
    }

    /** FABS: the sign cleared. */
    public static void absolute(Processor cpu, Instruction i) {
        changeSignBit(cpu.state.x87, true);
    }

    private static void changeSignBit(X87Registers f, boolean clear) {
        int r = f.physical(0);
        if (!f.isValid(r)) {
            X87Stack.underflow(f, r);
            return;
        }
        X87Stack.clearConditions(f, false);
        f.signExponent[r] = clear ? f.signExponent[r] & 0x7FFF : f.signExponent[r] ^ 0x8000;
    }

    public static void squareRoot(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTop(cpu, f);
        if (s != null) {
            s.squareRoot();
            X87Stack.storeResult(s, f, f.physical(0), X87Stack.arithmeticPrecision(f));
        }
    }

    /** FRNDINT: to an integral value by the rounding control. */
    public static void roundToInteger(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTop(cpu, f);
        if (s != null) {
            s.roundToIntegral();
            X87Stack.storeResult(s, f, f.physical(0), 64);
        }
    }

    /** FSCALE: ST(0) times 2^trunc(ST(1)). */
    public static void scale(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTopTwo(cpu, f, 0, false);
        if (s != null) {
            s.scale();
            X87Stack.storeResult(s, f, f.physical(0), 64);
        }
    }

    /** FPREM and FPREM1: the partial remainder, C2 set while incomplete, else C0 C3 C1 the quotient's low bits. */
    public static void partialRemainder(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        SoftFloat s = X87Stack.loadTopTwo(cpu, f, 0, false);
        if (s == null) {
            return;
        }
        int quotient = s.partialRemainder(X87Stack.extra(i) == NEAREST);
        if (!X87Stack.storeResult(s, f, f.physical(0), 64)) {
            return;
        }
        int codes = quotient < 0 ? X87Registers.C2
                : ((quotient & 4) != 0 ? X87Registers.C0 : 0) | ((quotient & 2) != 0 ? X87Registers.C3 : 0)
                | ((quotient & 1) != 0 ? X87Registers.C1 : 0);
        f.status = (f.status & ~X87Registers.CONDITION_CODES) | codes;
    }

    /** FXTRACT: ST(0) becomes its exponent and the significand (with exponent 0) is pushed. */
    public static void extract(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int top = f.physical(0);
        if (!f.isValid(top)) {
            X87Stack.underflow(f, top);
            return;
        }
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        X87Stack.load(s, f, 0, 0);
        boolean negative = s.isNegative(0);
        int exponentSignExponent;
        long exponent;
        int significandSignExponent;
        long significand;
        if (s.isZero(0)) {
            s.raise(SoftFloat.DIVIDE_BY_ZERO);
            exponentSignExponent = 0xFFFF;
            exponent = Long.MIN_VALUE;
            significandSignExponent = f.signExponent[top] & 0x8000;
            significand = 0;
        } else if (s.isFinite(0) || s.isInfinite(0)) {
            if (s.isInfinite(0)) {
                s.setInfinity(false);
            } else {
                s.extractExponent();
            }
            exponent = s.store(SoftFloat.EXTENDED);
            exponentSignExponent = s.storedSignExponent();
            if (s.isInfinite(0)) {
                s.setInfinity(negative);
            } else {
                s.extractSignificand();
            }
            significand = s.store(SoftFloat.EXTENDED);
            significandSignExponent = s.storedSignExponent();
        } else {
            s.passThrough();
            exponent = s.store(SoftFloat.EXTENDED);
            exponentSignExponent = s.storedSignExponent();
            significand = exponent;
            significandSignExponent = exponentSignExponent;
        }
        if (!X87Stack.commit(f, s, false)) {
            return;
        }
        X87Stack.write(f, top, exponentSignExponent, exponent);
        X87Stack.push(f, significandSignExponent, significand);
    }
}
