package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.X87Registers;

/**
 * x87 data transfer: FLD and FST(P) of 32-, 64- and 80-bit reals and of registers, FILD,
 * FIST(P), FISTTP, FBLD, FBSTP, the constants, FXCH, FCMOVcc, FFREE and the stack-pointer moves.
 * 80-bit loads and stores copy the register exactly; the narrower formats convert through
 * {@link SoftFloat}, rounding by the control word.
 */
public final class X87Transfers {
    /**
     * Argument bits above the opcode: the memory format (a {@link SoftFloat} format, or for
     * integers the size as 2 bytes shifted left by 0, 1 or 2), a pop, truncation.
     */
    public static final int POP = 1 << 2;
    public static final int TRUNCATE = 1 << 3;

    /**
     * The constants of FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 and FLDZ: 64 significand bits
     * and the next 64 of the exact value, so each rounds by the rounding control as on hardware.
     */
    private static final int[] CONSTANT_EXPONENT = {0x3FFF, 0x4000, 0x3FFF, 0x4000, 0x3FFD, 0x3FFE, 0};
    private static final long[] CONSTANT_HIGH = {1L << 63, 0xD49A_784B_CD1B_8AFEL, 0xB8AA_3B29_5C17_F0BBL,
            0xC90F_DAA2_2168_C234L, 0x9A20_9A84_FBCF_F798L, 0xB172_17F7_D1CF_79ABL, 0};
    private static final long[] CONSTANT_LOW = {0, 0x492B_F6FF_4DAF_DB4CL, 0xBE87_FED0_691D_3E88L,
            0xC4C6_628B_80DC_1CD1L, 0x8F89_59AC_0B7C_9178L, 0xC9E3_B398_03F2_F6AFL, 0};

    private X87Transfers() {
    }

    /** The memory format of a load or store: single, double or extended, from the argument. */
    private static int format(Instruction i) {
        return X87Stack.extra(i) & 3;
    }

    private static boolean pops(Instruction i) {
        return (X87Stack.extra(i) & POP) != 0;
    }

    // ---- loads ----------------------------------------------------------------------------------

