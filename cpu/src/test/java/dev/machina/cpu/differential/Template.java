package dev.machina.cpu.differential;

import java.util.HexFormat;

/**
 * One instruction encoding the generator can emit, as data: the operand shape, the opcode bytes
 * (after any prefixes; a register-in-opcode shape adds the register to the last byte), the
 * operand sizes it allows (a mask of 1, 2, 4 and 8, so a size's byte count is its bit), how its
 * memory operand is used, and its {@link Behaviour}: the state it needs and the flags it leaves
 * undefined.
 *
 * @param extension   ModRM.reg for {@link Shape.Field#EXTENSION} shapes
 * @param rmSize      the r/m operand's size when it is not the operand size (MOVZX, MOVSXD, SSE, x87), else 0
 * @param mandatoryPrefix a prefix that is part of the opcode (F3 of POPCNT), or 0
 * @param hostFeature the /proc/cpuinfo flag the host needs to execute it, or null
 */
record Template(String mnemonic, Shape shape, int[] opcode, int extension, int sizes, int rmSize,
                Immediate immediate, Behaviour behaviour, MemoryUse memoryUse, int traits,
                int mandatoryPrefix, String hostFeature) {
    static final int BYTE = 1;
    static final int WIDE = 2 | 4 | 8;
    static final int ALL = BYTE | WIDE;

    /** A memory destination may take LOCK. */
    static final int LOCKABLE = 1;
    /** A memory operand is locked without the prefix (XCHG), so it must not split a cache line. */
    static final int IMPLICIT_LOCK = 1 << 1;
    /** The r/m operand must be memory (LEA, CMPXCHG8B). */
    static final int MEMORY_ONLY = 1 << 2;
    /** The r/m operand must be a register. */
    static final int REGISTER_ONLY = 1 << 3;
    /** A stack instruction: 64-bit without REX.W, 16-bit with 66, never 32-bit. */
    static final int STACK_SIZED = 1 << 4;
    /** Has an address size without ModRM (XLAT's memory, LOOP's counter), so 67 and segment prefixes apply. */
    static final int ADDRESS_SIZED = 1 << 5;
    /** ModRM.reg names an XMM register. */
    static final int XMM_REG = 1 << 6;
    /** A register r/m operand is an XMM register. */
    static final int XMM_RM = 1 << 7;
    /** The register in the opcode is ST(i) of the x87 stack. */
    static final int X87_STACK = 1 << 8;
    /** A 16-byte memory operand may be misaligned (MOVUPS, MOVDQU); legacy SSE faults on others. */
    static final int UNALIGNED = 1 << 9;

    /** How the instruction uses its memory operand. */
    enum MemoryUse {
        /** Reads or writes the operand's bytes. */
        ACCESS,
        /** Reads and writes twice the operand size (CMPXCHG8B, CMPXCHG16B, aligned to that). */
        PAIR,
        /** A bit string: the register bit offset moves the access (BT r/m, reg). */
        BIT_STRING,
        /** Computes the address only (LEA). */
        ADDRESS_ONLY
    }

    static Template of(String mnemonic, Shape shape, int sizes, int... opcode) {
        return new Template(mnemonic, shape, opcode, 0, sizes, 0, Immediate.NONE, Behaviour.FlagsLeft.DEFINED,
                MemoryUse.ACCESS, 0, 0, null);
    }

    Template extension(int value) {
        return new Template(mnemonic, shape, opcode, value, sizes, rmSize, immediate, behaviour, memoryUse, traits, mandatoryPrefix, hostFeature);
    }

    Template rmSize(int value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, value, immediate, behaviour, memoryUse, traits, mandatoryPrefix, hostFeature);
    }

    Template immediate(Immediate value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, value, behaviour, memoryUse, traits, mandatoryPrefix, hostFeature);
    }

    Template behaviour(Behaviour value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, immediate, value, memoryUse, traits, mandatoryPrefix, hostFeature);
    }

    Template memoryUse(MemoryUse value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, immediate, behaviour, value, traits, mandatoryPrefix, hostFeature);
    }

    Template traits(int value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, immediate, behaviour, memoryUse, traits | value, mandatoryPrefix, hostFeature);
    }

    Template mandatoryPrefix(int value) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, immediate, behaviour, memoryUse, traits, value, hostFeature);
    }

    Template requires(String feature) {
        return new Template(mnemonic, shape, opcode, extension, sizes, rmSize, immediate, behaviour, memoryUse, traits, mandatoryPrefix, feature);
    }

    /** The full-size form of a byte-only template: the opcode one higher (the x86 "w" bit). */
    Template wide() {
        int[] widened = opcode.clone();
        widened[widened.length - 1]++;
        return new Template(mnemonic, shape, widened, extension, WIDE, rmSize, immediate, behaviour, memoryUse, traits, mandatoryPrefix, hostFeature);
    }

    boolean has(int trait) {
        return (traits & trait) != 0;
    }

    /** The size of the r/m operand at operand size {@code size}. */
    int rmSizeAt(int size) {
        return rmSize == 0 ? size : rmSize;
    }

    /** A short unique name: mnemonic, opcode and extension, e.g. {@code add 83/0}. */
    String key() {
        StringBuilder text = new StringBuilder(mnemonic).append(' ');
        if (mandatoryPrefix != 0) {
            text.append(HexFormat.of().toHexDigits((byte) mandatoryPrefix)).append(' ');
        }
        for (int i = 0; i < opcode.length; i++) {
            text.append(i == 0 ? "" : " ").append(HexFormat.of().toHexDigits((byte) opcode[i]));
        }
        if (shape.field == Shape.Field.EXTENSION) {
            text.append('/').append(extension);
        }
        return text.toString();
    }
}
