package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.XmmRegisters;

/**
 * Operand access the SSE and MMX families share: a 128-bit source is always read from an XMM
 * register, memory being staged into {@link XmmRegisters#STAGED} first, so each operation has
 * one code path and allocates nothing.
 */
final class VectorOperands {
    private VectorOperands() {
    }

    /** The XMM register that holds the 128-bit r/m source: ModRM.rm's, or the staged memory operand. */
    static int source(Processor cpu, Instruction i) {
        if (!i.memory()) {
            return i.rm();
        }
        long offset = cpu.effectiveAddress(i);
        long low = cpu.readMemory(i.segment(), offset, 8);
        long high = cpu.readMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 8);
        cpu.state.sse.set(XmmRegisters.STAGED, low, high);
        return XmmRegisters.STAGED;
    }

    /** The low {@code size} bytes of the r/m source (an XMM register's low lane, or memory), zero-extended. */
    static long sourceLow(Processor cpu, Instruction i, int size) {
        if (i.memory()) {
            return cpu.readMemory(i.segment(), cpu.effectiveAddress(i), size);
        }
        long value = cpu.state.sse.low(i.rm());
        return size == 8 ? value : value & ((1L << (size * 8)) - 1);
    }

    /** Writes 16 bytes to the memory operand, all or nothing. */
    static void store(Processor cpu, Instruction i, long low, long high) {
        long offset = cpu.effectiveAddress(i);
        cpu.requireWritable(i.segment(), offset, 16);
        cpu.writeMemory(i.segment(), offset, 8, low);
        cpu.writeMemory(i.segment(), Processor.wrapAddress(offset + 8, i.addressSize()), 8, high);
    }

    /** The 64-bit r/m source of an MMX instruction: an MMX register or memory. */
    static long mmxSource(Processor cpu, Instruction i) {
        return i.memory() ? cpu.readMemory(i.segment(), cpu.effectiveAddress(i), 8) : cpu.state.x87.mmx(i.rm());
    }

    /** The general-register or memory source of {@code size} bytes (MOVD, PINSRW, CVTSI2SD). */
    static long integerSource(Processor cpu, Instruction i, int size) {
        return i.memory() ? cpu.readMemory(i.segment(), cpu.effectiveAddress(i), size) : cpu.state.read(i.rm(), size);
    }
}
