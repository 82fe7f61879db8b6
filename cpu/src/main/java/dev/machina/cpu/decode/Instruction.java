package dev.machina.cpu.decode;

/**
 * A decoded instruction, immutable: everything the executor needs, resolved once by the
 * {@link Decoder} (operand and address sizes, registers with their REX bits, the memory operand's
 * parts, immediates), so that executing it again costs no decoding. Shared between vCPUs through
 * the {@link CodeCache}.
 */
public final class Instruction {
    public static final int REP = 1;
    public static final int REPNE = 1 << 1;
    public static final int LOCK = 1 << 2;
    /** A REX prefix was present (SPL..DIL rather than AH..BH). */
    public static final int REX = 1 << 3;
    /** REX.W: 64-bit operand size. */
    public static final int REX_W = 1 << 4;

    /** Memory operand parts: no base or no index register. */
    public static final int NO_REGISTER = -1;
    /** The base "register" of a RIP-relative operand. */
    public static final int RIP_BASE = -2;

    public final Operation operation;
    public final String mnemonic;
    public final int length;
    /** The code size it was decoded for: 16, 32 or 64; a cached decoding is valid only in that mode. */
    public final int mode;
    /** Operand size in bytes: 1, 2, 4 or 8. */
    public final int operandSize;
    /** Address size in bytes: 2, 4 or 8. */
    public final int addressSize;
    /** Size in bytes of the r/m operand when it differs from the operand size (MOVZX), else the operand size. */
    public final int rmSize;
    public final int prefixes;
    public final int destination;
    public final int source;
    /** The register operand: ModRM.reg with REX.R, or the opcode's register with REX.B. */
    public final int reg;
    /** ModRM.rm with REX.B when it names a register; meaningless when {@link #memory}. */
    public final int rm;
    public final boolean memory;
    public final int base;
    public final int index;
    public final int scale;
    public final long displacement;
    /** The segment of the memory operand: an override, or DS/SS by the base register. */
    public final int segment;
    /** Whether a segment-override prefix was present (string instructions honour it on the source only). */
    public final boolean segmentOverride;
    public final long immediate;
    public final long immediate2;
    /** A condition code, segment number or other per-opcode argument. */
    public final int argument;
    /** The {@link Slot.Traits} checked at execution (the unit's availability, alignment); 0 for most. */
    public final int checks;
    /** The ModRM byte, or -1; the x87 records it as part of the last opcode. */
    public final int modrm;

    Instruction(Operation operation, String mnemonic, int length, int mode, int operandSize, int addressSize,
                int rmSize, int prefixes, int destination, int source, int reg, int rm, boolean memory, int base,
                int index, int scale, long displacement, int segment, boolean segmentOverride, long immediate,
                long immediate2, int argument, int checks, int modrm) {
        this.operation = operation;
        this.mnemonic = mnemonic;
        this.length = length;
        this.mode = mode;
        this.operandSize = operandSize;
        this.addressSize = addressSize;
        this.rmSize = rmSize;
        this.prefixes = prefixes;
        this.destination = destination;
        this.source = source;
        this.reg = reg;
        this.rm = rm;
        this.memory = memory;
        this.base = base;
        this.index = index;
        this.scale = scale;
        this.displacement = displacement;
        this.segment = segment;
        this.segmentOverride = segmentOverride;
        this.immediate = immediate;
        this.immediate2 = immediate2;
        this.argument = argument;
        this.checks = checks;
        this.modrm = modrm;
    }

    public boolean has(int prefix) {
        return (prefixes & prefix) != 0;
    }

    @Override
    public String toString() {
        return mnemonic + " (" + length + " bytes, " + operandSize * 8 + "-bit)";
    }
}
