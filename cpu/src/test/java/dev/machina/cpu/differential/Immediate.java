package dev.machina.cpu.differential;

/** The immediate an encoding carries after ModRM, SIB and displacement. */
enum Immediate {
    NONE,
    /** imm8, sign-extended by the instruction where wider. */
    BYTE,
    /** imm16 whatever the operand size (RET imm16). */
    WORD,
    /** imm8, imm16 or imm32 by operand size; 64-bit operations sign-extend an imm32. */
    FULL,
    /** As wide as the operand, imm64 included (MOV B8+r). */
    WIDE,
    /** An absolute address as wide as the address size (MOV A0..A3). */
    OFFSET,
    /** ENTER's imm16 frame size and imm8 nesting level, packed low to high. */
    WORD_BYTE;

    int bytes(int operandSize, int addressSize) {
        return switch (this) {
            case NONE -> 0;
            case BYTE -> 1;
            case WORD -> 2;
            case FULL -> Math.min(operandSize, 4);
            case WIDE -> operandSize;
            case OFFSET -> addressSize;
            case WORD_BYTE -> 3;
        };
    }
}
