package dev.machina.cpu.decode;

import dev.machina.cpu.core.Processor;

/** What executes one decoded instruction: a method of an instruction family in {@code execute}. */
@FunctionalInterface
public interface Operation {
    void execute(Processor cpu, Instruction instruction);
}
