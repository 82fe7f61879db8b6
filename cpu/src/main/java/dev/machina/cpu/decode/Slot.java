package dev.machina.cpu.decode;

import java.util.List;

/**
 * One cell of the opcode map: an instruction, or a further choice the decoder makes by the ModRM
 * byte (the reg field for the "group" opcodes, mod for register-only forms, rm for 0F 01's
 * register encodings).
 */
public sealed interface Slot {
    /**
     * An instruction: its mnemonic (for diagnostics), operand layout and size, immediate, the
     * family method that executes it, an argument (a condition code or segment number; -1: the
     * opcode's low nibble) and {@link Traits}.
     */
    record Opcode(String mnemonic, Form form, Size size, Immediate immediate, Operation operation,
                  int argument, int traits) implements Slot {
        public Opcode with(int moreTraits) {
            return new Opcode(mnemonic, form, size, immediate, operation, argument, traits | moreTraits);
        }

        public Opcode withArgument(int value) {
            return new Opcode(mnemonic, form, size, immediate, operation, value, traits);
        }
    }

    /** Chosen by ModRM.reg (eight entries; null: #UD). */
    record ByReg(List<Slot> slots) implements Slot {
        public ByReg {
            if (slots.size() != 8) {
                throw new IllegalArgumentException("a ModRM.reg group has 8 entries, not " + slots.size());
            }
        }
    }

    /** Chosen by whether ModRM addresses memory or a register. */
    record ByMod(Slot memory, Slot register) implements Slot {
    }

    /** Chosen by ModRM.rm when ModRM names a register (0F 01 /7 and friends). */
    record ByRm(List<Slot> slots) implements Slot {
    }

    /** Opcode properties beyond the operand layout. */
    final class Traits {
        /** Invalid in 64-bit mode (#UD there). */
        public static final int NOT_64 = 1;
        /** The r/m operand is one byte whatever the operand size (MOVZX Gv, Eb). */
        public static final int RM_BYTE = 1 << 1;
        /** The r/m operand is two bytes whatever the operand size. */
        public static final int RM_WORD = 1 << 2;
        /** Atomic even without a LOCK prefix (XCHG with memory). */
        public static final int IMPLICIT_LOCK = 1 << 3;
        /** Only valid in 64-bit mode. */
        public static final int ONLY_64 = 1 << 4;

        private Traits() {
        }
    }
}
