package dev.machina.cpu.decode;

/**
 * A decoded instruction: everything the executor needs, resolved once by the {@link Decoder}
 * (operand and address sizes, registers with their REX bits, the memory operand's parts,
 * immediates), so that executing it again costs no decoding. Shared between vCPUs through the
 * {@link CodeCache}. A record, so that the JIT trusts its fields as constants where a compiled
 * block holds the decoding as one ({@link dev.machina.cpu.compile.BlockCompiler}).
 *
 * @param operation       the family method that executes it
 * @param mnemonic        its name, for diagnostics
 * @param length          its length in bytes
 * @param mode            the code size it was decoded for: 16, 32 or 64; a cached decoding is valid only in that mode
 * @param operandSize     operand size in bytes: 1, 2, 4 or 8
 * @param addressSize     address size in bytes: 2, 4 or 8
 * @param rmSize          size in bytes of the r/m operand when it differs from the operand size (MOVZX), else the operand size
 * @param prefixes        {@link #REP}, {@link #REPNE}, {@link #LOCK}, {@link #REX}, {@link #REX_W}
 * @param destination     the {@link Operand} kind of the destination
 * @param source          the {@link Operand} kind of the source
 * @param reg             the register operand: ModRM.reg with REX.R, or the opcode's register with REX.B
 * @param rm              ModRM.rm with REX.B when it names a register; meaningless when {@code memory}
 * @param memory          whether the r/m operand is in memory
 * @param base            the memory operand's base register, {@link #NO_REGISTER} or {@link #RIP_BASE}
 * @param index           the memory operand's index register or {@link #NO_REGISTER}
 * @param scale           the index's shift count
 * @param displacement    the memory operand's displacement
 * @param segment         the segment of the memory operand: an override, or DS/SS by the base register
 * @param segmentOverride whether a segment-override prefix was present (string instructions honour it on the source only)
 * @param immediate       the first immediate
 * @param immediate2      the second immediate (ENTER's nesting level, a far pointer's selector)
 * @param argument        a condition code, segment number or other per-opcode argument
 * @param checks          the {@link Slot.Traits} checked at execution (the unit's availability, alignment); 0 for most
 * @param modrm           the ModRM byte, or -1; the x87 records it as part of the last opcode
 * @param endsBlock       whether a translated region ends after it ({@link Slot.Traits#ENDS_BLOCK})
 * @param translation     how the translator renders it
 */
public record Instruction(Operation operation, String mnemonic, int length, int mode, int operandSize, int addressSize,
                          int rmSize, int prefixes, int destination, int source, int reg, int rm, boolean memory,
                          int base, int index, int scale, long displacement, int segment, boolean segmentOverride,
                          long immediate, long immediate2, int argument, int checks, int modrm, boolean endsBlock,
                          Translation translation) {
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

    public boolean has(int prefix) {
        return (prefixes & prefix) != 0;
    }

    @Override
    public String toString() {
        return mnemonic + " (" + length + " bytes, " + operandSize * 8 + "-bit)";
    }
}
