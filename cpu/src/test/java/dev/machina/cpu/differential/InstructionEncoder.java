package dev.machina.cpu.differential;

import dev.machina.cpu.differential.Operand.AbsoluteOffset;
import dev.machina.cpu.differential.Operand.Gpr;
import dev.machina.cpu.differential.Operand.Indexed;
import dev.machina.cpu.differential.Operand.Memory;
import dev.machina.cpu.differential.Operand.RipRelative;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a drawn {@link CaseBuilder} into machine code and an Intel-syntax description: legacy
 * prefixes in random order, REX, opcode, ModRM, SIB, displacement, immediate. A RIP-relative
 * displacement is filled in once the length is known.
 */
final class InstructionEncoder {
    private static final String[] SEGMENT_NAMES = {"es", "cs", "ss", "ds"};

    /** The bytes and the description of one instruction. */
    record Encoded(byte[] bytes, String text) {
    }

    private InstructionEncoder() {
    }

    static Encoded encode(CaseBuilder c) {
        Template t = c.template;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int prefix : legacyPrefixes(c)) {
            out.write(prefix);
        }
        if (!c.legacy) {
            out.write(rex(c));
        }
        for (int i = 0; i < t.opcode().length; i++) {
            boolean last = i == t.opcode().length - 1;
            boolean registerInOpcode = t.shape() == Shape.OPCODE_REG || t.shape() == Shape.ACCUMULATOR_OPCODE_REG;
            out.write(t.opcode()[i] + (last && registerInOpcode ? Operand.number(c.reg) & 7 : 0));
        }
        int ripDisplacementAt = -1;
        if (t.shape().hasModRm()) {
            int regField = t.shape().field == Shape.Field.REGISTER ? Operand.number(c.reg) & 7 : t.extension();
            switch (c.rm) {
                case Memory m -> ripDisplacementAt = writeMemoryOperand(out, m, regField);
                default -> out.write(0xC0 | regField << 3 | Operand.number(c.rm) & 7);
            }
        }
        int immediateBytes = t.immediate().bytes(c.size, c.addressSize);
        writeLittleEndian(out, c.immediate, immediateBytes);
        byte[] bytes = out.toByteArray();
        if (ripDisplacementAt >= 0) {
            long next = c.layout.instructionAddress() + bytes.length;
            long displacement = ((Memory) c.rm).target() - next;
            for (int i = 0; i < 4; i++) {
                bytes[ripDisplacementAt + i] = (byte) (displacement >>> (8 * i));
            }
        }
        return new Encoded(bytes, describe(c, bytes.length));
    }

    private static List<Integer> legacyPrefixes(CaseBuilder c) {
        List<Integer> prefixes = new ArrayList<>();
        if (c.template.mandatoryPrefix() != 0) {
            prefixes.add(c.template.mandatoryPrefix());
        }
        if (c.repeat != 0) {
            prefixes.add(c.repeat);
        }
        if (c.lock) {
            prefixes.add(0xF0);
        }
        if (c.size == 2 || c.ignoredOperandPrefix) {
            prefixes.add(0x66);
        }
        if (c.addressSize == 4) {
            prefixes.add(0x67);
        }
        if (c.segment != 0) {
            prefixes.add(c.segment);
        }
        List<Integer> redundant = new ArrayList<>(List.of(0x26, 0x2E, 0x36, 0x3E));
        if (c.size == 2 || c.ignoredOperandPrefix) {
            redundant.add(0x66);
        }
        if (c.addressSize == 4) {
            redundant.add(0x67);
        }
        for (int i = 0; i < c.padding; i++) {
            prefixes.add(redundant.get(c.random.nextInt(redundant.size())));
        }
        for (int i = prefixes.size() - 1; i > 0; i--) {
            int j = c.random.nextInt(i + 1);
            prefixes.set(i, prefixes.set(j, prefixes.get(i)));
        }
        return prefixes;
    }

    private static int rex(CaseBuilder c) {
        int rex = 0x40 | (c.rexW ? 8 : 0);
        if (c.reg != null && Operand.number(c.reg) >= 8) {
            rex |= c.template.shape().field == Shape.Field.REGISTER ? 4 : 1;
        }
        switch (c.rm) {
            case Gpr g when g.number() >= 8 -> rex |= 1;
            case Operand.Xmm x when x.number() >= 8 -> rex |= 1;
            case Memory m when m.address() instanceof Indexed x -> rex |= (x.index() >= 8 ? 2 : 0) | (x.base() >= 8 ? 1 : 0);
            case null, default -> {
            }
        }
        return rex;
    }

    /** Writes ModRM, SIB and displacement; returns where a RIP-relative displacement goes, else -1. */
    private static int writeMemoryOperand(ByteArrayOutputStream out, Memory memory, int regField) {
        switch (memory.address()) {
            case RipRelative ignored -> {
                out.write(regField << 3 | 5);
                int at = out.size();
                writeLittleEndian(out, 0, 4);
                return at;
            }
            case Indexed x -> {
                int mod = x.base() == -1 ? 0 : switch (x.displacementBytes()) {
                    case 0 -> 0;
                    case 1 -> 1;
                    default -> 2;
                };
                if (x.sib() || x.base() == -1) {
                    out.write(mod << 6 | regField << 3 | 4);
                    int index = x.index() == -1 ? 4 : x.index() & 7;
                    int base = x.base() == -1 ? 5 : x.base() & 7;
                    out.write(x.scale() << 6 | index << 3 | base);
                } else {
                    out.write(mod << 6 | regField << 3 | x.base() & 7);
                }
                writeLittleEndian(out, x.displacement(), x.base() == -1 ? 4 : x.displacementBytes());
                return -1;
            }
            case AbsoluteOffset ignored -> throw new IllegalStateException("an absolute offset has no ModRM");
        }
    }

    private static void writeLittleEndian(ByteArrayOutputStream out, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (value >>> (8 * i)));
        }
    }

    // ---- the description -------------------------------------------------------------------------

    private static String describe(CaseBuilder c, int length) {
        Template t = c.template;
        StringBuilder text = new StringBuilder();
        if (c.lock) {
            text.append("lock ");
        }
        if (c.repeat != 0) {
            boolean compares = t.behaviour() instanceof Behaviour.StringOperation s && s.compares();
            text.append(c.repeat == 0xF2 ? "repne " : compares ? "repe " : "rep ");
        }
        if (c.ignoredOperandPrefix) {
            text.append("data16 ");
        }
        if (c.padding > 0) {
            text.append("(+").append(c.padding).append(" prefixes) ");
        }
        text.append(t.mnemonic());
        if (t.shape() == Shape.STRING) {
            text.append("?bw?d???q".charAt(c.size));
            if (c.addressSize == 4) {
                text.append(" (a32)");
            }
            if (c.segment != 0) {
                text.append(" (").append(segmentName(c.segment)).append(')');
            }
        }
        String operands = t.shape().pattern
                .replace("%rm", c.rm == null ? "" : operandText(c, c.rm, length))
                .replace("%reg", c.reg == null ? "" : Operand.name(c.reg))
                .replace("%acc", Gpr.of(0, c.size).name());
        if (t.immediate() == Immediate.WORD_BYTE) {
            operands = String.format("0x%x, %d", c.immediate & 0xFFFF, c.immediate >>> 16 & 0xFF);
        } else if (t.immediate() != Immediate.NONE && t.immediate() != Immediate.OFFSET) {
            long value = Values.truncate(c.immediate, t.immediate().bytes(c.size, c.addressSize));
            operands = operands.isEmpty() ? "0x" + Long.toHexString(value) : operands + ", 0x" + Long.toHexString(value);
        }
        if (!operands.isEmpty()) {
            text.append(' ').append(operands);
        }
        return text.toString();
    }

    private static String operandText(CaseBuilder c, Operand operand, int length) {
        if (!(operand instanceof Memory memory)) {
            return Operand.name(operand);
        }
        String size = switch (memory.size()) {
            case 1 -> "byte";
            case 2 -> "word";
            case 4 -> "dword";
            case 8 -> "qword";
            case 10 -> "tbyte";
            default -> "oword";
        };
        String segment = c.segment == 0 ? "" : segmentName(c.segment) + ":";
        String address = switch (memory.address()) {
            case RipRelative r -> (c.addressSize == 4 ? "eip" : "rip")
                    + signedHex(r.target() - c.layout.instructionAddress() - length);
            case AbsoluteOffset a -> "0x" + Long.toHexString(a.target());
            case Indexed x -> indexedText(x, c.addressSize);
        };
        String kind = c.template.memoryUse() == Template.MemoryUse.ADDRESS_ONLY ? "" : size + " ";
        return kind + segment + "[" + address + "]";
    }

    private static String indexedText(Indexed x, int addressSize) {
        StringBuilder text = new StringBuilder();
        if (x.base() != -1) {
            text.append(Gpr.of(x.base(), addressSize).name());
        }
        if (x.index() != -1) {
            text.append(text.isEmpty() ? "" : "+").append(Gpr.of(x.index(), addressSize).name()).append('*').append(1 << x.scale());
        }
        if (text.isEmpty()) {
            return "0x" + Integer.toHexString(x.displacement());
        }
        return x.displacementBytes() == 0 && x.base() != -1 ? text.toString() : text + signedHex(x.displacement());
    }

    private static String signedHex(long value) {
        return value < 0 ? "-0x" + Long.toHexString(-value) : "+0x" + Long.toHexString(value);
    }

    private static String segmentName(int prefix) {
        return SEGMENT_NAMES[(prefix - 0x26) / 8];
    }
}
