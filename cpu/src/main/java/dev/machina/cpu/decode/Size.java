package dev.machina.cpu.decode;

/** How an opcode's operand size follows from the mode and the 66/REX.W prefixes. */
public enum Size {
    /** Always 8 bits. */
    BYTE,
    /** Always 16 bits (segment registers, RET imm16 counts). */
    WORD,
    /** 16, 32 or 64 bits: the default size, 66 or REX.W. */
    VARIABLE,
    /** As VARIABLE, but 64 bits by default in 64-bit mode (stack operations, near branches). */
    STACK,
    /**
     * 32 bits, 64 with REX.W: the general-register operand of an SSE or MMX instruction, whose 66
     * prefix is a mandatory prefix and not an operand-size override.
     */
    SIMD
}
