package dev.machina.cpu.differential;

/**
 * The operands an instruction encoding takes and how they are written, in Intel order. {@code %rm},
 * {@code %reg} and {@code %acc} stand for the chosen operands; an immediate is appended.
 */
enum Shape {
    RM_REG(Field.REGISTER, "%rm, %reg"),
    REG_RM(Field.REGISTER, "%reg, %rm"),
    /** ModRM.reg holds the template's opcode extension. */
    RM(Field.EXTENSION, "%rm"),
    RM_ONE(Field.EXTENSION, "%rm, 1"),
    RM_CL(Field.EXTENSION, "%rm, cl"),
    RM_REG_CL(Field.REGISTER, "%rm, %reg, cl"),
    /** The register is added to the last opcode byte (REX.B extends it). */
    OPCODE_REG(Field.NONE, "%reg"),
    ACCUMULATOR_OPCODE_REG(Field.NONE, "%acc, %reg"),
    ACCUMULATOR(Field.NONE, "%acc"),
    /** MOV with a full-width absolute address (A0..A3). */
    ACCUMULATOR_OFFSET(Field.NONE, "%acc, %rm"),
    OFFSET_ACCUMULATOR(Field.NONE, "%rm, %acc"),
    NONE(Field.NONE, ""),
    /** MOVS, CMPS, STOS, LODS, SCAS: RSI, RDI and RCX are the operands. */
    STRING(Field.NONE, "");

    /** What ModRM.reg holds; {@link #NONE} means there is no ModRM byte. */
    enum Field { REGISTER, EXTENSION, NONE }

    final Field field;
    final String pattern;

    Shape(Field field, String pattern) {
        this.field = field;
        this.pattern = pattern;
    }

    boolean hasModRm() {
        return field != Field.NONE;
    }

    boolean hasReg() {
        return field == Field.REGISTER || this == OPCODE_REG || this == ACCUMULATOR_OPCODE_REG;
    }

    boolean hasRm() {
        return hasModRm() || this == ACCUMULATOR_OFFSET || this == OFFSET_ACCUMULATOR;
    }

    /** Whether the r/m operand is always memory, reached through an absolute address (moffs). */
    boolean absoluteOffset() {
        return this == ACCUMULATOR_OFFSET || this == OFFSET_ACCUMULATOR;
    }
}
