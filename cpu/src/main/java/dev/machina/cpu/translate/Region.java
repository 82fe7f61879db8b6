package dev.machina.cpu.translate;

import dev.machina.cpu.core.Processor;

/**
 * 64-bit guest code from one page, translated by the {@link Translator} into one JVM method: the
 * instructions reachable from an entry point through the page's direct branches, with the guest
 * registers in JVM locals and loops kept as loops. It stands for the page's bytes as they were
 * when it was translated; the code cache drops it when they are written.
 *
 * @param user         whether it was translated for CPL 3 (its memory accesses check user access)
 * @param instructions how many instructions it holds
 * @param code         the translated method
 */
public record Region(boolean user, int instructions, Code code) {
    /** The translated method of a region. */
    @FunctionalInterface
    public interface Code {
        /**
         * Runs the region from its entry point, RIP being that address, until control leaves
         * it, or until {@code budget} instructions have retired when a loop comes round again.
         * It leaves the core as the interpreter would: RIP at the next instruction, the
         * registers and flags written back, the instructions retired counted. It raises no
         * exception: an instruction that might fault is left to the interpreter.
         */
        void run(Processor cpu, int budget);
    }
}
