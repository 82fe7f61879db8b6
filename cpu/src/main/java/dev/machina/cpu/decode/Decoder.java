package dev.machina.cpu.decode;

import dev.machina.cpu.decode.Slot.ByMod;
import dev.machina.cpu.decode.Slot.ByReg;
import dev.machina.cpu.decode.Slot.ByRm;
import dev.machina.cpu.decode.Slot.Opcode;
import dev.machina.cpu.decode.Slot.Traits;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.state.CpuState;

/**
 * Turns instruction bytes into an {@link Instruction} by walking the {@link OpcodeMap}: legacy
 * and REX prefixes, the opcode (escapes 0F, 0F 38, 0F 3A), ModRM/SIB/displacement in 16-, 32- and
 * 64-bit addressing, then the immediates. Stateless; allocates only the result.
 */
public final class Decoder {
    /** An instruction longer than this raises #GP. */
    public static final int MAX_LENGTH = 15;

    private static final int[] BASE16 = {CpuState.RBX, CpuState.RBX, CpuState.RBP, CpuState.RBP,
            CpuState.RSI, CpuState.RDI, CpuState.RBP, CpuState.RBX};
    private static final int[] INDEX16 = {CpuState.RSI, CpuState.RDI, CpuState.RSI, CpuState.RDI,
            Instruction.NO_REGISTER, Instruction.NO_REGISTER, Instruction.NO_REGISTER, Instruction.NO_REGISTER};

    private final OpcodeMap map = OpcodeMap.instance();

