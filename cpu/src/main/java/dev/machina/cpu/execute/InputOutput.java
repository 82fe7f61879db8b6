package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.CpuState;

/** IN and OUT with an immediate port or DX; 64-bit operand sizes act as 32-bit. */
public final class InputOutput {
    private InputOutput() {
    }

    public static void in(Processor cpu, Instruction i) {
        input(cpu, i, (int) i.immediate() & 0xFF);
    }

    public static void inDx(Processor cpu, Instruction i) {
        input(cpu, i, (int) cpu.state.read(CpuState.RDX, 2));
    }

    public static void out(Processor cpu, Instruction i) {
        output(cpu, i, (int) i.immediate() & 0xFF);
    }

    public static void outDx(Processor cpu, Instruction i) {
        output(cpu, i, (int) cpu.state.read(CpuState.RDX, 2));
    }

    private static void input(Processor cpu, Instruction i, int port) {
        int size = Math.min(i.operandSize(), 4);
        cpu.requirePortAccess(port, size);
        cpu.state.write(CpuState.RAX, size, cpu.readPort(port, size));
    }

    private static void output(Processor cpu, Instruction i, int port) {
        int size = Math.min(i.operandSize(), 4);
        cpu.requirePortAccess(port, size);
        cpu.writePort(port, size, cpu.state.read(CpuState.RAX, size));
    }
}
