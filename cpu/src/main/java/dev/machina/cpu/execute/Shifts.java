package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;

/**
 * Shifts and rotates (ROL, ROR, RCL, RCR, SHL, SHR, SAR) and the double shifts SHLD/SHRD. A
 * count of zero (after masking to 5 bits, 6 for 64-bit operands) changes nothing, flags included.
 * Where the SDM leaves OF undefined for counts above one, OF follows the one-bit rule.
 */
public final class Shifts {
    /** The flags SHL, SHR and SAR write (AF reads as clear after them). */
    public static final long SHIFTED = Flags.ARITHMETIC;
    /** The flags the rotates write. */
    public static final long ROTATED = Flags.CF | Flags.OF;

    private Shifts() {
    }

    private static int count(Processor cpu, Instruction i) {
        return masked(cpu, i, (int) cpu.readSource(i));
    }

    /**
     * The count masked to 5 (or 6) bits. A zero count leaves flags and value alone, but a 32-bit
     * register destination is still written, so its upper half is cleared as for any 32-bit write.
     */
    private static int masked(Processor cpu, Instruction i, int raw) {
        int count = raw & (i.operandSize() == 8 ? 0x3F : 0x1F);
        if (count == 0 && i.operandSize() == 4 && !i.memory()) {
            cpu.writeDestination(i, cpu.readDestination(i));
        }
        return count;
    }

    private static long msb(long value, int size) {
        return (value >>> (size * 8 - 1)) & 1;
    }

    private static void finish(Processor cpu, Instruction i, long result, boolean carry, boolean overflow) {
        cpu.writeDestination(i, result);
        cpu.state.flags.setArithmetic(Flags.signZeroParity(result, i.operandSize())
                | (carry ? Flags.CF : 0) | (overflow ? Flags.OF : 0));
    }

    /** Rotates change only CF and OF. */
    private static void finishRotate(Processor cpu, Instruction i, long result, boolean carry, boolean overflow) {
        cpu.writeDestination(i, result);
        cpu.state.flags.setArithmetic(ROTATED, (carry ? Flags.CF : 0) | (overflow ? Flags.OF : 0));
    }

    /**
     * One of SHL, SHR, SAR, ROL, ROR on plain values: {@code xxxResult} is the {@code size}-byte
     * result of shifting {@code a} by a nonzero count already masked to 5 (6) bits, and
     * {@code xxxFlags} the bits of {@link #SHIFTED} or {@link #ROTATED} it sets. The family
     * methods below and translated code both compute through them.
     */
    public static long shlResult(int size, long a, int count) {
        return count >= 64 ? 0 : (a << count) & Arithmetic.mask(size);
    }

    public static long shlFlags(int size, long a, int count, long r) {
        int bits = size * 8;
        boolean carry = count <= bits && ((a >>> (bits - count)) & 1) != 0;
        return Flags.signZeroParity(r, size) | (carry ? Flags.CF : 0) | ((msb(r, size) != 0) != carry ? Flags.OF : 0);
    }

    public static long shrResult(int size, long a, int count) {
        return (a & Arithmetic.mask(size)) >>> count;
    }

    public static long shrFlags(int size, long a, int count, long r) {
        long value = a & Arithmetic.mask(size);
        return Flags.signZeroParity(r, size) | (((value >>> (count - 1)) & 1) != 0 ? Flags.CF : 0)
                | (msb(value, size) != 0 ? Flags.OF : 0);
    }

    public static long sarResult(int size, long a, int count) {
        return (Arithmetic.signExtend(a, size) >> count) & Arithmetic.mask(size);
    }

    public static long sarFlags(int size, long a, int count, long r) {
        return Flags.signZeroParity(r, size) | (((Arithmetic.signExtend(a, size) >> (count - 1)) & 1) != 0 ? Flags.CF : 0);
    }

    public static long rolResult(int size, long a, int count) {
        return switch (size) {
            case 8 -> Long.rotateLeft(a, count);
            case 4 -> Integer.rotateLeft((int) a, count) & 0xFFFF_FFFFL;
            default -> {
                int bits = size * 8;
                long value = a & Arithmetic.mask(size);
                int by = count % bits;
                yield by == 0 ? value : ((value << by) | (value >>> (bits - by))) & Arithmetic.mask(size);
            }
        };
    }

    public static long rolFlags(int size, long a, int count, long r) {
        boolean carry = (r & 1) != 0;
        return (carry ? Flags.CF : 0) | ((msb(r, size) != 0) != carry ? Flags.OF : 0);
    }

    public static long rorResult(int size, long a, int count) {
        return switch (size) {
            case 8 -> Long.rotateRight(a, count);
            case 4 -> Integer.rotateRight((int) a, count) & 0xFFFF_FFFFL;
            default -> {
                int bits = size * 8;
                long value = a & Arithmetic.mask(size);
                int by = count % bits;
                yield by == 0 ? value : ((value >>> by) | (value << (bits - by))) & Arithmetic.mask(size);
            }
        };
    }