    /** Decodes one instruction for code of {@code mode} bits (16, 32 or 64); throws #UD or #GP. */
    public Instruction decode(ByteSource code, int mode) {
        Cursor in = new Cursor(code);
        boolean operandPrefix = false;
        boolean addressPrefix = false;
        int segment = -1;
        int prefixes = 0;
        int mandatory = OpcodeMap.PREFIX_NONE;
        int rex = 0;
        int b;
        while (true) {
            b = in.next();
            switch (b) {
                case 0x66 -> operandPrefix = true;
                case 0x67 -> addressPrefix = true;
                case 0xF0 -> prefixes |= Instruction.LOCK;
                case 0xF2 -> {
                    prefixes = (prefixes & ~Instruction.REP) | Instruction.REPNE;
                    mandatory = OpcodeMap.PREFIX_F2;
                }
                case 0xF3 -> {
                    prefixes = (prefixes & ~Instruction.REPNE) | Instruction.REP;
                    mandatory = OpcodeMap.PREFIX_F3;
                }
                case 0x26 -> segment = CpuState.ES;
                case 0x2E -> segment = CpuState.CS;
                case 0x36 -> segment = CpuState.SS;
                case 0x3E -> segment = CpuState.DS;
                case 0x64 -> segment = CpuState.FS;
                case 0x65 -> segment = CpuState.GS;
                default -> {
                    if (mode == 64 && (b & 0xF0) == 0x40) {
                        rex = b;
                        b = in.next();
                        if (isLegacyPrefix(b)) {
                            // A REX prefix counts only immediately before the opcode.
                            rex = 0;
                            in.back();
                            continue;
                        }
                    }
                    return decodeOpcode(in, b, mode, operandPrefix, addressPrefix, segment, prefixes,
                            mandatory == OpcodeMap.PREFIX_NONE && operandPrefix ? OpcodeMap.PREFIX_66 : mandatory, rex);
                }
            }
        }
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    private Instruction decodeOpcode(Cursor in, int first, int mode, boolean operandPrefix, boolean addressPrefix,
                                     int segmentOverride, int prefixes, int mandatory, int rex) {
        int table = OpcodeMap.ONE_BYTE;
        int opcode = first;
        if (opcode == 0x0F) {
            opcode = in.next();
            table = OpcodeMap.TWO_BYTE;
            if (opcode == 0x38 || opcode == 0x3A) {
                table = opcode == 0x38 ? OpcodeMap.THREE_BYTE_38 : OpcodeMap.THREE_BYTE_3A;
                opcode = in.next();
            }
        }
        Slot slot = map.lookup(table, mandatory, opcode);
        int modrm = -1;
        if (slot instanceof ByReg || slot instanceof ByMod || slot instanceof ByRm) {
            modrm = in.next();
            slot = resolve(slot, modrm);
        }
        if (!(slot instanceof Opcode entry)) {
            throw CpuException.invalidOpcode();
        }
        if ((mode == 64 && (entry.traits() & Traits.NOT_64) != 0) || (mode != 64 && (entry.traits() & Traits.ONLY_64) != 0)) {
            throw CpuException.invalidOpcode();
        }
        if (modrm < 0 && entry.form().modrm) {
            modrm = in.next();
        }
        boolean rexW = (rex & 8) != 0;
        int operandSize = switch (entry.size()) {
            case BYTE -> 1;
            case WORD -> 2;
            case VARIABLE -> mode == 64 && rexW ? 8 : (mode == 16) == operandPrefix ? 4 : 2;
            case STACK -> mode == 64 ? (operandPrefix && !rexW ? 2 : 8) : (mode == 16) == operandPrefix ? 4 : 2;
            case SIMD -> mode == 64 && rexW ? 8 : 4;
        };
        int addressSize = mode == 64 ? (addressPrefix ? 4 : 8) : (mode == 16) == addressPrefix ? 4 : 2;
        int rmSize = (entry.traits() & Traits.RM_BYTE) != 0 ? 1 : (entry.traits() & Traits.RM_WORD) != 0 ? 2 : operandSize;
        if ((entry.traits() & Traits.IMPLICIT_LOCK) != 0) {
            prefixes |= Instruction.LOCK;
        }
        if (rex != 0) {
            prefixes |= Instruction.REX;
        }
        if (rexW) {
            prefixes |= Instruction.REX_W;
        }

        int reg = 0;
        int rm = 0;
        boolean memory = false;
        int base = Instruction.NO_REGISTER;
        int index = Instruction.NO_REGISTER;
        int scale = 0;
        long displacement = 0;
        int segment = CpuState.DS;
        if (modrm >= 0) {
            int mod = modrm >> 6;
            reg = byteRegister(((modrm >> 3) & 7) | (rex & 4) << 1, operandSize, rex);
            if (mod == 3) {
                rm = byteRegister((modrm & 7) | (rex & 1) << 3, rmSize, rex);
            } else {
                memory = true;
                if (addressSize == 2) {
                    int field = modrm & 7;
                    if (mod == 0 && field == 6) {
                        displacement = in.next() | in.next() << 8;
                    } else {
                        base = BASE16[field];
                        index = INDEX16[field];
                        if (base == CpuState.RBP) {
                            segment = CpuState.SS;
                        }
                        displacement = mod == 1 ? (byte) in.next() : mod == 2 ? (short) (in.next() | in.next() << 8) : 0;
                    }
                } else {
                    int field = modrm & 7;
                    boolean noBase = false;
                    if (field == 4) {
                        int sib = in.next();
                        scale = sib >> 6;
                        int indexField = ((sib >> 3) & 7) | (rex & 2) << 2;
                        index = indexField == 4 ? Instruction.NO_REGISTER : indexField;
                        field = sib & 7;
                        noBase = mod == 0 && field == 5;
                    } else if (mod == 0 && field == 5) {
                        noBase = true;
                        if (mode == 64) {
                            base = Instruction.RIP_BASE;
                        }
                    }
                    if (!noBase) {
                        base = field | (rex & 1) << 3;
                        if (field == CpuState.RSP || field == CpuState.RBP) {
                            segment = CpuState.SS;
                        }
                    }
                    displacement = mod == 1 ? (byte) in.next() : (mod == 2 || noBase) ? in.int32() : 0;
                }
            }
        } else if (entry.form() == Form.Z || entry.form() == Form.Z_I) {
            reg = byteRegister((opcode & 7) | (rex & 1) << 3, operandSize, rex);
        }
        boolean overridden = segmentOverride >= 0;
        if (overridden) {
            segment = segmentOverride;
        }

        long immediate = 0;
        long immediate2 = 0;
        switch (entry.immediate()) {
            case NONE -> {
                if (entry.form() == Form.E_1) {
                    immediate = 1;
                }
            }
            case BYTE -> immediate = (byte) in.next();
            case WORD -> immediate = in.next() | in.next() << 8;
            case FULL -> immediate = operandSize == 2 ? (short) (in.next() | in.next() << 8) : in.int32();
            case WIDE -> immediate = switch (operandSize) {
                case 1 -> in.next();
                case 2 -> in.next() | in.next() << 8;
                case 4 -> in.int32() & 0xFFFF_FFFFL;
                default -> (in.int32() & 0xFFFF_FFFFL) | (long) in.int32() << 32;
            };
            case WORD_BYTE -> {
                immediate = in.next() | in.next() << 8;
                immediate2 = in.next();
            }
            case FAR_POINTER -> {
                immediate = operandSize == 2 ? in.next() | in.next() << 8 : in.int32() & 0xFFFF_FFFFL;
                immediate2 = in.next() | in.next() << 8;
            }
            case OFFSET -> {
                memory = true;
                displacement = switch (addressSize) {
                    case 2 -> in.next() | in.next() << 8;
                    case 4 -> in.int32() & 0xFFFF_FFFFL;
                    default -> (in.int32() & 0xFFFF_FFFFL) | (long) in.int32() << 32;
                };
            }
        }
        if (in.position() > MAX_LENGTH) {
            throw CpuException.generalProtection();
        }
        int argument = entry.argument() >= 0 ? entry.argument() : opcode & 0xF;
        return new Instruction(entry.operation(), entry.mnemonic(), in.position(), mode, operandSize, addressSize,
                rmSize, prefixes, entry.form().destination, entry.form().source, reg, rm, memory, base, index, scale,
                displacement, segment, overridden, immediate, immediate2, argument,
                entry.traits() & Traits.EXECUTION_CHECKS, modrm, (entry.traits() & Traits.ENDS_BLOCK) != 0,
                entry.translation());
    }

    private static Slot resolve(Slot slot, int modrm) {
        Slot current = slot;
        while (true) {
            switch (current) {
                case ByReg group -> current = group.slots().get((modrm >> 3) & 7);
                case ByMod split -> current = (modrm >> 6) == 3 ? split.register() : split.memory();
                case ByRm choice -> current = choice.slots().get(modrm & 7);
                case null, default -> {
                    return current;
                }
            }
        }
    }

    /**
     * A byte-sized register operand without REX names AH, CH, DH, BH for encodings 4..7; the
     * decoder maps those to {@link CpuState#AH}.. so the executor needs no prefix knowledge.
     */
    private static int byteRegister(int number, int size, int rex) {
        return size == 1 && rex == 0 && number >= 4 && number < 8 ? CpuState.AH + number - 4 : number;
    }

    /** Reads the instruction's bytes in order, counting them. */
    private static final class Cursor {
        private final ByteSource code;
        private int position;

        Cursor(ByteSource code) {
            this.code = code;
        }

        int next() {
            if (position >= MAX_LENGTH) {
                throw CpuException.generalProtection();
            }
            return code.byteAt(position++) & 0xFF;
        }

        void back() {
            position--;
        }

        int int32() {
            return next() | next() << 8 | next() << 16 | next() << 24;
        }

        int position() {
            return position;
        }
    }
}
