package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.Segmentation;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.state.CpuState;

/** MOV in its forms, MOVZX, MOVSX, MOVSXD, LEA, XCHG, CMOVcc, SETcc, MOV to and from segment registers. */
public final class Moves {
    private Moves() {
    }

    public static void mov(Processor cpu, Instruction i) {
        cpu.writeDestination(i, cpu.readSource(i));
    }

    public static void movzx(Processor cpu, Instruction i) {
        cpu.writeReg(i, cpu.readRm(i, i.rmSize()));
    }

    public static void movsx(Processor cpu, Instruction i) {
        cpu.writeReg(i, Arithmetic.signExtend(cpu.readRm(i, i.rmSize()), i.rmSize()));
    }

    public static void movsxd(Processor cpu, Instruction i) {
        int size = Math.min(4, i.operandSize());
        cpu.writeReg(i, Arithmetic.signExtend(cpu.readRm(i, size), size));
    }

    /** XLAT: AL = [rBX + AL] in the data segment (or the override). */
    public static void translateByte(Processor cpu, Instruction i) {
        long offset = Processor.wrapAddress(cpu.state.registers[CpuState.RBX] + cpu.state.read(CpuState.RAX, 1), i.addressSize());
        cpu.state.write(CpuState.RAX, 1, cpu.readMemory(i.segment(), offset, 1));
    }

    public static void lea(Processor cpu, Instruction i) {
        cpu.writeReg(i, cpu.effectiveAddress(i));
    }

    public static void exchange(Processor cpu, Instruction i) {
        long a = cpu.readDestination(i);
        long b = cpu.state.read(i.reg(), i.operandSize());
        cpu.writeDestination(i, b);
        cpu.writeReg(i, a);
    }

    /** XCHG with the accumulator; 90 (register 0 without REX.B) is NOP and zero-extends nothing. */
    public static void exchangeAccumulator(Processor cpu, Instruction i) {
        if (i.reg() == CpuState.RAX) {
            return;
        }
        long a = cpu.state.read(CpuState.RAX, i.operandSize());
        cpu.state.write(CpuState.RAX, i.operandSize(), cpu.state.read(i.reg(), i.operandSize()));
        cpu.writeReg(i, a);
    }

    /** CMOVcc: the source is read (and may fault) either way; a 32-bit destination is zero-extended either way. */
    public static void moveIf(Processor cpu, Instruction i) {
        long value = cpu.readRm(i, i.operandSize());
        cpu.writeReg(i, cpu.state.flags.condition(i.argument()) ? value : cpu.state.read(i.reg(), i.operandSize()));
    }

    public static void setIf(Processor cpu, Instruction i) {
        cpu.writeDestination(i, cpu.state.flags.condition(i.argument()) ? 1 : 0);
    }

    public static void movFromSegment(Processor cpu, Instruction i) {
        if (i.reg() > CpuState.GS) {
            throw CpuException.invalidOpcode();
        }
        int selector = cpu.state.segments[i.reg()].selector;
        if (i.memory()) {
            cpu.writeRm(i, 2, selector);
        } else {
            cpu.writeDestination(i, selector);
        }
    }

    public static void movToSegment(Processor cpu, Instruction i) {
        if (i.reg() == CpuState.CS || i.reg() > CpuState.GS) {
            throw CpuException.invalidOpcode();
        }
        Segmentation.load(cpu, i.reg(), (int) cpu.readRm(i, 2));
        if (i.reg() == CpuState.SS) {
            cpu.holdInterruptsAndDebugTraps();
        }
    }
}
