package dev.machina.cpu.differential;

import dev.machina.cpu.differential.Operand.Gpr;
import dev.machina.cpu.differential.Operand.Memory;

import java.math.BigInteger;

/**
 * What the generator must know about an instruction beyond its encoding: the initial state it
 * needs (operands a DIV cannot fault on, string pointers inside the buffer, counts worth testing),
 * and what the Intel SDM leaves undefined afterwards, which the comparison then ignores.
 */
sealed interface Behaviour {
    long CF = 1;
    long PF = 1 << 2;
    long AF = 1 << 4;
    long ZF = 1 << 6;
    long SF = 1 << 7;
    long OF = 1 << 11;
    long ARITHMETIC = CF | PF | AF | ZF | SF | OF;

    int RAX = 0;
    int RCX = 1;
    int RDX = 2;
    int RBX = 3;
    int RSP = 4;
    int RBP = 5;
    int RSI = 6;
    int RDI = 7;

    /** Registers (a mask by number) that {@link #prepare} sets, so the memory operand's address may not use them. */
    default int reserved(CaseBuilder c) {
        return 0;
    }

    /** Adjusts the random initial state; runs after the operands are chosen and the address solved. */
    default void prepare(CaseBuilder c) {
    }

    /** The flags this execution leaves undefined, judged on the prepared initial state. */
    long undefinedFlags(CaseBuilder c);

    /** The x87 status word bits this execution leaves undefined. */
    default int undefinedStatus(CaseBuilder c) {
        return 0;
    }

    /** The registers (a mask by number) whose result this execution leaves undefined. */
    default int undefinedRegisters(CaseBuilder c) {
        return 0;
    }

    /** Whether other code must follow the instruction, for a taken branch to skip. */
    default boolean skipsOver() {
        return false;
    }

    /** Learns where the whole case ends, once the instruction is encoded: a branch target. */
    default void placed(CaseBuilder c, long end) {
    }

