package dev.machina.cpu.differential;

/** Where an operand of the instruction under test lives: a register or the data buffer. */
sealed interface Operand permits Operand.Gpr, Operand.Xmm, Operand.Stack, Operand.Memory {
    /** The operand's size in bytes. */
    int size();

    /**
     * A general register as encoded: {@code number} 0..15 (REX bits included); {@code high} names
     * AH, CH, DH or BH, which byte operands 4..7 mean without a REX prefix.
     */
    record Gpr(int number, int size, boolean high) implements Operand {
        private static final String[] BASE = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
        private static final String[] LOW_BYTES = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"};
        private static final String[] HIGH_BYTES = {"ah", "ch", "dh", "bh"};

        static Gpr of(int number, int size) {
            return new Gpr(number, size, false);
        }

        /** The 64-bit register this operand is part of. */
        int underlying() {
            return high ? number - 4 : number;
        }

        /** Where in the 64-bit register the operand starts. */
        int shift() {
            return high ? 8 : 0;
        }

        String name() {
            if (high) {
                return HIGH_BYTES[number - 4];
            }
            if (number >= 8) {
                return "r" + number + switch (size) {
                    case 1 -> "b";
                    case 2 -> "w";
                    case 4 -> "d";
                    default -> "";
                };
            }
            return switch (size) {
                case 1 -> LOW_BYTES[number];
                case 2 -> BASE[number];
                case 4 -> "e" + BASE[number];
                default -> "r" + BASE[number];
            };
        }
    }

    /** An XMM register, 0..15 (REX bits included). */
    record Xmm(int number) implements Operand {
        @Override
        public int size() {
            return 16;
        }
    }

    /** ST(i) of the x87 stack, encoded in the opcode's low three bits. */
    record Stack(int number) implements Operand {
        @Override
        public int size() {
            return 10;
        }
    }

    /** The number a register operand encodes; a memory operand has none. */
    static int number(Operand register) {
        return switch (register) {
            case Gpr g -> g.number();
            case Xmm x -> x.number();
            case Stack s -> s.number();
            case Memory ignored -> throw new IllegalArgumentException("a memory operand has no register number");
        };
    }

    /** The register's name in Intel syntax. */
    static String name(Operand register) {
        return switch (register) {
            case Gpr g -> g.name();
            case Xmm x -> "xmm" + x.number();
            case Stack s -> "st(" + s.number() + ")";
            case Memory ignored -> throw new IllegalArgumentException("a memory operand has no register name");
        };
    }

    /** A memory operand: its encoding and the absolute address it was solved to reach. */
    record Memory(Address address, long target, int size) implements Operand {
    }

    /** The encodable forms of a memory operand. */
    sealed interface Address permits Indexed, RipRelative, AbsoluteOffset {
    }

    /**
     * {@code [base + index * 2^scale + displacement]}; base or index -1 when absent. Without a base
     * the displacement takes four bytes; {@code sib} forces a SIB byte where one is optional.
     */
    record Indexed(int base, int index, int scale, int displacementBytes, int displacement, boolean sib) implements Address {
    }

    /** {@code [rip + displacement]}, the displacement worked out from the instruction's length. */
    record RipRelative(long target) implements Address {
    }

    /** The address as an immediate as wide as the address size (MOV A0..A3). */
    record AbsoluteOffset(long target) implements Address {
    }
}
