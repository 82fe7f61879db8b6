package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.X87Registers;
import dev.machina.cpu.state.XmmRegisters;

/**
 * The integer SIMD instructions of MMX and SSE2, and the bitwise SSE ones (ANDPS & co. are the
 * same bits): lane-wise arithmetic, compares, logic and shifts, packs, unpacks, shuffles and
 * word inserts and extracts. A 128-bit operation is two 64-bit ones wherever lanes do not cross
 * the halves, so MMX and SSE share one lane-wise helper; the opcode map names the lane operation
 * in the instruction's argument.
 */
public final class PackedIntegers {
    public static final int AND = 0;
    public static final int AND_NOT = 1;
    public static final int OR = 2;
    public static final int XOR = 3;
    public static final int ADD_BYTES = 4;
    public static final int ADD_WORDS = 5;
    public static final int ADD_DOUBLEWORDS = 6;
    public static final int ADD_QUADWORDS = 7;
    public static final int SUBTRACT_BYTES = 8;
    public static final int SUBTRACT_WORDS = 9;
    public static final int SUBTRACT_DOUBLEWORDS = 10;
    public static final int SUBTRACT_QUADWORDS = 11;
    public static final int ADD_SIGNED_SATURATING_BYTES = 12;
    public static final int ADD_SIGNED_SATURATING_WORDS = 13;
    public static final int ADD_UNSIGNED_SATURATING_BYTES = 14;
    public static final int ADD_UNSIGNED_SATURATING_WORDS = 15;
    public static final int SUBTRACT_SIGNED_SATURATING_BYTES = 16;
    public static final int SUBTRACT_SIGNED_SATURATING_WORDS = 17;
    public static final int SUBTRACT_UNSIGNED_SATURATING_BYTES = 18;
    public static final int SUBTRACT_UNSIGNED_SATURATING_WORDS = 19;
    public static final int EQUAL_BYTES = 20;
    public static final int EQUAL_WORDS = 21;
    public static final int EQUAL_DOUBLEWORDS = 22;
    public static final int GREATER_BYTES = 23;
    public static final int GREATER_WORDS = 24;
    public static final int GREATER_DOUBLEWORDS = 25;
    public static final int MINIMUM_UNSIGNED_BYTES = 26;
    public static final int MAXIMUM_UNSIGNED_BYTES = 27;
    public static final int MINIMUM_SIGNED_WORDS = 28;
    public static final int MAXIMUM_SIGNED_WORDS = 29;
    public static final int AVERAGE_BYTES = 30;
    public static final int AVERAGE_WORDS = 31;
    public static final int MULTIPLY_LOW_WORDS = 32;
    public static final int MULTIPLY_HIGH_WORDS = 33;
    public static final int MULTIPLY_HIGH_UNSIGNED_WORDS = 34;
    public static final int MULTIPLY_ADD_WORDS = 35;
    public static final int MULTIPLY_UNSIGNED_DOUBLEWORDS = 36;
    public static final int SUM_ABSOLUTE_DIFFERENCES = 37;

    /** Shift kinds, combined with a lane width by {@link #shift}. */
    public static final int SHIFT_LEFT = 0;
    public static final int SHIFT_RIGHT = 1;
    public static final int SHIFT_RIGHT_ARITHMETIC = 2;

    /** A shift's argument: its kind, and its lane width of 16, 32 or 64 bits. */
    public static int shift(int kind, int widthBits) {
        return kind << 2 | (Integer.numberOfTrailingZeros(widthBits) - 4);
    }

    /** Pack kinds. */
    public static final int PACK_SIGNED_WORDS = 0;
    public static final int PACK_UNSIGNED_WORDS = 1;
    public static final int PACK_SIGNED_DOUBLEWORDS = 2;

    /** An unpack's argument: the lane width in bits, plus this for the high halves. */
    public static final int UNPACK_HIGH = 1 << 8;

    private static final long LOW_BITS = 0x7F7F_7F7F_7F7F_7F7FL;
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;
    private static final long ONES = 0x0101_0101_0101_0101L;