    /** Flags left undefined whatever the operands. */
    record FlagsLeft(long undefined) implements Behaviour {
        static final FlagsLeft DEFINED = new FlagsLeft(0);
        /** AND, OR, XOR, TEST. */
        static final FlagsLeft LOGIC = new FlagsLeft(AF);
        /** MUL and IMUL define only CF and OF. */
        static final FlagsLeft MULTIPLY = new FlagsLeft(SF | ZF | AF | PF);
        /** LZCNT defines CF and ZF. */
        static final FlagsLeft COUNT = new FlagsLeft(OF | SF | AF | PF);

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return undefined;
        }
    }

    /**
     * DIV and IDIV. The divisor and dividend are chosen so the quotient fits: a #DE would kill the
     * JVM on the host. The divisor is never the dividend's high half (AH, or rDX), which could only
     * be made to fit by rare luck.
     */
    record Divide(boolean signed) implements Behaviour {
        @Override
        public int reserved(CaseBuilder c) {
            return 1 << RAX | 1 << RDX;
        }

        @Override
        public void prepare(CaseBuilder c) {
            Gpr low = Gpr.of(RAX, c.size);
            Gpr high = c.size == 1 ? new Gpr(4, 1, true) : Gpr.of(RDX, c.size);
            while (c.rm instanceof Gpr g && overlaps(g, high)) {
                c.rm = c.pickRegister(c.rmSize(), 0);
            }
            for (int attempt = 0; ; attempt++) {
                if (attempt == 64 && c.rm instanceof Gpr) {
                    c.rm = c.pickRegister(c.rmSize(), 1 << RAX | 1 << RDX);
                }
                long divisor = Values.interesting(c.random, c.size);
                c.write(c.rm, divisor == 0 ? 1 + c.random.nextInt(200) : divisor);
                fillDividend(c, low, high);
                if (!faults(c, low, high)) {
                    return;
                }
            }
        }

        private void fillDividend(CaseBuilder c, Gpr low, Gpr high) {
            boolean aliased = c.rm instanceof Gpr g && overlaps(g, low);
            BigInteger divisor = value(c, c.rm);
            if (signed && !aliased) {
                BigInteger quotient = BigInteger.valueOf(Values.signExtend(Values.interesting(c.random, c.size), c.size));
                BigInteger remainder = BigInteger.valueOf(c.random.nextLong()).abs().mod(divisor.abs());
                BigInteger product = quotient.multiply(divisor);
                // Truncating division gives the remainder the dividend's sign.
                BigInteger dividend = product.add(product.signum() < 0 ? remainder.negate() : remainder);
                writeDividend(c, low, high, dividend);
                return;
            }
            if (!aliased) {
                c.write(low, Values.interesting(c.random, c.size));
            }
            long lowValue = c.read(low);
            long highValue;
            if (signed) {
                // Sign-extending the low half makes the dividend the divisor itself: a quotient of one.
                highValue = c.random.nextBoolean() ? Values.signExtend(lowValue, c.size) >> 63 : c.random.nextInt(3) - 1;
            } else {
                highValue = Long.remainderUnsigned(c.random.nextLong(), divisor.longValue());
            }
            c.write(high, highValue);
        }

        private void writeDividend(CaseBuilder c, Gpr low, Gpr high, BigInteger dividend) {
            c.write(low, dividend.longValue());
            c.write(high, dividend.shiftRight(c.size * 8).longValue());
        }

        private boolean faults(CaseBuilder c, Gpr low, Gpr high) {
            BigInteger divisor = value(c, c.rm);
            if (divisor.signum() == 0) {
                return true;
            }
            int bits = c.size * 8;
            BigInteger unsigned = BigInteger.valueOf(c.read(high)).and(mask(bits)).shiftLeft(bits)
                    .or(BigInteger.valueOf(c.read(low)).and(mask(bits)));
            BigInteger dividend = signed && unsigned.testBit(2 * bits - 1) ? unsigned.subtract(BigInteger.ONE.shiftLeft(2 * bits)) : unsigned;
            BigInteger quotient = dividend.divide(divisor);
            return signed ? quotient.bitLength() >= bits : quotient.bitLength() > bits;
        }

        private BigInteger value(CaseBuilder c, Operand operand) {
            BigInteger unsigned = BigInteger.valueOf(c.read(operand)).and(mask(c.size * 8));
            return signed && unsigned.testBit(c.size * 8 - 1) ? unsigned.subtract(BigInteger.ONE.shiftLeft(c.size * 8)) : unsigned;
        }

        private static BigInteger mask(int bits) {
            return BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        }

        private static boolean overlaps(Gpr a, Gpr b) {
            return a.underlying() == b.underlying() && (a.size() > 1 || b.size() > 1 || a.high() == b.high());
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return ARITHMETIC;
        }
    }

    /**
     * Shifts and rotates. The count (CL or the immediate) favours the edges: 0, 1, the operand
     * width, and the 5- or 6-bit masking. A 16-bit SHLD or SHRD by more than 16 is left out: its
     * result is undefined.
     */
    record Shift(Kind kind) implements Behaviour {
        enum Kind { ROTATE, ROTATE_THROUGH_CARRY, SHIFT_LOGICAL, SHIFT_ARITHMETIC, DOUBLE }

        @Override
        public int reserved(CaseBuilder c) {
            return c.countsByCl() ? 1 << RCX : 0;
        }

        @Override
        public void prepare(CaseBuilder c) {
            int bits = c.size * 8;
            int[] edges = {0, 1, 2, 3, bits - 1, bits, bits + 1, 31, 32, 33, 63, 64, 65};
            long count = c.random.nextInt(4) == 0 ? c.random.nextInt(256) : edges[c.random.nextInt(edges.length)];
            if (kind == Kind.DOUBLE && c.size == 2 && (count & 31) > 16) {
                count = (count & ~31L) | c.random.nextInt(17);
            }
            c.setCount(count);
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            int count = (int) c.count() & (c.size == 8 ? 63 : 31);
            if (count == 0) {
                return 0;
            }
            long undefined = count == 1 ? 0 : OF;
            return switch (kind) {
                case ROTATE, ROTATE_THROUGH_CARRY -> undefined;
                case SHIFT_LOGICAL -> undefined | AF | (count >= c.size * 8 ? CF : 0);
                case SHIFT_ARITHMETIC, DOUBLE -> undefined | AF;
            };
        }
    }

    /**
     * BT, BTS, BTR, BTC. With a register offset into memory the offset reaches beyond the operand
     * (signed, anywhere in the buffer); the address is placed mid-buffer for that.
     */
    record BitTest() implements Behaviour {
        @Override
        public void prepare(CaseBuilder c) {
            if (!(c.rm instanceof Memory memory) || c.template.memoryUse() != Template.MemoryUse.BIT_STRING) {
                return;
            }
            int size = c.size;
            long start = c.layout.dataAddress();
            long lowest = -(memory.target() - start) / size;
            long highest = (start + c.layout.dataSize() - size - memory.target()) / size;
            if (size == 2) {
                lowest = Math.max(lowest, -2048);
                highest = Math.min(highest, 2047);
            }
            long unit = c.random.nextLong(lowest, highest + 1);
            c.write(c.reg, unit * size * 8 + c.random.nextInt(size * 8));
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return OF | SF | AF | PF;
        }
    }

    /** BSF and BSR: with a zero source only ZF is defined and the destination is undefined. */
    record BitScan() implements Behaviour {
        @Override
        public void prepare(CaseBuilder c) {
            switch (c.random.nextInt(4)) {
                case 0 -> c.write(c.rm, 0);
                case 1 -> c.write(c.rm, 1L << c.random.nextInt(c.size * 8));
                default -> {
                }
            }
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return CF | OF | SF | AF | PF;
        }

        @Override
        public int undefinedRegisters(CaseBuilder c) {
            return c.read(c.rm) == 0 ? 1 << ((Gpr) c.reg).underlying() : 0;
        }
    }

    /** CMPXCHG and CMPXCHG8B/16B ({@code pair}): half the time the accumulator matches the operand. */
    record CompareExchange(boolean pair) implements Behaviour {
        @Override
        public int reserved(CaseBuilder c) {
            return pair ? 1 << RAX | 1 << RDX : 1 << RAX;
        }

        @Override
        public void prepare(CaseBuilder c) {
            if (!c.random.nextBoolean()) {
                return;
            }
            if (pair) {
                long address = ((Memory) c.rm).target();
                c.write(Gpr.of(RAX, c.size), c.readMemory(address, c.size));
                c.write(Gpr.of(RDX, c.size), c.readMemory(address + c.size, c.size));
            } else {
                c.write(Gpr.of(RAX, c.size), c.read(c.rm));
            }
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }
    }

    /**
     * MOVS, CMPS, STOS, LODS, SCAS: RSI and RDI point into the buffer so that every element of the
     * (REP-counted, up to 9) run stays inside it, forwards or backwards by DF. A compare under REPE
     * or REPNE often gets a matching run, so the repetition ends on the condition and not the count.
     */
    record StringOperation(boolean readsSource, boolean usesDestination, boolean compares) implements Behaviour {
        @Override
        public void prepare(CaseBuilder c) {
            c.repeat = switch (c.random.nextInt(compares ? 3 : 2)) {
                case 0 -> 0;
                case 1 -> 0xF3;
                default -> 0xF2; // REPNE; with MOVS, STOS or LODS it is undefined, so only compares get it
            };
            int size = c.size;
            int addressSize = c.addressSize;
            int count = c.repeat != 0 ? c.random.nextInt(10) : 1;
            if (c.repeat != 0) {
                c.write(Gpr.of(RCX, addressSize), count);
            }
            int elements = Math.max(count, 1);
            int span = elements * size;
            long source = 0;
            long destination = 0;
            if (readsSource) {
                source = place(c, span, elements);
                c.write(Gpr.of(RSI, addressSize), source);
            }
            if (usesDestination) {
                destination = place(c, span, elements);
                c.write(Gpr.of(RDI, addressSize), destination);
            }
            if (compares && c.repeat != 0 && c.random.nextBoolean()) {
                long from = lowest(c, destination, elements);
                for (int i = 0; i < elements; i++) {
                    long element = readsSource ? c.readMemory(lowest(c, source, elements) + (long) i * size, size) : c.read(Gpr.of(RAX, size));
                    c.writeMemory(from + (long) i * size, size, element);
                }
                if (c.random.nextBoolean()) {
                    c.writeMemory(from + c.random.nextInt(span), 1, c.random.nextInt(256));
                }
            }
        }

        /** A start address whose whole run, in the direction DF gives, lies in the buffer. */
        private static long place(CaseBuilder c, int span, int elements) {
            long lowest = c.layout.dataAddress() + c.random.nextInt(c.layout.dataSize() - span + 1);
            return c.backwards() ? lowest + (long) (elements - 1) * c.size : lowest;
        }

        private static long lowest(CaseBuilder c, long start, int elements) {
            return c.backwards() ? start - (long) (elements - 1) * c.size : start;
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }

        /**
         * A REP with a 32-bit address size and ECX already 0 runs no element, and the SDM's
         * pseudo-code then writes no register (AMD, and the Java CPU). Intel cores write ECX
         * anyway, zero-extending RCX, and MOVS and STOS also zero-extend RSI and RDI.
         */
        @Override
        public int undefinedRegisters(CaseBuilder c) {
            boolean emptyRun = c.repeat != 0 && c.addressSize == 4 && c.read(Gpr.of(RCX, 4)) == 0;
            return emptyRun ? 1 << RCX | 1 << RSI | 1 << RDI : 0;
        }
    }

    /**
     * PUSH, POP, PUSHF, POPF, ENTER and LEAVE: RSP (and RBP, which ENTER and LEAVE follow) point
     * mid-buffer. A PUSH or POP of memory is sometimes rebased on RSP itself, where POP addresses
     * with RSP already incremented. What POPF pops never has TF, whose trap would end the JVM.
     */
    record StackOperation(Kind kind) implements Behaviour {
        enum Kind { PUSH, POP, POP_FLAGS, ENTER, LEAVE }

        @Override
        public int reserved(CaseBuilder c) {
            return 1 << RSP | (kind == Kind.ENTER || kind == Kind.LEAVE ? 1 << RBP : 0);
        }

        @Override
        public void prepare(CaseBuilder c) {
            long stack = framePointer(c);
            c.write(Gpr.of(RSP, 8), stack);
            switch (kind) {
                case PUSH, POP -> {
                    if (c.rm instanceof Memory && c.random.nextInt(3) == 0) {
                        int displacement = c.random.nextInt(-64, 64);
                        long target = stack + (kind == Kind.POP ? c.size : 0) + displacement;
                        c.rm = new Memory(new Operand.Indexed(RSP, -1, c.random.nextInt(4), 1, displacement, true), target, c.size);
                        c.write(c.rm, Values.interesting(c.random, c.size));
                    }
                }
                case POP_FLAGS -> c.writeMemory(stack, c.size, Values.interesting(c.random, c.size) & ~MachineState.TF);
                case ENTER -> {
                    c.write(Gpr.of(RBP, 8), framePointer(c));
                    // ENTER checks a write at the final RSP, so the frame stays in the buffer.
                    int frame = c.random.nextBoolean() ? c.random.nextInt(64) : c.random.nextInt(1024);
                    int level = c.random.nextInt(4) + (c.random.nextInt(8) == 0 ? 32 : 0);
                    c.immediate = frame | (long) level << 16;
                }
                case LEAVE -> c.write(Gpr.of(RBP, 8), framePointer(c));
            }
        }

        /** A stack address mid-buffer, usually 8-aligned, with room both ways. */
        private static long framePointer(CaseBuilder c) {
            return c.pickTarget(16, c.random.nextInt(4) == 0 ? 1 : 8, true);
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }
    }

    /** XLAT: RBX points so that RBX + AL lands in the buffer. */
    record Translate() implements Behaviour {
        @Override
        public int reserved(CaseBuilder c) {
            return 1 << RBX;
        }

        @Override
        public void prepare(CaseBuilder c) {
            long target = c.pickTarget(1, 1, false);
            c.write(Gpr.of(RBX, c.addressSize), target - c.read(Gpr.of(RAX, 1)));
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }
    }

    /**
     * Near branches, always to the end of the case: an instruction follows (a {@link FlagSetter}
     * on a scratch register), which a taken branch skips and a branch not taken executes, so
     * both ways end where the runner stops. CALL and RET use a stack mid-buffer, and RET finds
     * the end address there; an indirect branch finds it in its operand.
     */
    record Branch(Kind kind) implements Behaviour {
        enum Kind { RELATIVE, CALL, INDIRECT_JUMP, INDIRECT_CALL, RETURN, COUNTER }

        @Override
        public boolean skipsOver() {
            return true;
        }

        @Override
        public int reserved(CaseBuilder c) {
            return switch (kind) {
                case CALL, INDIRECT_CALL, RETURN -> 1 << RSP;
                case COUNTER -> 1 << RCX;
                default -> 0;
            };
        }

        @Override
        public void prepare(CaseBuilder c) {
            switch (kind) {
                case RELATIVE, CALL -> c.immediate = c.layout.following();
                case COUNTER -> {
                    c.immediate = c.layout.following();
                    c.write(Gpr.of(RCX, c.addressSize), c.random.nextBoolean() ? c.random.nextInt(3) : Values.interesting(c.random, c.addressSize));
                }
                case RETURN -> c.immediate = c.random.nextBoolean() ? 0 : c.random.nextInt(64);
                default -> {
                }
            }
            if (kind == Kind.INDIRECT_CALL) {
                while (c.rm instanceof Gpr g && g.number() == RSP) {
                    c.rm = c.pickRegister(8, 1 << RSP); // CALL RSP would push onto the code page
                }
            }
            if (kind == Kind.CALL || kind == Kind.INDIRECT_CALL || kind == Kind.RETURN) {
                c.write(Gpr.of(RSP, 8), c.pickTarget(16, 8, true));
            }
        }

        @Override
        public void placed(CaseBuilder c, long end) {
            switch (kind) {
                case INDIRECT_JUMP, INDIRECT_CALL -> c.write(c.rm, end);
                case RETURN -> c.writeMemory(c.registers[RSP], 8, end);
                default -> {
                }
            }
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }
    }

    /**
     * An SSE or SSE2 instruction whose source holds {@code element}s: the operands are filled with
     * edge values of that type, and now and then made equal (CMPPS's and COMISS's equal case).
     * The 66, F2 and F3 prefixes are part of the opcode, so no spare 66 is added.
     *
     * @param predicates whether the immediate is a CMPcc predicate: the legacy encoding defines
     *                   0..7 only and leaves imm8[7:3] reserved
     */
    record Vector(FloatValues.Element element, boolean predicates) implements Behaviour {
        Vector(FloatValues.Element element) {
            this(element, false);
        }

        @Override
        public void prepare(CaseBuilder c) {
            c.fillOperands(element);
            if (predicates) {
                c.immediate &= 7;
            }
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }
    }

    /**
     * An x87 instruction whose memory operand holds {@code element}s (null without one). The
     * condition codes it leaves undefined (the SDM's "undefined" in its FPU flags affected) are not
     * compared; RFLAGS are defined where it writes them (FCOMI and FUCOMI).
     */
    record X87(FloatValues.Element element, int undefinedStatus) implements Behaviour {
        /** Most arithmetic and transfers: C1 is defined (rounded up, or the stack fault's direction), C0, C2 and C3 are not. */
        static X87 of(FloatValues.Element element) {
            return new X87(element, FpuImage.C0 | FpuImage.C2 | FpuImage.C3);
        }

        /**
         * FCMOVcc: the SDM defines C1 only for a stack underflow, and AMD leaves it unchanged
         * where the Java CPU clears it; C0, C2 and C3 are undefined.
         */
        static final X87 UNORDERED_C1 = new X87(null, FpuImage.CONDITION_CODES);

        /**
         * FCOMI, FUCOMI and their popping forms: the SDM sets C1 to 0, AMD leaves it unchanged
         * (a vendor difference); C0, C2 and C3 are not affected, so they are compared.
         */
        static final X87 FLAG_COMPARE = new X87(null, FpuImage.C1);

        /** Comparisons, FTST and FXAM: all four condition codes are defined. */
        static X87 comparing(FloatValues.Element element) {
            return new X87(element, 0);
        }

        @Override
        public void prepare(CaseBuilder c) {
            // Mostly operands that are there: an empty ST(i) is a stack underflow, tested but not all the time.
            if (c.reg instanceof Operand.Stack s && c.random.nextInt(4) != 0) {
                c.fillStack(s.number() + 1);
            }
            c.fillOperands(element);
        }

        @Override
        public long undefinedFlags(CaseBuilder c) {
            return 0;
        }

        @Override
        public int undefinedStatus(CaseBuilder c) {
            return undefinedStatus;
        }
    }
}
