package dev.machina.cpu.decode;

/** Where an instruction's destination or source operand lives. */
public final class Operand {
    public static final int NONE = 0;
    /** The register named by ModRM.reg, or by the opcode's low bits. */
    public static final int REG = 1;
    /** ModRM's register or memory operand. */
    public static final int RM = 2;
    /** The immediate (already sign- or zero-extended by the decoder). */
    public static final int IMM = 3;
    /** CL, the count of shifts and rotates. */
    public static final int CL = 4;

    private Operand() {
    }
}
