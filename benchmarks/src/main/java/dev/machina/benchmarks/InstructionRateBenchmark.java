package dev.machina.benchmarks;

import dev.machina.cpu.InstructionRunner;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;

import java.util.List;

/**
 * Guest instructions per second of the pure-Java CPU on a CPU-bound integer loop of five
 * instructions (add, xor, inc, sub, jnz) in 64-bit mode, over several rounds so that the JIT has
 * compiled the interpreter by the last ones. There is no peer figure: QEMU reports no instruction
 * rate of its own, so the boot benchmark is the comparison.
 */
final class InstructionRateBenchmark {
    private static final long CODE = 0x10_0000;
    private static final long STACK = 0x8_0000;
    private static final long GDT = 0x1000;
    private static final long PAGE_TABLES = 0x2000;
    private static final long MEMORY = 4L << 20;
    private static final int[] LOOP = {
        0x48, 0x01, 0xC8,       // add rax, rcx
        0x48, 0x31, 0xC2,       // xor rdx, rax
        0x48, 0xFF, 0xC1,       // inc rcx
        0x48, 0x83, 0xEB, 0x01, // sub rbx, 1
        0x75, 0xF2,             // jnz loop
        0xF4,                   // hlt: the run ends here (a compiled block runs on past the loop's end)
    };

    private InstructionRateBenchmark() {
    }

    /** Runs {@code rounds} rounds of {@code iterations} loop iterations and prints each rate. */
    static void run(int rounds, long iterations) {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, MEMORY)))) {
            byte[] code = new byte[LOOP.length];
            for (int i = 0; i < code.length; i++) {
                code[i] = (byte) LOOP[i];
            }
            memory.write(CODE, code, 0, code.length);
            DescriptorTable gdt = BootGdt.write(memory, GDT);
            long cr3 = BootPageTables.write(memory, PAGE_TABLES, MEMORY);
            for (boolean compiling : new boolean[] {false, true}) {
                InstructionRunner runner = new InstructionRunner(memory);
                runner.compileHotCode(compiling);
                measure(runner, rounds, iterations, gdt, cr3, compiling ? "compiler tier" : "interpreter");
            }
        }
    }

    private static void measure(InstructionRunner runner, int rounds, long iterations, DescriptorTable gdt, long cr3, String tier) {
        for (int round = 1; round <= rounds; round++) {
            X86State start = X86State.longMode(CODE, STACK, cr3, BootGdt.CODE_SELECTOR, gdt).with(Register.RBX, iterations);
            long begin = System.nanoTime();
            InstructionRunner.Outcome outcome = runner.run(start, Long.MAX_VALUE, -1);
            long elapsed = System.nanoTime() - begin;
            if (!(outcome instanceof InstructionRunner.Completed completed) || !completed.halted()) {
                throw new IllegalStateException("the loop did not complete: " + outcome);
            }
            System.out.printf("instruction rate (%s), round %d: %,d instructions in %.3f s = %.1f million per second%n",
                    tier, round, completed.executed(), elapsed / 1e9, completed.executed() / (elapsed / 1e3));
        }
    }
}
