package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.Flags.Kind;

/** AND, OR, XOR, TEST, NOT: CF and OF cleared, SF/ZF/PF from the result (AF reads as clear). */
public final class Logic {
    private Logic() {
    }

    public static void and(Processor cpu, Instruction i) {
        store(cpu, i, cpu.readDestination(i) & cpu.readSource(i));
    }

    public static void or(Processor cpu, Instruction i) {
        store(cpu, i, cpu.readDestination(i) | cpu.readSource(i));
    }

    public static void xor(Processor cpu, Instruction i) {
        store(cpu, i, cpu.readDestination(i) ^ cpu.readSource(i));
    }

    public static void test(Processor cpu, Instruction i) {
        long r = cpu.read(i, i.destination()) & cpu.readSource(i);
        cpu.state.flags.record(Kind.LOGIC, i.operandSize(), 0, 0, false, r);
    }

    public static void not(Processor cpu, Instruction i) {
        cpu.writeDestination(i, ~cpu.readDestination(i));
    }

    private static void store(Processor cpu, Instruction i, long r) {
        cpu.writeDestination(i, r);
        cpu.state.flags.record(Kind.LOGIC, i.operandSize(), 0, 0, false, r);
    }
}
