package dev.machina.cpu.decode;

/**
 * How the translator ({@link dev.machina.cpu.translate}) renders an instruction in the code it
 * generates: the common integer instructions it writes out itself, with their operands in JVM
 * locals; {@link #NONE}, everything else, the translated code has the interpreter run in place,
 * unless the instruction ends a block. The opcode map tags each instruction once, beside its
 * family method.
 */
public enum Translation {
    NONE,
    ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST, INC, DEC, NEG, NOT,
    SHL, SHR, SAR, ROL, ROR, IMUL, IMUL_IMMEDIATE,
    MOV, MOVZX, MOVSX, MOVSXD, LEA, XCHG, CMOV, SET, WIDEN, SPLIT, NOP,
    PUSH, POP, LEAVE,
    JMP, JCC, CALL, RET, JMP_INDIRECT, CALL_INDIRECT, LOOP, LOOPE, LOOPNE, JRCXZ
}
