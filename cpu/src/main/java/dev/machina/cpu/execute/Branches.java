package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.Segmentation;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.CpuState;

/** JMP, Jcc, CALL, RET, LOOP, JrCXZ, the far forms, and IRET. */
public final class Branches {
    private Branches() {
    }

    public static void jump(Processor cpu, Instruction i) {
        cpu.jump(cpu.state.rip + i.immediate(), i.operandSize());
    }

    public static void jumpIf(Processor cpu, Instruction i) {
        if (cpu.state.flags.condition(i.argument())) {
            cpu.jump(cpu.state.rip + i.immediate(), i.operandSize());
        }
    }

    public static void jumpIndirect(Processor cpu, Instruction i) {
        cpu.jump(cpu.readRm(i, i.operandSize()), i.operandSize());
    }

    public static void call(Processor cpu, Instruction i) {
        cpu.push(i.operandSize(), cpu.state.rip);
        cpu.jump(cpu.state.rip + i.immediate(), i.operandSize());
    }

    public static void callIndirect(Processor cpu, Instruction i) {
        long target = cpu.readRm(i, i.operandSize());
        cpu.push(i.operandSize(), cpu.state.rip);
        cpu.jump(target, i.operandSize());
    }

    /** RET and RET imm16 (the immediate is zero for plain RET). */
    public static void ret(Processor cpu, Instruction i) {
        long target = cpu.pop(i.operandSize());
        if (i.immediate() != 0) {
            int stackSize = cpu.stackAddressSize();
            cpu.state.write(CpuState.RSP, stackSize, cpu.state.registers[CpuState.RSP] + i.immediate());
        }
        cpu.jump(target, i.operandSize());
    }

    public static void loop(Processor cpu, Instruction i) {
        if (decrementCounter(cpu, i) != 0) {
            jump(cpu, i);
        }
    }

    public static void loopWhileZero(Processor cpu, Instruction i) {
        if (decrementCounter(cpu, i) != 0 && cpu.state.flags.zero()) {
            jump(cpu, i);
        }
    }

    public static void loopWhileNotZero(Processor cpu, Instruction i) {
        if (decrementCounter(cpu, i) != 0 && !cpu.state.flags.zero()) {
            jump(cpu, i);
        }
    }

    public static void jumpIfCounterZero(Processor cpu, Instruction i) {
        if (cpu.state.read(CpuState.RCX, i.addressSize()) == 0) {
            jump(cpu, i);
        }
    }

    private static long decrementCounter(Processor cpu, Instruction i) {
        long count = cpu.state.read(CpuState.RCX, i.addressSize()) - 1;
        cpu.state.write(CpuState.RCX, i.addressSize(), count);
        return Processor.wrapAddress(count, i.addressSize());
    }

    public static void jumpFar(Processor cpu, Instruction i) {
        Segmentation.farJump(cpu, (int) i.immediate2(), i.immediate());
    }

    public static void jumpFarIndirect(Processor cpu, Instruction i) {
        long offset = cpu.effectiveAddress(i);
        long target = cpu.readMemory(i.segment(), offset, i.operandSize());
        int selector = (int) cpu.readMemory(i.segment(), Processor.wrapAddress(offset + i.operandSize(), i.addressSize()), 2);
        Segmentation.farJump(cpu, selector, target);
    }

    public static void callFar(Processor cpu, Instruction i) {
        farCall(cpu, i.operandSize(), (int) i.immediate2(), i.immediate());
    }

    public static void callFarIndirect(Processor cpu, Instruction i) {
        long offset = cpu.effectiveAddress(i);
        long target = cpu.readMemory(i.segment(), offset, i.operandSize());
        int selector = (int) cpu.readMemory(i.segment(), Processor.wrapAddress(offset + i.operandSize(), i.addressSize()), 2);
        farCall(cpu, i.operandSize(), selector, target);
    }

    private static void farCall(Processor cpu, int size, int selector, long target) {
        CpuState s = cpu.state;
        long returnCs = s.segments[CpuState.CS].selector;
        long returnIp = s.rip;
        long rsp = s.registers[CpuState.RSP];
        cpu.push(size, returnCs);
        cpu.push(size, returnIp);
        try {
            Segmentation.farJump(cpu, selector, target);
        } catch (RuntimeException e) {
            s.registers[CpuState.RSP] = rsp;
            throw e;
        }
    }

    public static void retFar(Processor cpu, Instruction i) {
        Segmentation.farReturn(cpu, i.operandSize(), (int) i.immediate());
    }

    public static void interruptReturn(Processor cpu, Instruction i) {
        Segmentation.interruptReturn(cpu, i.operandSize());
    }
}
