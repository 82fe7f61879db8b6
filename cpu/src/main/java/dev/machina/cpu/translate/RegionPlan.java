package dev.machina.cpu.translate;

import dev.machina.cpu.decode.Instruction;

import java.util.List;

/**
 * The shape of a region as the {@link RegionScanner} found it: basic blocks of one page in
 * address order, each ending in a way its {@link End} says.
 *
 * @param entry  the offset in the page where the region is entered
 * @param blocks the blocks in address order; the one at {@code entry} is among them
 */
record RegionPlan(int entry, List<Block> blocks) {
    int instructionCount() {
        return blocks.stream().mapToInt(Block::instructionCount).sum();
    }

    /**
     * A straight run of instructions entered only at its first.
     *
     * @param start        its offset in the page
     * @param instructions its instructions in order
     * @param end          what follows its last instruction
     */
    record Block(int start, List<Instruction> instructions, End end) {
        int instructionCount() {
            return instructions.size();
        }
    }

    /** How a block ends. */
    sealed interface End {
    }

    /** The block runs on into the block at {@code next} (a branch target of the region). */
    record FallThrough(int next) implements End {
    }

    /** The block's last instruction jumps to {@code target} (JMP). */
    record Jump(Target target) implements End {
    }

    /** The block's last instruction goes to {@code taken} or on to {@code notTaken} (Jcc, LOOP, JRCXZ). */
    record Branch(Target taken, Target notTaken) implements End {
    }

    /** Control leaves the region after the last instruction (RET, an indirect jump, a call, a mode change...). */
    record Leave() implements End {
    }

    /**
     * The scan stopped before the instruction at {@code offset}: one the translator does not
     * take in, one that crosses the page or does not decode, or the region is full. Control
     * leaves there and the interpreter takes over.
     */
    record StopBefore(int offset) implements End {
    }

    /** Where a branch goes: a block of the region (its offset) or an address outside it. */
    sealed interface Target {
    }

    record Internal(int offset) implements Target {
    }

    /** An offset relative to the page, possibly outside it. */
    record External(long offset) implements Target {
    }
}