    public static long rorFlags(int size, long a, int count, long r) {
        boolean carry = msb(r, size) != 0;
        return (carry ? Flags.CF : 0) | (carry != (((r >>> (size * 8 - 2)) & 1) != 0) ? Flags.OF : 0);
    }

    /** An operation of the family on plain values, as above. */
    private interface OnValues {
        long apply(int size, long a, int count);
    }

    private interface FlagsOf {
        long apply(int size, long a, int count, long r);
    }

    private static void shift(Processor cpu, Instruction i, OnValues result, FlagsOf flags, long changed) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        int size = i.operandSize();
        long a = cpu.readDestination(i);
        long r = result.apply(size, a, count);
        cpu.writeDestination(i, r);
        cpu.state.flags.setArithmetic(changed, flags.apply(size, a, count, r));
    }

    public static void shl(Processor cpu, Instruction i) {
        shift(cpu, i, Shifts::shlResult, Shifts::shlFlags, SHIFTED);
    }

    public static void shr(Processor cpu, Instruction i) {
        shift(cpu, i, Shifts::shrResult, Shifts::shrFlags, SHIFTED);
    }

    public static void sar(Processor cpu, Instruction i) {
        shift(cpu, i, Shifts::sarResult, Shifts::sarFlags, SHIFTED);
    }

    public static void rol(Processor cpu, Instruction i) {
        shift(cpu, i, Shifts::rolResult, Shifts::rolFlags, ROTATED);
    }

    public static void ror(Processor cpu, Instruction i) {
        shift(cpu, i, Shifts::rorResult, Shifts::rorFlags, ROTATED);
    }

    public static void rcl(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        int bits = i.operandSize() * 8;
        int by = i.operandSize() < 4 ? count % (bits + 1) : count;
        if (count == 0) {
            return;
        }
        long r = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        boolean carry = cpu.state.flags.carry();
        for (int step = 0; step < by; step++) {
            boolean out = msb(r, i.operandSize()) != 0;
            r = ((r << 1) | (carry ? 1 : 0)) & Arithmetic.mask(i.operandSize());
            carry = out;
        }
        finishRotate(cpu, i, r, carry, (msb(r, i.operandSize()) != 0) != carry);
    }

    public static void rcr(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        int bits = i.operandSize() * 8;
        int by = i.operandSize() < 4 ? count % (bits + 1) : count;
        if (count == 0) {
            return;
        }
        long r = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        boolean carry = cpu.state.flags.carry();
        for (int step = 0; step < by; step++) {
            boolean out = (r & 1) != 0;
            r = (r >>> 1) | ((carry ? 1L : 0) << (bits - 1));
            carry = out;
        }
        finishRotate(cpu, i, r, carry, msb(r, i.operandSize()) != ((r >>> (bits - 2)) & 1));
    }

    public static void shldByImmediate(Processor cpu, Instruction i) {
        shld(cpu, i, (int) i.immediate());
    }

    public static void shldByCl(Processor cpu, Instruction i) {
        shld(cpu, i, (int) cpu.state.registers[CpuState.RCX]);
    }

    public static void shrdByImmediate(Processor cpu, Instruction i) {
        shrd(cpu, i, (int) i.immediate());
    }

    public static void shrdByCl(Processor cpu, Instruction i) {
        shrd(cpu, i, (int) cpu.state.registers[CpuState.RCX]);
    }

    private static void shld(Processor cpu, Instruction i, int rawCount) {
        int count = masked(cpu, i, rawCount);
        if (count == 0) {
            return;
        }
        int bits = i.operandSize() * 8;
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        long b = cpu.state.read(i.reg(), i.operandSize());
        // A 16-bit count above 16 shifts through the concatenation b:a:b; 32/64-bit counts stay below the width.
        long wide = bits == 16 ? (a << 32) | (b << 16) | b : a;
        long r;
        boolean carry;
        if (bits == 16) {
            r = (wide << count) >>> 32 & 0xFFFF;
            carry = ((wide << (count - 1)) >>> 47 & 1) != 0;
        } else {
            r = (a << count) | (b >>> (bits - count));
            carry = ((a >>> (bits - count)) & 1) != 0;
        }
        r &= Arithmetic.mask(i.operandSize());
        finish(cpu, i, r, carry, msb(r, i.operandSize()) != msb(a, i.operandSize()));
    }

    private static void shrd(Processor cpu, Instruction i, int rawCount) {
        int count = masked(cpu, i, rawCount);
        if (count == 0) {
            return;
        }
        int bits = i.operandSize() * 8;
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        long b = cpu.state.read(i.reg(), i.operandSize());
        long r;
        boolean carry;
        if (bits == 16) {
            long wide = (b << 32) | (b << 16) | a;
            r = (wide >>> count) & 0xFFFF;
            carry = ((wide >>> (count - 1)) & 1) != 0;
        } else {
            r = (a >>> count) | (b << (bits - count));
            carry = ((a >>> (count - 1)) & 1) != 0;
        }
        r &= Arithmetic.mask(i.operandSize());
        finish(cpu, i, r, carry, msb(r, i.operandSize()) != msb(a, i.operandSize()));
    }
}
