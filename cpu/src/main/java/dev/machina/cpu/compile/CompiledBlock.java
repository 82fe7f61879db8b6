package dev.machina.cpu.compile;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;

/**
 * A run of decoded instructions from one page, compiled by the {@link BlockCompiler} into one JVM
 * method that calls each instruction's family method in turn.
 *
 * @param first        the decoding the run starts with: the block stands for the code where the
 *                     core fetches that very decoding (the same bytes decoded for the same mode)
 * @param bytes        the run's length in bytes
 * @param instructions how many instructions it has
 * @param code         the compiled method
 */
public record CompiledBlock(Instruction first, int bytes, int instructions, Code code) {
    /** The compiled method of a block. */
    @FunctionalInterface
    public interface Code {
        /**
         * Executes the block's instructions from {@code start}, the address of the first, one
         * after another while each continues to the next; an instruction that branches, ends the
         * block by its kind, or rewrites code ends the run after itself. Each instruction is
         * retired, and an exception leaves the core as the interpreter would.
         */
        void run(Processor cpu, long start);
    }
}
