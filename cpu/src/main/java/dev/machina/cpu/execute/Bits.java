package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.decode.Operand;
import dev.machina.cpu.state.Flags;

/** BT, BTS, BTR, BTC, BSF, BSR, LZCNT, POPCNT, BSWAP. */
public final class Bits {
    private static final int TEST = 0;
    private static final int SET = 1;
    private static final int RESET = 2;
    private static final int COMPLEMENT = 3;

    private Bits() {
    }

    public static void test(Processor cpu, Instruction i) {
        bitOperation(cpu, i, TEST);
    }

    public static void testAndSet(Processor cpu, Instruction i) {
        bitOperation(cpu, i, SET);
    }

    public static void testAndReset(Processor cpu, Instruction i) {
        bitOperation(cpu, i, RESET);
    }

    public static void testAndComplement(Processor cpu, Instruction i) {
        bitOperation(cpu, i, COMPLEMENT);
    }

    /**
     * A register bit offset reaches beyond a memory operand (signed, in operand-sized steps); an
     * immediate offset and any offset into a register wrap within the operand.
     */
    private static void bitOperation(Processor cpu, Instruction i, int operation) {
        int size = i.operandSize();
        int bits = size * 8;
        long offset = cpu.readSource(i);
        long bit = 1L << (offset & (bits - 1));
        long value;
        if (!i.memory()) {
            value = cpu.state.read(i.rm(), size);
            if (operation != TEST) {
                cpu.state.write(i.rm(), size, apply(operation, value, bit));
            }
        } else {
            long address = cpu.effectiveAddress(i);
            if (i.source() == Operand.REG) {
                long signedOffset = Arithmetic.signExtend(offset, size);
                address = Processor.wrapAddress(address + (signedOffset >> Integer.numberOfTrailingZeros(bits)) * size, i.addressSize());
            }
            long host = i.has(Instruction.LOCK) ? cpu.atomicHost(i.segment(), address, size) : -1;
            if (host >= 0) {
                do {
                    value = cpu.readHost(host, size);
                } while (!cpu.compareAndSetHost(host, size, value, apply(operation, value, bit)));
            } else {
                if (i.has(Instruction.LOCK)) {
                    cpu.lockBus();
                }
                value = cpu.readMemory(i.segment(), address, size);
                if (operation != TEST) {
                    cpu.writeMemory(i.segment(), address, size, apply(operation, value, bit));
                }
            }
        }
        cpu.state.flags.setArithmetic(Flags.CF, (value & bit) != 0 ? Flags.CF : 0);
    }

    private static long apply(int operation, long value, long bit) {
        return switch (operation) {
            case SET -> value | bit;
            case RESET -> value & ~bit;
            case COMPLEMENT -> value ^ bit;
            default -> value;
        };
    }

    /** BSF: a zero source sets ZF and leaves the destination unchanged (as AMD documents and Intel does). */
    public static void scanForward(Processor cpu, Instruction i) {
        long source = cpu.readRm(i, i.operandSize());
        if (source == 0) {
            cpu.state.flags.setArithmetic(Flags.ZF);
            return;
        }
        cpu.writeReg(i, Long.numberOfTrailingZeros(source));
        cpu.state.flags.setArithmetic(0);
    }

    public static void scanReverse(Processor cpu, Instruction i) {
        long source = cpu.readRm(i, i.operandSize());
        if (source == 0) {
            cpu.state.flags.setArithmetic(Flags.ZF);
            return;
        }
        cpu.writeReg(i, 63 - Long.numberOfLeadingZeros(source));
        cpu.state.flags.setArithmetic(0);
    }

    public static void countLeadingZeros(Processor cpu, Instruction i) {
        long source = cpu.readRm(i, i.operandSize());
        int count = Long.numberOfLeadingZeros(source) - (64 - i.operandSize() * 8);
        cpu.writeReg(i, count);
        cpu.state.flags.setArithmetic((source == 0 ? Flags.CF : 0) | (count == 0 ? Flags.ZF : 0));
    }

    public static void populationCount(Processor cpu, Instruction i) {
        long source = cpu.readRm(i, i.operandSize());
        cpu.writeReg(i, Long.bitCount(source));
        cpu.state.flags.setArithmetic(source == 0 ? Flags.ZF : 0);
    }

    /** BSWAP; with a 16-bit operand the result is undefined by the SDM and zero on hardware. */
    public static void byteSwap(Processor cpu, Instruction i) {
        long value = cpu.state.read(i.reg(), i.operandSize());
        long swapped = switch (i.operandSize()) {
            case 8 -> Long.reverseBytes(value);
            case 4 -> Integer.reverseBytes((int) value) & 0xFFFF_FFFFL;
            default -> 0;
        };
        cpu.writeReg(i, swapped);
    }
}
