package dev.machina.benchmarks;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.translate.Translator;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;

import java.util.List;

/**
 * Guest instructions per second of the pure-Java CPU on two CPU-bound loops in 64-bit mode (one on
 * registers only, one loading, storing and using the stack), interpreted and with the compiler
 * tier, over several rounds so that the JIT has compiled the interpreter by the last ones. There
 * is no peer figure: QEMU reports no instruction rate of its own, so the boot benchmark is the
 * comparison.
 */
final class InstructionRateBenchmark {
    private static final long CODE = 0x10_0000;
    private static final long STACK = 0x8_0000;
    private static final long DATA = 0x20_0000;
    private static final long GDT = 0x1000;
    private static final long PAGE_TABLES = 0x2000;
    private static final long MEMORY = 4L << 20;

    /** A loop and the instructions one iteration executes; each ends in HLT (a compiled block runs on past the loop's end). */
    private record Loop(String name, int instructionsPerIteration, int[] code) {
    }

    private static final List<Loop> LOOPS = List.of(
        new Loop("register loop", 5, new int[] {
            0x48, 0x01, 0xC8,                   // add rax, rcx
            0x48, 0x31, 0xC2,                   // xor rdx, rax
            0x48, 0xFF, 0xC1,                   // inc rcx
            0x48, 0x83, 0xEB, 0x01,             // sub rbx, 1
            0x75, 0xF2,                         // jnz loop
            0xF4}),                             // hlt
        new Loop("memory loop", 9, new int[] {
            0x48, 0x8B, 0x04, 0xCF,             // mov rax, [rdi + rcx*8]
            0x48, 0x01, 0x04, 0xCE,             // add [rsi + rcx*8], rax
            0x50,                               // push rax
            0x5A,                               // pop rdx
            0x48, 0x89, 0x54, 0xCF, 0x08,       // mov [rdi + rcx*8 + 8], rdx
            0x48, 0xFF, 0xC1,                   // inc rcx
            0x81, 0xE1, 0xFF, 0x00, 0x00, 0x00, // and ecx, 0xff
            0x48, 0xFF, 0xCB,                   // dec rbx
            0x75, 0xE3,                         // jnz loop
            0xF4}));                            // hlt

    private InstructionRateBenchmark() {
    }

    /** Runs {@code rounds} rounds of {@code instructions} (about) of each loop on each tier and prints each rate. */
    static void run(int rounds, long instructions) {
        for (Loop loop : LOOPS) {
            for (boolean compiling : new boolean[] {false, true}) {
                try (GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, MEMORY)))) {
                    byte[] code = new byte[loop.code().length];
                    for (int i = 0; i < code.length; i++) {
                        code[i] = (byte) loop.code()[i];
                    }
                    memory.write(CODE, code, 0, code.length);
                    DescriptorTable gdt = BootGdt.write(memory, GDT);
                    long cr3 = BootPageTables.write(memory, PAGE_TABLES, MEMORY);
                    X86State start = X86State.longMode(CODE, STACK, cr3, BootGdt.CODE_SELECTOR, gdt)
                            .with(Register.RBX, instructions / loop.instructionsPerIteration())
                            .with(Register.RDI, DATA).with(Register.RSI, DATA + 0x1000);
                    InstructionRunner runner = new InstructionRunner(memory);
                    if (compiling) {
                        runner.translate(Translator.HOT);
                    }
                    measure(runner, rounds, start, loop.name() + ", " + (compiling ? "translated" : "interpreter"));
                }
            }
        }
    }

    private static void measure(InstructionRunner runner, int rounds, X86State start, String what) {
        for (int round = 1; round <= rounds; round++) {
            long begin = System.nanoTime();
            InstructionRunner.Outcome outcome = runner.run(start, Long.MAX_VALUE, -1);
            long elapsed = System.nanoTime() - begin;
            if (!(outcome instanceof InstructionRunner.Completed completed) || !completed.halted()) {
                throw new IllegalStateException("the loop did not complete: " + outcome);
            }
            System.out.printf("instruction rate (%s), round %d: %,d instructions in %.3f s = %.1f million per second%n",
                    what, round, completed.executed(), elapsed / 1e9, completed.executed() / (elapsed / 1e3));
        }
    }
}