    /** Lane width in bits of each lane operation, by operation number. */
    private static final int[] WIDTH = {64, 64, 64, 64, 8, 16, 32, 64, 8, 16, 32, 64, 8, 16, 8, 16, 8, 16, 8, 16,
            8, 16, 32, 8, 16, 32, 8, 8, 16, 16, 8, 16, 16, 16, 16, 32, 64, 64};

    private PackedIntegers() {
    }

    // ---- lane-wise operations -------------------------------------------------------------------

    /** An SSE lane-wise operation: XMM reg = XMM reg (op) r/m. */
    public static void lanewise(Processor cpu, Instruction i) {
        long[] x = cpu.state.sse.xmm;
        int s = VectorOperands.source(cpu, i);
        int d = i.reg();
        x[2 * d] = lanes(i.argument(), x[2 * d], x[2 * s]);
        x[2 * d + 1] = lanes(i.argument(), x[2 * d + 1], x[2 * s + 1]);
    }

    /** The MMX form: MM reg = MM reg (op) r/m. */
    public static void lanewiseMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long b = VectorOperands.mmxSource(cpu, i);
        f.setMmx(i.reg(), lanes(i.argument(), f.mmx(i.reg()), b));
    }

    /** Operation {@code op} on each lane of the 64-bit chunks {@code a} and {@code b}. */
    static long lanes(int op, long a, long b) {
        return switch (op) {
            case AND -> a & b;
            case AND_NOT -> ~a & b;
            case OR -> a | b;
            case XOR -> a ^ b;
            case ADD_QUADWORDS -> a + b;
            case SUBTRACT_QUADWORDS -> a - b;
            // The bytes without carries between them: the top bit of each byte added apart.
            case ADD_BYTES -> ((a & LOW_BITS) + (b & LOW_BITS)) ^ ((a ^ b) & HIGH_BITS);
            case EQUAL_BYTES -> zeroBytes(a ^ b);
            case MULTIPLY_UNSIGNED_DOUBLEWORDS -> (a & 0xFFFF_FFFFL) * (b & 0xFFFF_FFFFL);
            case SUM_ABSOLUTE_DIFFERENCES -> sumOfAbsoluteDifferences(a, b);
            default -> eachLane(op, a, b);
        };
    }

    /** 0xFF in each byte of {@code v} that is zero, else 0. */
    private static long zeroBytes(long v) {
        long inverted = ~v;
        long zero = ((inverted & LOW_BITS) + ONES) & inverted & HIGH_BITS;
        return (zero >>> 7) * 0xFF;
    }

    private static long sumOfAbsoluteDifferences(long a, long b) {
        long sum = 0;
        for (int shift = 0; shift < 64; shift += 8) {
            sum += Math.abs(((a >>> shift) & 0xFF) - ((b >>> shift) & 0xFF));
        }
        return sum;
    }

    private static long eachLane(int op, long a, long b) {
        int bits = WIDTH[op];
        long mask = (1L << bits) - 1;
        long result = 0;
        for (int shift = 0; shift < 64; shift += bits) {
            long x = (a >>> shift) & mask;
            long y = (b >>> shift) & mask;
            result |= (lane(op, x, y, bits) & mask) << shift;
        }
        return result;
    }

    /** One lane: {@code x} and {@code y} are the lane's unsigned values. */
    private static long lane(int op, long x, long y, int bits) {
        long mask = (1L << bits) - 1;
        long sx = signed(x, bits);
        long sy = signed(y, bits);
        return switch (op) {
            case ADD_WORDS, ADD_DOUBLEWORDS -> x + y;
            case SUBTRACT_BYTES, SUBTRACT_WORDS, SUBTRACT_DOUBLEWORDS -> x - y;
            case ADD_SIGNED_SATURATING_BYTES, ADD_SIGNED_SATURATING_WORDS -> saturateSigned(sx + sy, bits);
            case ADD_UNSIGNED_SATURATING_BYTES, ADD_UNSIGNED_SATURATING_WORDS -> Math.min(x + y, mask);
            case SUBTRACT_SIGNED_SATURATING_BYTES, SUBTRACT_SIGNED_SATURATING_WORDS -> saturateSigned(sx - sy, bits);
            case SUBTRACT_UNSIGNED_SATURATING_BYTES, SUBTRACT_UNSIGNED_SATURATING_WORDS -> Math.max(x - y, 0);
            case EQUAL_WORDS, EQUAL_DOUBLEWORDS -> x == y ? -1 : 0;
            case GREATER_BYTES, GREATER_WORDS, GREATER_DOUBLEWORDS -> sx > sy ? -1 : 0;
            case MINIMUM_UNSIGNED_BYTES -> Math.min(x, y);
            case MAXIMUM_UNSIGNED_BYTES -> Math.max(x, y);
            case MINIMUM_SIGNED_WORDS -> Math.min(sx, sy);
            case MAXIMUM_SIGNED_WORDS -> Math.max(sx, sy);
            case AVERAGE_BYTES, AVERAGE_WORDS -> (x + y + 1) >>> 1;
            case MULTIPLY_LOW_WORDS -> sx * sy;
            case MULTIPLY_HIGH_WORDS -> (sx * sy) >> 16;
            case MULTIPLY_HIGH_UNSIGNED_WORDS -> (x * y) >>> 16;
            case MULTIPLY_ADD_WORDS -> (long) (short) x * (short) y + (long) (short) (x >>> 16) * (short) (y >>> 16);
            default -> throw new IllegalArgumentException("no lane operation " + op);
        };
    }

    private static long signed(long lane, int bits) {
        return (lane << (64 - bits)) >> (64 - bits);
    }

    private static long saturateSigned(long value, int bits) {
        long max = (1L << (bits - 1)) - 1;
        return Math.max(-max - 1, Math.min(max, value));
    }

    // ---- shifts ---------------------------------------------------------------------------------

    /** PSLL/PSRL/PSRA xmm, xmm/m128: the count is the source's low quadword. */
    public static void shiftByOperand(Processor cpu, Instruction i) {
        int s = VectorOperands.source(cpu, i);
        shiftXmm(cpu.state.sse, i.reg(), i.argument(), cpu.state.sse.low(s));
    }

    /** PSLL/PSRL/PSRA xmm, imm8 (66 0F 71-73): the register is ModRM.rm. */
    public static void shiftByImmediate(Processor cpu, Instruction i) {
        shiftXmm(cpu.state.sse, i.rm(), i.argument(), i.immediate() & 0xFF);
    }

    public static void shiftByOperandMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        f.setMmx(i.reg(), shiftLanes(i.argument(), f.mmx(i.reg()), VectorOperands.mmxSource(cpu, i)));
    }

    public static void shiftByImmediateMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        f.setMmx(i.rm(), shiftLanes(i.argument(), f.mmx(i.rm()), i.immediate() & 0xFF));
    }

    private static void shiftXmm(XmmRegisters x, int register, int shift, long count) {
        x.set(register, shiftLanes(shift, x.low(register), count), shiftLanes(shift, x.high(register), count));
    }

    private static long shiftLanes(int shift, long value, long count) {
        int kind = shift >> 2;
        int bits = 16 << (shift & 3);
        boolean outOfRange = Long.compareUnsigned(count, bits - 1) > 0;
        if (outOfRange && kind != SHIFT_RIGHT_ARITHMETIC) {
            return 0;
        }
        int n = outOfRange ? bits - 1 : (int) count;
        if (bits == 64) {
            return switch (kind) {
                case SHIFT_LEFT -> value << n;
                case SHIFT_RIGHT -> value >>> n;
                default -> value >> n;
            };
        }
        long mask = (1L << bits) - 1;
        long result = 0;
        for (int at = 0; at < 64; at += bits) {
            long lane = (value >>> at) & mask;
            long shifted = switch (kind) {
                case SHIFT_LEFT -> lane << n;
                case SHIFT_RIGHT -> lane >>> n;
                default -> signed(lane, bits) >> n;
            };
            result |= (shifted & mask) << at;
        }
        return result;
    }

    /** PSLLDQ (argument SHIFT_LEFT) and PSRLDQ: the whole register shifted by bytes. */
    public static void shiftBytes(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int r = i.rm();
        long low = x.low(r);
        long high = x.high(r);
        int count = (int) Math.min(16, i.immediate() & 0xFF) * 8;
        long newLow;
        long newHigh;
        if (count == 0) {
            return;
        } else if (count >= 128) {
            newLow = 0;
            newHigh = 0;
        } else if (i.argument() == SHIFT_LEFT) {
            newHigh = count >= 64 ? low << (count - 64) : (high << count) | (low >>> (64 - count));
            newLow = count >= 64 ? 0 : low << count;
        } else {
            newLow = count >= 64 ? high >>> (count - 64) : (low >>> count) | (high << (64 - count));
            newHigh = count >= 64 ? 0 : high >>> count;
        }
        x.set(r, newLow, newHigh);
    }

    // ---- unpacks and packs ----------------------------------------------------------------------

    /**
     * PUNPCKL and PUNPCKH (and UNPCKLPS & co.): the lanes of the low (or high) halves of
     * destination and source, interleaved, the destination's first.
     */
    public static void unpack(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        int d = i.reg();
        boolean high = (i.argument() & UNPACK_HIGH) != 0;
        int bits = i.argument() & 0xFF;
        long a = high ? x.high(d) : x.low(d);
        long b = high ? x.high(s) : x.low(s);
        if (bits == 64) {
            x.set(d, a, b);
        } else {
            x.set(d, interleave(a, b, bits), interleave(a >>> 32, b >>> 32, bits));
        }
    }

    public static void unpackMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long b = VectorOperands.mmxSource(cpu, i);
        long a = f.mmx(i.reg());
        int shift = (i.argument() & UNPACK_HIGH) != 0 ? 32 : 0;
        f.setMmx(i.reg(), interleave(a >>> shift, b >>> shift, i.argument() & 0xFF));
    }

    /** The lanes of the low 32 bits of {@code a} and {@code b}, alternating, {@code a}'s first. */
    private static long interleave(long a, long b, int bits) {
        long mask = (1L << bits) - 1;
        long result = 0;
        for (int k = 0; k * bits < 32; k++) {
            result |= ((a >>> (k * bits)) & mask) << (2 * k * bits);
            result |= ((b >>> (k * bits)) & mask) << ((2 * k + 1) * bits);
        }
        return result;
    }

    /** PACKSSWB, PACKUSWB, PACKSSDW: the destination's lanes narrowed with saturation, then the source's. */
    public static void pack(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        int d = i.reg();
        int kind = i.argument();
        x.set(d, narrow(x.low(d), kind) | narrow(x.high(d), kind) << 32,
                narrow(x.low(s), kind) | narrow(x.high(s), kind) << 32);
    }

    public static void packMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long b = VectorOperands.mmxSource(cpu, i);
        f.setMmx(i.reg(), narrow(f.mmx(i.reg()), i.argument()) | narrow(b, i.argument()) << 32);
    }

    /** The four words (or two doublewords) of {@code chunk} saturated to half their width: 32 bits. */
    private static long narrow(long chunk, int kind) {
        int from = kind == PACK_SIGNED_DOUBLEWORDS ? 32 : 16;
        int to = from / 2;
        long result = 0;
        for (int k = 0; k * from < 64; k++) {
            long value = signed((chunk >>> (k * from)) & ((1L << from) - 1), from);
            long narrowed = kind == PACK_UNSIGNED_WORDS ? Math.max(0, Math.min(0xFF, value)) : saturateSigned(value, to);
            result |= (narrowed & ((1L << to) - 1)) << (k * to);
        }
        return result;
    }

    // ---- shuffles, inserts, extracts ----------------------------------------------------------------

    /** PSHUFD: each destination doubleword is the source doubleword the immediate's two bits pick. */
    public static void shuffleDoublewords(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        int order = (int) i.immediate();
        long low = x.low(s);
        long high = x.high(s);
        x.set(i.reg(), doubleword(low, high, order) | doubleword(low, high, order >> 2) << 32,
                doubleword(low, high, order >> 4) | doubleword(low, high, order >> 6) << 32);
    }

    /** SHUFPS: the low two doublewords from the destination, the high two from the source. */
    public static void shuffleSingles(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        int d = i.reg();
        int order = (int) i.immediate();
        long dl = x.low(d);
        long dh = x.high(d);
        long sl = x.low(s);
        long sh = x.high(s);
        x.set(d, doubleword(dl, dh, order) | doubleword(dl, dh, order >> 2) << 32,
                doubleword(sl, sh, order >> 4) | doubleword(sl, sh, order >> 6) << 32);
    }

    /** SHUFPD: the low quadword from the destination, the high one from the source. */
    public static void shuffleDoubles(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        int d = i.reg();
        long low = (i.immediate() & 1) == 0 ? x.low(d) : x.high(d);
        long high = (i.immediate() & 2) == 0 ? x.low(s) : x.high(s);
        x.set(d, low, high);
    }

    private static long doubleword(long low, long high, int selector) {
        int k = selector & 3;
        return ((k < 2 ? low : high) >>> (32 * (k & 1))) & 0xFFFF_FFFFL;
    }

    /** PSHUFLW (argument 0) and PSHUFHW (1): one half's words shuffled, the other half copied. */
    public static void shuffleWords(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int s = VectorOperands.source(cpu, i);
        long low = x.low(s);
        long high = x.high(s);
        if (i.argument() == 0) {
            x.set(i.reg(), shuffleFourWords(low, (int) i.immediate()), high);
        } else {
            x.set(i.reg(), low, shuffleFourWords(high, (int) i.immediate()));
        }
    }

    /** PSHUFW mm, mm/m64, imm8. */
    public static void shuffleWordsMmx(Processor cpu, Instruction i) {
        cpu.state.x87.setMmx(i.reg(), shuffleFourWords(VectorOperands.mmxSource(cpu, i), (int) i.immediate()));
    }

    private static long shuffleFourWords(long chunk, int order) {
        long result = 0;
        for (int k = 0; k < 4; k++) {
            result |= ((chunk >>> (16 * ((order >> (2 * k)) & 3))) & 0xFFFF) << (16 * k);
        }
        return result;
    }

    /** PINSRW xmm, r32/m16, imm8. */
    public static void insertWord(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        long word = VectorOperands.integerSource(cpu, i, 2) & 0xFFFF;
        int k = (int) i.immediate() & 7;
        int index = 2 * i.reg() + (k >> 2);
        int shift = 16 * (k & 3);
        x.xmm[index] = (x.xmm[index] & ~(0xFFFFL << shift)) | word << shift;
    }

    public static void insertWordMmx(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long word = VectorOperands.integerSource(cpu, i, 2) & 0xFFFF;
        int shift = 16 * ((int) i.immediate() & 3);
        f.setMmx(i.reg(), (f.mmx(i.reg()) & ~(0xFFFFL << shift)) | word << shift);
    }

    /** PEXTRW r32, xmm, imm8: the word zero-extended into the general register. */
    public static void extractWord(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        int k = (int) i.immediate() & 7;
        long chunk = k < 4 ? x.low(i.rm()) : x.high(i.rm());
        cpu.writeReg(i, (chunk >>> (16 * (k & 3))) & 0xFFFF);
    }

    public static void extractWordMmx(Processor cpu, Instruction i) {
        cpu.writeReg(i, (cpu.state.x87.mmx(i.rm()) >>> (16 * ((int) i.immediate() & 3))) & 0xFFFF);
    }

    /** PMOVMSKB: the top bit of each byte, gathered into the general register. */
    public static void byteMask(Processor cpu, Instruction i) {
        XmmRegisters x = cpu.state.sse;
        cpu.writeReg(i, Long.compress(x.low(i.rm()), HIGH_BITS) | Long.compress(x.high(i.rm()), HIGH_BITS) << 8);
    }

    public static void byteMaskMmx(Processor cpu, Instruction i) {
        cpu.writeReg(i, Long.compress(cpu.state.x87.mmx(i.rm()), HIGH_BITS));
    }

    /** EMMS: leaves the MMX state, every x87 register empty again. */
    public static void emptyMmxState(Processor cpu, Instruction i) {
        cpu.state.x87.valid = 0;
    }
}
