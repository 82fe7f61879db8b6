package dev.machina.benchmarks;

/**
 * {@code ./bench [rounds]}: the Java CPU's instruction rate on a CPU-bound loop, then the boot of
 * linux_guest on Machina and on QEMU in the same run ({@code rounds} boots of each, default 3).
 */
public final class Benchmarks {
    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        if (rounds < 1) {
            throw new IllegalArgumentException("./bench ROUNDS: at least one round of boots, not " + rounds);
        }
        InstructionRateBenchmark.run(5, 200_000_000L);
        BootBenchmark.run(rounds);
    }
}
