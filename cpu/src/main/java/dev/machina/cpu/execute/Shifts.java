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
        cpu.state.flags.setArithmetic(Flags.CF | Flags.OF, (carry ? Flags.CF : 0) | (overflow ? Flags.OF : 0));
    }

    public static void shl(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        int bits = i.operandSize() * 8;
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        long r = count >= 64 ? 0 : a << count;
        boolean carry = count <= bits && ((a >>> (bits - count)) & 1) != 0;
        finish(cpu, i, r, carry, (msb(r, i.operandSize()) != 0) != carry);
    }

    public static void shr(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        long r = a >>> count;
        finish(cpu, i, r, ((a >>> (count - 1)) & 1) != 0, msb(a, i.operandSize()) != 0);
    }

    public static void sar(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        long a = Arithmetic.signExtend(cpu.readDestination(i), i.operandSize());
        long r = a >> count;
        finish(cpu, i, r, ((a >> (count - 1)) & 1) != 0, false);
    }

    public static void rol(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        int bits = i.operandSize() * 8;
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        int by = count % bits;
        long r = by == 0 ? a : ((a << by) | (a >>> (bits - by))) & Arithmetic.mask(i.operandSize());
        boolean carry = (r & 1) != 0;
        finishRotate(cpu, i, r, carry, (msb(r, i.operandSize()) != 0) != carry);
    }

    public static void ror(Processor cpu, Instruction i) {
        int count = count(cpu, i);
        if (count == 0) {
            return;
        }
        int bits = i.operandSize() * 8;
        long a = cpu.readDestination(i) & Arithmetic.mask(i.operandSize());
        int by = count % bits;
        long r = by == 0 ? a : ((a >>> by) | (a << (bits - by))) & Arithmetic.mask(i.operandSize());
        boolean carry = msb(r, i.operandSize()) != 0;
        finishRotate(cpu, i, r, carry, carry != (((r >>> (bits - 2)) & 1) != 0));
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
