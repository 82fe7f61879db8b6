package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.Segmentation;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;

/** PUSH, POP, PUSHF, POPF, PUSHA, POPA, ENTER, LEAVE and the segment-register pushes. */
public final class Stack {
    private Stack() {
    }

    public static void push(Processor cpu, Instruction i) {
        cpu.push(i.operandSize(), cpu.read(i, i.destination()));
    }

    /** POP; a memory destination is addressed with RSP already incremented, and a fault undoes the pop. */
    public static void pop(Processor cpu, Instruction i) {
        long rsp = cpu.state.registers[CpuState.RSP];
        long value = cpu.pop(i.operandSize());
        try {
            cpu.writeDestination(i, value);
        } catch (CpuException e) {
            cpu.state.registers[CpuState.RSP] = rsp;
            throw e;
        }
    }

    public static void pushSegment(Processor cpu, Instruction i) {
        cpu.push(i.operandSize(), cpu.state.segments[i.argument()].selector);
    }

    public static void popSegment(Processor cpu, Instruction i) {
        long rsp = cpu.state.registers[CpuState.RSP];
        int selector = (int) cpu.pop(i.operandSize()) & 0xFFFF;
        try {
            Segmentation.load(cpu, i.argument(), selector);
        } catch (CpuException e) {
            cpu.state.registers[CpuState.RSP] = rsp;
            throw e;
        }
        if (i.argument() == CpuState.SS) {
            cpu.holdInterruptsAndDebugTraps();
        }
    }

    /** PUSHF: VM and RF read as clear in the pushed image. */
    public static void pushFlags(Processor cpu, Instruction i) {
        cpu.push(i.operandSize(), cpu.state.flags.get() & ~(Flags.VM | Flags.RF));
    }

    /** POPF: RF is cleared whatever the image holds (only IRET restores it). */
    public static void popFlags(Processor cpu, Instruction i) {
        Segmentation.setFlags(cpu, cpu.pop(i.operandSize()) & ~Flags.RF, i.operandSize(), cpu.state.cpl());
    }

    public static void pushAll(Processor cpu, Instruction i) {
        long rsp = cpu.state.registers[CpuState.RSP];
        for (int r = CpuState.RAX; r <= CpuState.RDI; r++) {
            cpu.push(i.operandSize(), r == CpuState.RSP ? rsp : cpu.state.registers[r]);
        }
    }

    public static void popAll(Processor cpu, Instruction i) {
        for (int r = CpuState.RDI; r >= CpuState.RAX; r--) {
            long value = cpu.pop(i.operandSize());
            if (r != CpuState.RSP) {
                cpu.state.write(r, i.operandSize(), value);
            }
        }
    }

    /**
     * ENTER. As the SDM has it, a write at the final stack pointer is checked before anything
     * changes, so a frame that runs off the stack faults at once; registers change only at the
     * end, so a fault part way leaves RSP and RBP as they were.
     */
    public static void enter(Processor cpu, Instruction i) {
        int size = i.operandSize();
        int level = (int) i.immediate2() & 0x1F;
        int stackSize = cpu.stackAddressSize();
        long[] r = cpu.state.registers;
        long frame = Processor.wrapAddress(r[CpuState.RSP] - size, stackSize);
        int pushes = level == 0 ? 1 : level + 1;
        long top = Processor.wrapAddress(r[CpuState.RSP] - (long) size * pushes - i.immediate(), stackSize);
        cpu.requireWritable(CpuState.SS, top, size);
        cpu.writeMemory(CpuState.SS, frame, size, r[CpuState.RBP]);
        if (level > 0) {
            long rbp = r[CpuState.RBP];
            long slot = frame;
            for (int n = 1; n < level; n++) {
                rbp = Processor.wrapAddress(rbp - size, stackSize);
                slot = Processor.wrapAddress(slot - size, stackSize);
                cpu.writeMemory(CpuState.SS, slot, size, cpu.readMemory(CpuState.SS, rbp, size));
            }
            cpu.writeMemory(CpuState.SS, Processor.wrapAddress(slot - size, stackSize), size, frame);
        }
        cpu.state.write(CpuState.RBP, size, frame);
        cpu.state.write(CpuState.RSP, stackSize, top);
    }

    public static void leave(Processor cpu, Instruction i) {
        int stackSize = cpu.stackAddressSize();
        long rsp = cpu.state.registers[CpuState.RSP];
        cpu.state.write(CpuState.RSP, stackSize, cpu.state.registers[CpuState.RBP]);
        try {
            cpu.state.write(CpuState.RBP, i.operandSize(), cpu.pop(i.operandSize()));
        } catch (CpuException e) {
            cpu.state.registers[CpuState.RSP] = rsp;
            throw e;
        }
    }
}