    /** FLD m32/m64/m80. */
    public static void loadReal(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int format = format(i);
        long offset = cpu.effectiveAddress(i);
        if (format == SoftFloat.EXTENDED) {
            long significand = cpu.readMemory(i.segment(), offset, 8);
            int signExponent = (int) cpu.readMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 2);
            if (X87Stack.isFull(f)) {
                X87Stack.overflow(f);
                return;
            }
            X87Stack.clearConditions(f, false);
            X87Stack.push(f, signExponent, significand);
            return;
        }
        long bits = cpu.readMemory(i.segment(), offset, format == SoftFloat.SINGLE ? 4 : 8);
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        s.load(0, format, bits);
        s.passThrough();
        X87Stack.pushResult(s, f);
    }

    /** FLD ST(i): pushes a copy of ST(i), read before the push. */
    public static void loadRegister(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int source = f.physical(X87Stack.stackOperand(i));
        if (!f.isValid(source)) {
            if (X87Stack.stackFault(f, false) && !X87Stack.isFull(f)) {
                X87Stack.push(f, X87Stack.INDEFINITE_SIGN_EXPONENT, X87Stack.INDEFINITE);
            }
            return;
        }
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        X87Stack.clearConditions(f, false);
        X87Stack.push(f, f.signExponent[source], f.significand[source]);
    }

    /** FILD m16/m32/m64: exact, every integer fits the 64-bit significand. */
    public static void loadInteger(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int size = 2 << (X87Stack.extra(i) & 3);
        long value = Arithmetic.signExtend(cpu.readMemory(i.segment(), cpu.effectiveAddress(i), size), size);
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        s.loadInteger(0, value);
        s.passThrough();
        X87Stack.pushResult(s, f);
    }

    /** FLD1 and the other constants (the argument's extra bits index them). */
    public static void loadConstant(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        int k = X87Stack.extra(i);
        X87Stack.clearConditions(f, false);
        if (CONSTANT_HIGH[k] == 0) {
            X87Stack.push(f, 0, 0);
            return;
        }
        X87Stack.push(f, CONSTANT_EXPONENT[k], rounded(f, k));
    }

    /** The constant's significand rounded by RC (none of them is near a carry out); constants never signal. */
    private static long rounded(X87Registers f, int k) {
        long high = CONSTANT_HIGH[k];
        long low = CONSTANT_LOW[k];
        if (low == 0) {
            return high;
        }
        boolean up = switch ((f.control >> X87Registers.ROUNDING_SHIFT) & 3) {
            case SoftFloat.NEAREST -> low < 0 && ((low << 1) != 0 || (high & 1) != 0);
            case SoftFloat.UP -> true;
            default -> false;
        };
        return up ? high + 1 : high;
    }

    /** FBLD m80: 18 packed BCD digits and a sign byte, exactly. */
    public static void loadDecimal(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long offset = cpu.effectiveAddress(i);
        long digits = cpu.readMemory(i.segment(), offset, 8);
        long top = cpu.readMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 2);
        if (X87Stack.isFull(f)) {
            X87Stack.overflow(f);
            return;
        }
        long value = 0;
        for (int d = 17; d >= 0; d--) {
            long nibble = d >= 16 ? (top >>> (4 * (d - 16))) & 0xF : (digits >>> (4 * d)) & 0xF;
            value = value * 10 + nibble;
        }
        SoftFloat s = cpu.floatingPoint();
        s.beginX87(f.control);
        s.loadInteger(0, (top & 0x8000) != 0 ? -value : value);
        s.passThrough();
        long significand = s.store(SoftFloat.EXTENDED, 64);
        int signExponent = s.storedSignExponent() | (int) (top & 0x8000);
        X87Stack.clearConditions(f, false);
        X87Stack.push(f, signExponent, significand);
    }

    // ---- stores ---------------------------------------------------------------------------------

    /** FST and FSTP m32/m64/m80. */
    public static void storeReal(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int format = format(i);
        long offset = cpu.effectiveAddress(i);
        int top = f.physical(0);
        int signExponent;
        long bits;
        if (!f.isValid(top)) {
            if (!X87Stack.stackFault(f, false)) {
                return;
            }
            signExponent = X87Stack.INDEFINITE_SIGN_EXPONENT;
            bits = format == SoftFloat.SINGLE ? 0xFFC0_0000L : format == SoftFloat.DOUBLE ? 0xFFF8_0000_0000_0000L
                    : X87Stack.INDEFINITE;
        } else if (format == SoftFloat.EXTENDED) {
            X87Stack.clearConditions(f, false);
            signExponent = f.signExponent[top];
            bits = f.significand[top];
        } else {
            SoftFloat s = cpu.floatingPoint();
            s.beginX87(f.control);
            s.loadExtended(0, f.signExponent[top], f.significand[top]);
            s.passThrough();
            bits = s.store(format);
            signExponent = 0;
            // Loading ST(0) flags a denormal, which a store does not report.
            s.clearDenormal();
            if (!X87Stack.commit(f, s, true)) {
                return;
            }
        }
        if (format == SoftFloat.EXTENDED) {
            cpu.requireWritable(i.segment(), offset, 10);
            cpu.writeMemory(i.segment(), offset, 8, bits);
            cpu.writeMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 2, signExponent);
        } else {
            cpu.writeMemory(i.segment(), offset, format == SoftFloat.SINGLE ? 4 : 8, bits);
        }
        if (pops(i)) {
            X87Stack.pop(f);
        }
    }

    /** FST and FSTP ST(i). */
    public static void storeRegister(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int top = f.physical(0);
        int destination = f.physical(X87Stack.stackOperand(i));
        if (!f.isValid(top)) {
            if (!X87Stack.stackFault(f, false)) {
                return;
            }
            X87Stack.write(f, destination, X87Stack.INDEFINITE_SIGN_EXPONENT, X87Stack.INDEFINITE);
        } else {
            X87Stack.clearConditions(f, false);
            X87Stack.write(f, destination, f.signExponent[top], f.significand[top]);
        }
        if (pops(i)) {
            X87Stack.pop(f);
        }
    }

    /** FIST, FISTP and FISTTP m16/m32/m64: out of range or NaN stores the integer indefinite. */
    public static void storeInteger(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int size = 2 << (X87Stack.extra(i) & 3);
        long offset = cpu.effectiveAddress(i);
        int top = f.physical(0);
        long value;
        if (!f.isValid(top)) {
            if (!X87Stack.stackFault(f, false)) {
                return;
            }
            value = 1L << (size * 8 - 1);
        } else {
            SoftFloat s = cpu.floatingPoint();
            s.beginX87(f.control);
            if ((X87Stack.extra(i) & TRUNCATE) != 0) {
                s.setRounding(SoftFloat.TOWARD_ZERO);
            }
            s.loadExtended(0, f.signExponent[top], f.significand[top]);
            s.clearDenormal();
            value = s.toInteger(size * 8);
            if (!X87Stack.commit(f, s, true)) {
                return;
            }
        }
        cpu.writeMemory(i.segment(), offset, size, value);
        if (pops(i)) {
            X87Stack.pop(f);
        }
    }

    /** FBSTP m80: ST(0) rounded to an integer and stored as 18 BCD digits; too large stores the BCD indefinite. */
    public static void storeDecimal(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long offset = cpu.effectiveAddress(i);
        int top = f.physical(0);
        long digits;
        long high;
        if (!f.isValid(top)) {
            if (!X87Stack.stackFault(f, false)) {
                return;
            }
            digits = 0xC000_0000_0000_0000L;
            high = 0xFFFF;
        } else {
            SoftFloat s = cpu.floatingPoint();
            s.beginX87(f.control);
            s.loadExtended(0, f.signExponent[top], f.significand[top]);
            s.clearDenormal();
            long value = s.toInteger(64);
            long magnitude = Math.abs(value);
            if ((s.flags() & SoftFloat.INVALID) == 0 && (value == Long.MIN_VALUE || magnitude > 999_999_999_999_999_999L)) {
                s.raise(SoftFloat.INVALID);
            }
            if (!X87Stack.commit(f, s, true)) {
                return;
            }
            if ((s.flags() & SoftFloat.INVALID) != 0) {
                digits = 0xC000_0000_0000_0000L;
                high = 0xFFFF;
            } else {
                digits = 0;
                for (int d = 0; d < 16; d++) {
                    digits |= (magnitude % 10) << (4 * d);
                    magnitude /= 10;
                }
                high = (magnitude % 10) | (magnitude / 10) << 4 | (value < 0 || (f.signExponent[top] & 0x8000) != 0 ? 0x8000 : 0);
            }
        }
        cpu.requireWritable(i.segment(), offset, 10);
        cpu.writeMemory(i.segment(), offset, 8, digits);
        cpu.writeMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 2, high);
        X87Stack.pop(f);
    }

    // ---- the stack itself -------------------------------------------------------------------------

    /** FXCH ST(i): an empty operand becomes the indefinite when IE is masked. */
    public static void exchange(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int a = f.physical(0);
        int b = f.physical(X87Stack.stackOperand(i));
        if (!f.isValid(a) || !f.isValid(b)) {
            if (!X87Stack.stackFault(f, false)) {
                return;
            }
            if (!f.isValid(a)) {
                X87Stack.write(f, a, X87Stack.INDEFINITE_SIGN_EXPONENT, X87Stack.INDEFINITE);
            }
            if (!f.isValid(b)) {
                X87Stack.write(f, b, X87Stack.INDEFINITE_SIGN_EXPONENT, X87Stack.INDEFINITE);
            }
        } else {
            X87Stack.clearConditions(f, false);
        }
        long significand = f.significand[a];
        int signExponent = f.signExponent[a];
        f.significand[a] = f.significand[b];
        f.signExponent[a] = f.signExponent[b];
        f.significand[b] = significand;
        f.signExponent[b] = signExponent;
    }

    /**
     * FCMOVcc ST(0), ST(i): DA C0-DF are B, E, BE, U; DB C0-DF their negations (the opcode's low
     * bit and ModRM.reg pick the condition).
     */
    public static void moveIf(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        int a = f.physical(0);
        int b = f.physical(X87Stack.stackOperand(i));
        if (!f.isValid(a) || !f.isValid(b)) {
            X87Stack.underflow(f, a);
            return;
        }
        Flags flags = cpu.state.flags;
        boolean condition = switch (X87Stack.operation(i) & 3) {
            case 0 -> flags.carry();
            case 1 -> flags.zero();
            case 2 -> flags.carry() || flags.zero();
            default -> flags.parity();
        };
        if ((i.argument() & 1) != 0) {
            condition = !condition;
        }
        X87Stack.clearConditions(f, false);
        if (condition) {
            X87Stack.write(f, a, f.signExponent[b], f.significand[b]);
        }
    }

    /** FFREE ST(i), and FFREEP (DF C0+i), which also pops. */
    public static void free(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        f.valid &= ~(1 << f.physical(X87Stack.stackOperand(i)));
        if (pops(i)) {
            X87Stack.pop(f);
        }
    }

    /** FINCSTP: TOP + 1, tags untouched. */
    public static void incrementTop(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        X87Stack.clearConditions(f, false);
        f.top = (f.top + 1) & 7;
    }

    /** FDECSTP: TOP - 1, tags untouched. */
    public static void decrementTop(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        X87Stack.clearConditions(f, false);
        f.top = (f.top - 1) & 7;
    }
}
