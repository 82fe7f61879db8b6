package dev.machina.cpu.decode;

/** The operand layout of an opcode: whether a ModRM byte follows and where each operand lives. */
public enum Form {
    NONE(false, Operand.NONE, Operand.NONE),
    /** Destination ModRM r/m, source ModRM reg. */
    E_G(true, Operand.RM, Operand.REG),
    G_E(true, Operand.REG, Operand.RM),
    /** One ModRM r/m operand. */
    E(true, Operand.RM, Operand.NONE),
    E_I(true, Operand.RM, Operand.IMM),
    /** r/m shifted by one (the immediate is 1). */
    E_1(true, Operand.RM, Operand.IMM),
    E_CL(true, Operand.RM, Operand.CL),
    /** IMUL r, r/m, imm and SHLD/SHRD's immediate count: reg, r/m and an immediate. */
    G_E_I(true, Operand.REG, Operand.RM),
    E_G_I(true, Operand.RM, Operand.REG),
    E_G_CL(true, Operand.RM, Operand.REG),
    /** The accumulator and an immediate. */
    A_I(false, Operand.REG, Operand.IMM),
    /** The accumulator and the memory at an absolute offset (MOV AL, moffs8 and its mirror). */
    A_O(false, Operand.REG, Operand.RM),
    O_A(false, Operand.RM, Operand.REG),
    /** A register in the opcode's low three bits. */
    Z(false, Operand.REG, Operand.NONE),
    Z_I(false, Operand.REG, Operand.IMM),
    /** Only an immediate (branches, PUSH imm, INT n). */
    I(false, Operand.IMM, Operand.NONE);

    final boolean modrm;
    final int destination;
    final int source;

    Form(boolean modrm, int destination, int source) {
        this.modrm = modrm;
        this.destination = destination;
        this.source = source;
    }
}
