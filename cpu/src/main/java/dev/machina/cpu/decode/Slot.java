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
     * opcode's low nibble), {@link Traits} and how the translator renders it.
     */
    record Opcode(String mnemonic, Form form, Size size, Immediate immediate, Operation operation,
                  int argument, int traits, Translation translation) implements Slot {
        public Opcode with(int moreTraits) {
            return new Opcode(mnemonic, form, size, immediate, operation, argument, traits | moreTraits, translation);
        }

        public Opcode withArgument(int value) {
            return new Opcode(mnemonic, form, size, immediate, operation, value, traits, translation);
        }

        public Opcode translated(Translation rendering) {
            return new Opcode(mnemonic, form, size, immediate, operation, argument, traits, rendering);
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
        /**
         * An x87 computational instruction: #NM with CR0.EM or CR0.TS, #MF while an unmasked
         * exception is pending; it records the last-instruction pointers and opcode.
         */
        public static final int X87 = 1 << 5;
        /** An x87 control instruction that waits (FLDCW, FRSTOR, FFREE...): as X87, but records nothing. */
        public static final int X87_CONTROL = 1 << 6;
        /** An x87 control instruction that does not wait (FNINIT, FNSTSW, FNSAVE...): #NM only. */
        public static final int X87_NO_WAIT = 1 << 12;
        /** FWAIT: #NM only when CR0.MP and CR0.TS are both set; #MF while an exception is pending. */
        public static final int WAIT = 1 << 7;
        /** MMX: #UD with CR0.EM, #NM with CR0.TS, #MF while pending; enters the MMX state. */
        public static final int MMX = 1 << 8;
        /** SSE and SSE2: #UD with CR0.EM or without CR4.OSFXSR, #NM with CR0.TS. */
        public static final int SSE = 1 << 9;
        /** FXSAVE and FXRSTOR: #NM with CR0.EM or CR0.TS. */
        public static final int FXSR = 1 << 10;
        /** A memory operand must be 16-byte aligned, else #GP(0). */
        public static final int ALIGNED = 1 << 11;
        /**
         * A compiled block ends after it: control leaves for good (JMP, CALL, RET, INT, IRET, the
         * far forms), or what the code after it means may change (mode, privilege, paging, the
         * interrupt shadow of STI, MOV SS and POP SS, HLT).
         */
        public static final int ENDS_BLOCK = 1 << 13;
        /** The traits the executor checks before each execution (the decoder keeps them in the instruction). */
        public static final int EXECUTION_CHECKS = X87 | X87_CONTROL | X87_NO_WAIT | WAIT | MMX | SSE | FXSR | ALIGNED;

        private Traits() {
        }
    }
}
