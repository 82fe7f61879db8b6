package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.X87Registers;
import dev.machina.cpu.state.XmmRegisters;

/**
 * SSE and MMX data movement: whole registers (MOVAPS/MOVUPS/MOVDQA/MOVDQU and the non-temporal
 * stores), scalar lanes (MOVSS, MOVSD, MOVQ), halves (MOVLPS, MOVHPS, MOVHLPS, MOVLHPS), moves
 * between vector and general registers (MOVD, MOVQ), sign masks (MOVMSKPS/PD) and the masked
 * byte stores. Alignment of MOVAPS & co. is checked before they run, from the opcode map.
 */
public final class SseMoves {
    private SseMoves() {
    }

    /** MOVAPS, MOVUPS, MOVDQA, MOVDQU and the like, xmm = xmm/m128. */
    public static void load(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        x.set(i.reg(), x.low(s), x.high(s));
    }

    /** The stores, xmm/m128 = xmm (MOVNTPS, MOVNTDQ among them: a cache hint is nothing here). */
    public static void store(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        if (i.memory()) {
            VectorOperands.store(cpu, i, x.low(i.reg()), x.high(i.reg()));
        } else {
            x.set(i.rm(), x.low(i.reg()), x.high(i.reg()));
        }
    }

    /**
     * MOVSS and MOVSD xmm, xmm/m (argument: the lane's size in bytes): from memory the lane is
     * loaded and the rest of the register cleared; between registers only the lane moves.
     */
    public static void loadScalar(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int size = i.argument();
        if (i.memory()) {
            x.set(i.reg(), cpu.readMemory(i.segment(), cpu.effectiveAddress(i), size), 0);
        } else {
            long mask = size == 8 ? -1L : 0xFFFF_FFFFL;
            x.xmm[2 * i.reg()] = (x.low(i.reg()) & ~mask) | (x.low(i.rm()) & mask);
        }
    }

