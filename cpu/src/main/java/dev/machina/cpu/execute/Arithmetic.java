package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.Flags.Kind;

/**
 * Integer arithmetic: ADD, ADC, SUB, SBB, CMP, INC, DEC, NEG, MUL, IMUL, DIV, IDIV, XADD, CMPXCHG,
 * CMPXCHG8B/16B and the accumulator widenings. The destination is written before the flags are
 * recorded, so a faulting write leaves RFLAGS as it was.
 */
public final class Arithmetic {
    private Arithmetic() {
    }

    public static void add(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.readSource(i);
        long r = a + b;
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.ADD, i.operandSize(), a, b, false, r);
    }

    public static void adc(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.readSource(i);
        boolean carry = cpu.state.flags.carry();
        long r = a + b + (carry ? 1 : 0);
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.ADC, i.operandSize(), a, b, carry, r);
    }

    public static void sub(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.readSource(i);
        long r = a - b;
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.SUB, i.operandSize(), a, b, false, r);
    }

    public static void sbb(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.readSource(i);
        boolean carry = cpu.state.flags.carry();
        long r = a - b - (carry ? 1 : 0);
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.SBB, i.operandSize(), a, b, carry, r);
    }

    public static void cmp(Processor cpu, Instruction i) {
        long a = cpu.read(i, i.destination());
        long b = cpu.readSource(i);
        cpu.state.flags.record(Kind.SUB, i.operandSize(), a, b, false, a - b);
    }

    public static void inc(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long r = a + 1;
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.INC, i.operandSize(), a, 1, false, r);
    }

    public static void dec(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long r = a - 1;
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.DEC, i.operandSize(), a, 1, false, r);
    }

    public static void neg(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long r = -a;
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.SUB, i.operandSize(), 0, a, false, r);
    }

    public static void exchangeAdd(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.state.read(i.reg(), i.operandSize());
        long r = a + b;
        if (i.memory()) {
            cpu.writeDestination(i, r);
            cpu.writeReg(i, a);
        } else {
            // The destination is written last: XADD of a register with itself leaves the sum.
            cpu.writeReg(i, a);
            cpu.writeDestination(i, r);
        }
        cpu.state.flags.record(Kind.ADD, i.operandSize(), a, b, false, r);
    }

    public static void compareExchange(Processor cpu, Instruction i) {
        long current = cpu.readDestination(i);
        long expected = cpu.state.read(CpuState.RAX, i.operandSize());
        if (expected == current) {
            cpu.writeDestination(i, cpu.state.read(i.reg(), i.operandSize()));
        } else {
            cpu.state.write(CpuState.RAX, i.operandSize(), current);
        }
        cpu.state.flags.record(Kind.SUB, i.operandSize(), expected, current, false, expected - current);
    }

    /** CMPXCHG8B, and CMPXCHG16B with REX.W (which needs a 16-byte aligned operand). */
    public static void compareExchangeDouble(Processor cpu, Instruction i) {
        long[] r = cpu.state.registers;
        int half = i.operandSize() == 8 ? 8 : 4;
        long offset = cpu.effectiveAddress(i);
        if (half == 8 && (cpu.linear(i.segment(), offset) & 15) != 0) {
            throw CpuException.generalProtection();
        }
        if (half == 4 && i.has(Instruction.LOCK)) {
            long host = cpu.atomicHost(i.segment(), offset, 8);
            if (host >= 0) {
                compareExchange8Atomically(cpu, host);
                return;
            }
        }
        if (i.has(Instruction.LOCK)) {
            cpu.lockBus(); // CMPXCHG16B: Java has no 16-byte compare-and-set; the bus lock holds off the others
        }
        long low = cpu.readMemory(i.segment(), offset, half);
        long high = cpu.readMemory(i.segment(), offset + half, half);
        boolean equal = low == cpu.state.read(CpuState.RAX, half) && high == cpu.state.read(CpuState.RDX, half);
        if (equal) {
            cpu.writeMemory(i.segment(), offset, half, r[CpuState.RBX]);
            cpu.writeMemory(i.segment(), offset + half, half, r[CpuState.RCX]);
        } else {
            cpu.state.write(CpuState.RAX, half, low);
            cpu.state.write(CpuState.RDX, half, high);
        }
        cpu.state.flags.setArithmetic(Flags.ZF, equal ? Flags.ZF : 0);
    }

    private static void compareExchange8Atomically(Processor cpu, long host) {
        long expected = cpu.state.read(CpuState.RDX, 4) << 32 | cpu.state.read(CpuState.RAX, 4);
        long replacement = cpu.state.read(CpuState.RCX, 4) << 32 | cpu.state.read(CpuState.RBX, 4);
        long current;
        boolean equal;
        do {
            current = cpu.readHost(host, 8);
            equal = current == expected;
        } while (equal && !cpu.compareAndSetHost(host, 8, expected, replacement));
        if (!equal) {
            cpu.state.write(CpuState.RAX, 4, current);
            cpu.state.write(CpuState.RDX, 4, current >>> 32);
        }
        cpu.state.flags.setArithmetic(Flags.ZF, equal ? Flags.ZF : 0);
    }

    public static void mul(Processor cpu, Instruction i) {
        int size = i.operandSize();
        long a = cpu.state.read(CpuState.RAX, size);
        long b = cpu.readRm(i, size);
        long low;
        long high;
        if (size == 8) {
            low = a * b;
            high = Math.unsignedMultiplyHigh(a, b);
        } else {
            long product = a * b;
            low = product & mask(size);
            high = product >>> (size * 8);
        }
        storeProduct(cpu, size, low, high, high != 0);
    }

    public static void imul(Processor cpu, Instruction i) {
        int size = i.operandSize();
        long a = signExtend(cpu.state.read(CpuState.RAX, size), size);
        long b = signExtend(cpu.readRm(i, size), size);
        long low;
        long high;
        boolean overflow;
        if (size == 8) {
            low = a * b;
            high = Math.multiplyHigh(a, b);
            overflow = high != (low >> 63);
        } else {
            long product = a * b;
            low = product & mask(size);
            high = (product >> (size * 8)) & mask(size);
            overflow = product != signExtend(product, size);
        }
        storeProduct(cpu, size, low, high, overflow);
    }

    private static void storeProduct(Processor cpu, int size, long low, long high, boolean overflow) {
        if (size == 1) {
            cpu.state.write(CpuState.RAX, 2, (high << 8) | (low & 0xFF));
        } else {
            cpu.state.write(CpuState.RAX, size, low);
            cpu.state.write(CpuState.RDX, size, high);
        }
        cpu.state.flags.setArithmetic(Flags.signZeroParity(low, size) | (overflow ? Flags.CF | Flags.OF : 0));
    }

    /** IMUL r, r/m (0F AF): the product truncated to the operand size. */
    public static void imulRegister(Processor cpu, Instruction i) {
        truncatedProduct(cpu, i, cpu.state.read(i.reg(), i.operandSize()), cpu.readRm(i, i.operandSize()));
    }

    /** IMUL r, r/m, imm (69, 6B). */
    public static void imulImmediate(Processor cpu, Instruction i) {
        truncatedProduct(cpu, i, cpu.readRm(i, i.operandSize()), i.immediate());
    }

    private static void truncatedProduct(Processor cpu, Instruction i, long left, long right) {
        int size = i.operandSize();
        cpu.writeReg(i, truncatedProduct(size, left, right));
        cpu.state.flags.setArithmetic(truncatedProductFlags(size, left, right));
    }

    /** The signed product of two {@code size}-byte values, as the two- and three-operand IMUL keep it (and translated code computes it). */
    public static long truncatedProduct(int size, long left, long right) {
        return signExtend(left, size) * signExtend(right, size);
    }

    /** The flags of {@link #truncatedProduct}: CF and OF when the product does not fit, SF, ZF and PF of the kept part. */
    public static long truncatedProductFlags(int size, long left, long right) {
        long a = signExtend(left, size);
        long b = signExtend(right, size);
        long product = a * b;
        boolean overflow = size == 8 ? Math.multiplyHigh(a, b) != (product >> 63) : product != signExtend(product, size);
        return Flags.signZeroParity(product, size) | (overflow ? Flags.CF | Flags.OF : 0);
    }

    public static void div(Processor cpu, Instruction i) {
        int size = i.operandSize();
        long divisor = cpu.readRm(i, size);
        if (divisor == 0) {
            throw CpuException.of(Vector.DE);
        }
        if (size == 8) {
            long high = cpu.state.registers[CpuState.RDX];
            long low = cpu.state.registers[CpuState.RAX];
            if (Long.compareUnsigned(high, divisor) >= 0) {
                throw CpuException.of(Vector.DE);
            }
            long[] r = cpu.state.registers;
            long remainder = high;
            long quotient = low;
            // Restoring division of the 128-bit RDX:RAX, one quotient bit per step.
            for (int bit = 0; bit < 64; bit++) {
                boolean carry = remainder < 0;
                remainder = (remainder << 1) | (quotient >>> 63);
                quotient <<= 1;
                if (carry || Long.compareUnsigned(remainder, divisor) >= 0) {
                    remainder -= divisor;
                    quotient |= 1;
                }
            }
            r[CpuState.RAX] = quotient;
            r[CpuState.RDX] = remainder;
            return;
        }
        long dividend = dividend(cpu, size);
        long quotient = Long.divideUnsigned(dividend, divisor);
        if (Long.compareUnsigned(quotient, mask(size)) > 0) {
            throw CpuException.of(Vector.DE);
        }
        storeQuotient(cpu, size, quotient, Long.remainderUnsigned(dividend, divisor));
    }

    public static void idiv(Processor cpu, Instruction i) {
        int size = i.operandSize();
        long divisor = signExtend(cpu.readRm(i, size), size);
        if (divisor == 0) {
            throw CpuException.of(Vector.DE);
        }
        if (size == 8) {
            idiv128(cpu, divisor);
            return;
        }
        long dividend = signExtend(dividend(cpu, size), size * 2);
        if (dividend == Long.MIN_VALUE && divisor == -1) {
            throw CpuException.of(Vector.DE);
        }
        long quotient = dividend / divisor;
        if (quotient != signExtend(quotient, size)) {
            throw CpuException.of(Vector.DE);
        }
        storeQuotient(cpu, size, quotient, dividend % divisor);
    }

    private static void idiv128(Processor cpu, long divisor) {
        long[] r = cpu.state.registers;
        long high = r[CpuState.RDX];
        long low = r[CpuState.RAX];
        boolean negative = high < 0;
        if (negative) {
            low = -low;
            high = ~high + (low == 0 ? 1 : 0);
        }
        long magnitude = Math.abs(divisor);
        if (Long.compareUnsigned(high, magnitude) >= 0) {
            throw CpuException.of(Vector.DE);
        }
        long remainder = high;
        long quotient = low;
        for (int bit = 0; bit < 64; bit++) {
            boolean carry = remainder < 0;
            remainder = (remainder << 1) | (quotient >>> 63);
            quotient <<= 1;
            if (carry || Long.compareUnsigned(remainder, magnitude) >= 0) {
                remainder -= magnitude;
                quotient |= 1;
            }
        }
        boolean negativeQuotient = negative != (divisor < 0);
        if (negativeQuotient ? Long.compareUnsigned(quotient, 1L << 63) > 0 : quotient < 0) {
            throw CpuException.of(Vector.DE);
        }
        r[CpuState.RAX] = negativeQuotient ? -quotient : quotient;
        r[CpuState.RDX] = negative ? -remainder : remainder;
    }

    /** AX, DX:AX or EDX:EAX as one unsigned value. */
    private static long dividend(Processor cpu, int size) {
        if (size == 1) {
            return cpu.state.read(CpuState.RAX, 2);
        }
        return (cpu.state.read(CpuState.RDX, size) << (size * 8)) | cpu.state.read(CpuState.RAX, size);
    }

    private static void storeQuotient(Processor cpu, int size, long quotient, long remainder) {
        if (size == 1) {
            cpu.state.write(CpuState.RAX, 2, ((remainder & 0xFF) << 8) | (quotient & 0xFF));
        } else {
            cpu.state.write(CpuState.RAX, size, quotient);
            cpu.state.write(CpuState.RDX, size, remainder);
        }
    }

    /** CBW, CWDE, CDQE: the accumulator's lower half sign-extended into the whole. */
    public static void widenAccumulator(Processor cpu, Instruction i) {
        int size = i.operandSize();
        cpu.state.write(CpuState.RAX, size, signExtend(cpu.state.read(CpuState.RAX, size / 2), size / 2));
    }

    /** CWD, CDQ, CQO: the accumulator's sign spread through DX, EDX or RDX. */
    public static void splitAccumulator(Processor cpu, Instruction i) {
        int size = i.operandSize();
        long sign = signExtend(cpu.state.read(CpuState.RAX, size), size) >> 63;
        cpu.state.write(CpuState.RDX, size, sign);
    }

    public static long mask(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    public static long signExtend(long value, int size) {
        int shift = 64 - size * 8;
        return shift == 0 ? value : (value << shift) >> shift;
    }
}
