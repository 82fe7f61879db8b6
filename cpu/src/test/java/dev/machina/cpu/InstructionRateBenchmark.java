package dev.machina.cpu;

import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;

/**
 * Guest instructions per second on a CPU-bound integer loop (a benchmark, not a test): run with
 * {@code java -cp <test-classes>:<classes>:<hypervisor classes> dev.machina.cpu.InstructionRateBenchmark}.
 * The loop is five instructions: add, xor, inc, sub, jnz.
 */
public final class InstructionRateBenchmark {
    private static final int[] LOOP = {
        0x48, 0x01, 0xC8,       // add rax, rcx
        0x48, 0x31, 0xC2,       // xor rdx, rax
        0x48, 0xFF, 0xC1,       // inc rcx
        0x48, 0x83, 0xEB, 0x01, // sub rbx, 1
        0x75, 0xF2,             // jnz loop
    };

    private InstructionRateBenchmark() {
    }

    public static void main(String[] args) {
        long iterations = args.length > 0 ? Long.parseLong(args[0]) : 40_000_000L;
        try (LongModeMachine machine = new LongModeMachine()) {
            for (int round = 0; round < 5; round++) {
                X86State start = machine.start().with(Register.RBX, iterations);
                long begin = System.nanoTime();
                InstructionRunner.Outcome outcome = machine.run(start, Long.MAX_VALUE, LOOP);
                long elapsed = System.nanoTime() - begin;
                System.out.printf("round %d: %,d instructions in %.3f s = %.1f M instructions/s%n", round,
                        outcome.executed(), elapsed / 1e9, outcome.executed() / (elapsed / 1e3));
            }
        }
    }
}