    /** MOVSS and MOVSD xmm/m, xmm. */
    public static void storeScalar(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int size = i.argument();
        if (i.memory()) {
            cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), size, x.low(i.reg()));
        } else {
            long mask = size == 8 ? -1L : 0xFFFF_FFFFL;
            x.xmm[2 * i.rm()] = (x.low(i.rm()) & ~mask) | (x.low(i.reg()) & mask);
        }
    }

    /** MOVQ xmm, xmm/m64 (F3 0F 7E): the low quadword, the high one cleared. */
    public static void loadQuadword(Processor cpu, Instruction i) {
        cpu.state.sse.set(i.reg(), VectorOperands.sourceLow(cpu, i, 8), 0);
    }

    /** MOVQ xmm/m64, xmm (66 0F D6): to a register, the high quadword is cleared. */
    public static void storeQuadword(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        if (i.memory()) {
            cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 8, x.low(i.reg()));
        } else {
            x.set(i.rm(), x.low(i.reg()), 0);
        }
    }

    /**
     * MOVLPS/MOVLPD xmm, m64 (argument 0) and MOVHPS/MOVHPD xmm, m64 (argument 1): one half from
     * memory, the other kept.
     */
    public static void loadHalf(Processor cpu, Instruction i) {
        cpu.state.sse.xmm[2 * i.reg() + i.argument()] = cpu.readMemory(i.segment(), cpu.effectiveAddress(i), 8);
    }

    /** MOVLPS/MOVLPD m64, xmm (argument 0) and MOVHPS/MOVHPD m64, xmm (argument 1). */
    public static void storeHalf(Processor cpu, Instruction i) {
        cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 8, cpu.state.sse.xmm[2 * i.reg() + i.argument()]);
    }

    /** MOVHLPS (argument 0): source high to destination low; MOVLHPS (1): source low to destination high. */
    public static void moveHalf(Processor cpu, Instruction i) {
        long[] x = cpu.state.sse.xmm;
        if (i.argument() == 0) {
            x[2 * i.reg()] = x[2 * i.rm() + 1];
        } else {
            x[2 * i.reg() + 1] = x[2 * i.rm()];
        }
    }

    /** MOVD/MOVQ xmm, r/m32/64 (66 0F 6E): zero-extended to 128 bits. */
    public static void toXmm(Processor cpu, Instruction i) {
        cpu.state.sse.set(i.reg(), VectorOperands.integerSource(cpu, i, i.operandSize()), 0);
    }

    /** MOVD/MOVQ r/m32/64, xmm (66 0F 7E). */
    public static void fromXmm(Processor cpu, Instruction i) {
        cpu.writeRm(i, i.operandSize(), cpu.state.sse.low(i.reg()));
    }

    /** MOVD/MOVQ mm, r/m32/64 (0F 6E). */
    public static void toMmx(Processor cpu, Instruction i) {
        cpu.state.x87.setMmx(i.reg(), VectorOperands.integerSource(cpu, i, i.operandSize()));
    }

    /** MOVD/MOVQ r/m32/64, mm (0F 7E). */
    public static void fromMmx(Processor cpu, Instruction i) {
        cpu.writeRm(i, i.operandSize(), cpu.state.x87.mmx(i.reg()));
    }

    /** MOVQ mm, mm/m64 (0F 6F). */
    public static void loadMmx(Processor cpu, Instruction i) {
        cpu.state.x87.setMmx(i.reg(), VectorOperands.mmxSource(cpu, i));
    }

    /** MOVQ mm/m64, mm (0F 7F) and MOVNTQ. */
    public static void storeMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        if (i.memory()) {
            cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 8, f.mmx(i.reg()));
        } else {
            f.setMmx(i.rm(), f.mmx(i.reg()));
        }
    }

    /** MOVQ2DQ xmm, mm. */
    public static void mmxToXmm(Processor cpu, Instruction i) {
        cpu.state.sse.set(i.reg(), cpu.state.x87.mmx(i.rm()), 0);
    }

    /** MOVDQ2Q mm, xmm. */
    public static void xmmToMmx(Processor cpu, Instruction i) {
        cpu.state.x87.setMmx(i.reg(), cpu.state.sse.low(i.rm()));
    }

    /** MOVNTI m32/64, r32/64. */
    public static void storeInteger(Processor cpu, Instruction i) {
        cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), i.operandSize(), cpu.state.read(i.reg(), i.operandSize()));
    }

    /** MOVMSKPS (argument 32) and MOVMSKPD (64): each lane's sign bit, gathered into the general register. */
    public static void signMask(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        long lanes = i.argument() == 32 ? 0x8000_0000_8000_0000L : Long.MIN_VALUE;
        int bits = Long.bitCount(lanes);
        cpu.writeReg(i, Long.compress(x.low(i.rm()), lanes) | Long.compress(x.high(i.rm()), lanes) << bits);
    }

    /**
     * MASKMOVDQU xmm, xmm: the bytes of reg whose byte in rm has its top bit set are stored at
     * DS:rDI (or the override segment); the others are left alone.
     */
    public static void maskedStore(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        maskedBytes(cpu, i, x.low(i.reg()), x.low(i.rm()), 0);
        maskedBytes(cpu, i, x.high(i.reg()), x.high(i.rm()), 8);
    }

    /** MASKMOVQ mm, mm. */
    public static void maskedStoreMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        maskedBytes(cpu, i, f.mmx(i.reg()), f.mmx(i.rm()), 0);
    }

    private static void maskedBytes(Processor cpu, Instruction i, long data, long mask, int offset) {
        long base = cpu.state.registers[CpuState.RDI];
        for (int b = 0; b < 8; b++) {
            if (((mask >>> (8 * b + 7)) & 1) != 0) {
                long address = Processor.wrapAddress(base + offset + b, i.addressSize());
                cpu.writeMemory(i.segment(), address, 1, data >>> (8 * b));
            }
        }
    }
}
