package dev.machina.cpu.decode;

/** The immediate that follows an opcode's ModRM bytes. */
public enum Immediate {
    NONE,
    /** 8 bits, sign-extended. */
    BYTE,
    /** 16 bits, zero-extended. */
    WORD,
    /** 16 or 32 bits by operand size, sign-extended (the "Iz" form). */
    FULL,
    /** 16, 32 or 64 bits by operand size (MOV reg, imm64). */
    WIDE,
    /** ENTER: a 16-bit size then an 8-bit nesting level. */
    WORD_BYTE,
    /** A far pointer: offset (16 or 32 bits by operand size), then a 16-bit selector. */
    FAR_POINTER,
    /** A memory offset as wide as the address size (MOV AL, moffs). */
    OFFSET
}
