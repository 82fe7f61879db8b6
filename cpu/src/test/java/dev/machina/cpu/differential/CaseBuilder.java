package dev.machina.cpu.differential;

import dev.machina.cpu.differential.Operand.AbsoluteOffset;
import dev.machina.cpu.differential.Operand.Address;
import dev.machina.cpu.differential.Operand.Gpr;
import dev.machina.cpu.differential.Operand.Indexed;
import dev.machina.cpu.differential.Operand.Memory;
import dev.machina.cpu.differential.Operand.RipRelative;
import dev.machina.cpu.differential.Operand.Stack;
import dev.machina.cpu.differential.Operand.Xmm;

import java.util.random.RandomGenerator;

/**
 * One test case while it is drawn: the random initial state and the operands of one instance of
 * a {@link Template}. The constructor does the drawing in an order that keeps addresses valid:
 * registers, flags and buffer at random; the register operand; the r/m operand, whose address
 * registers are then solved to reach a chosen place in the buffer; the immediate; and last the
 * template's {@link Behaviour#prepare}, which may only touch registers it reserved from addressing.
 *
 * <p>State writes here set up an initial state, so they merge at the operand size: a 32-bit
 * operand's upper half keeps its random bits (unlike an instruction's 32-bit write).
 */
final class CaseBuilder {
    private static final int RSP = MachineState.RSP;
    private static final int[] SEGMENT_PREFIXES = {0x26, 0x2E, 0x36, 0x3E};

    final RandomGenerator random;
    final Template template;
    final Layout layout;
    final int size;
    /** 8, or 4 under a 67 prefix. */
    final int addressSize;
    /** REX.W: the 64-bit operand size, which a stack instruction has without it too. */
    final boolean rexW;
    /** No REX prefix: registers 0..7 only, and byte registers 4..7 are AH, CH, DH, BH. */
    final boolean legacy;
    final long[] registers = new long[MachineState.REGISTERS];
    final byte[] memory;
    /** The x87 and SSE state as an FXSAVE image. */
    final byte[] fpu = new byte[FpuImage.SIZE];
    long flags;
    /** A {@link Gpr}, an {@link Xmm} or an x87 {@link Stack} register. */
    Operand reg;
    Operand rm;
    long immediate;
    boolean lock;
    /** 0, or the F2/F3 prefix of a string instruction. */
    int repeat;
    /** 0, or a segment override, which 64-bit mode ignores for ES, CS, SS and DS. */
    final int segment;
    /** A 66 prefix that changes nothing: on a byte operation or beside REX.W. */
    final boolean ignoredOperandPrefix;
    /** Redundant prefixes to add (no-op segment overrides, repeats of a 66 or 67 already there), up to the 15-byte limit. */
    int padding;

    /**
     * Where the host runs the instruction and keeps the buffer (the Java CPU mirrors it), and how
     * many bytes of other code follow the instruction (what a branch under test jumps over).
     */
    record Layout(long instructionAddress, long dataAddress, int dataSize, int following) {
        Layout(long instructionAddress, long dataAddress, int dataSize) {
            this(instructionAddress, dataAddress, dataSize, 0);
        }

        /** The layout for an instruction that comes {@code bytes} after the first. */
        Layout after(int bytes) {
            return new Layout(instructionAddress + bytes, dataAddress, dataSize, following);
        }

        Layout followedBy(int bytes) {
            return new Layout(instructionAddress, dataAddress, dataSize, bytes);
        }
    }

    CaseBuilder(Template template, Layout layout, RandomGenerator random) {
        this.random = random;
        this.template = template;
        this.layout = layout;
        this.size = pickSize(template.sizes(), random);
        this.rexW = size == 8 && !(template.has(Template.STACK_SIZED) && random.nextBoolean());
        this.legacy = !rexW && random.nextBoolean();
        this.memory = new byte[layout.dataSize()];
        Shape shape = template.shape();
        boolean memoryForm = shape.absoluteOffset()
                || shape.hasModRm() && !template.has(Template.REGISTER_ONLY) && (template.has(Template.MEMORY_ONLY) || random.nextBoolean());
        boolean addresses = memoryForm || shape == Shape.STRING || template.has(Template.ADDRESS_SIZED);
        this.addressSize = addresses && random.nextInt(4) == 0 ? 4 : 8;
        this.segment = addresses && random.nextInt(5) == 0
                ? SEGMENT_PREFIXES[random.nextInt(SEGMENT_PREFIXES.length)] : 0;
        // An SSE opcode's own 66, F2 or F3 must stay the only one of them.
        this.ignoredOperandPrefix = (size == 1 || rexW && template.memoryUse() != Template.MemoryUse.PAIR)
                && template.mandatoryPrefix() == 0 && random.nextInt(20) == 0;
        randomizeState();
        lock = memoryForm && template.has(Template.LOCKABLE) && random.nextBoolean();
        if (shape.hasReg()) {
            if (template.has(Template.XMM_REG)) {
                reg = new Xmm(random.nextInt(legacy ? 8 : 16));
            } else if (template.has(Template.X87_STACK)) {
                reg = new Stack(random.nextInt(8));
            } else {
                reg = pickRegister(size, 0);
                write(reg, Values.interesting(random, size));
            }
        }
        if (shape.hasRm()) {
            if (memoryForm) {
                rm = pickMemory();
            } else if (template.has(Template.XMM_RM)) {
                rm = new Xmm(random.nextInt(legacy ? 8 : 16));
            } else {
                rm = pickRegister(rmSize(), 0);
                write(rm, Values.interesting(random, rmSize()));
            }
        }
        immediate = switch (template.immediate()) {
            case NONE -> 0;
            case OFFSET -> ((Memory) rm).target();
            default -> Values.interesting(random, template.immediate().bytes(size, addressSize));
        };
        if (random.nextInt(8) == 0) {
            equalizeOperands();
        }
        template.behaviour().prepare(this);
    }

    /**
     * Fills the SSE and x87 operands with edge values of {@code element} (null: leaves them), and
     * now and then makes them equal, as the constructor does for integer operands.
     */
    void fillOperands(FloatValues.Element element) {
        for (Operand operand : element == null ? new Operand[0] : new Operand[] {reg, rm}) {
            switch (operand) {
                case Xmm x -> FloatValues.fill(random, element, fpu, FpuImage.xmm(x.number()), 16);
                case Memory m when template.memoryUse() == Template.MemoryUse.ACCESS ->
                        FloatValues.fill(random, element, memory, offset(m.target()), m.size());
                case null, default -> {
                }
            }
        }
        if (random.nextInt(8) == 0) {
            equalizeOperands();
        }
    }

    /** Makes the operands equal, an edge (a borrow in of SBB, CMP's zero) random values seldom hit. */
    private void equalizeOperands() {
        Operand first = reg != null ? reg : rm;
        if (first == null || template.memoryUse() == Template.MemoryUse.ADDRESS_ONLY) {
            return;
        }
        if (reg instanceof Stack s) {
            System.arraycopy(fpu, FpuImage.stack(0), fpu, FpuImage.stack(s.number()), 10);
        } else if (reg instanceof Xmm x && rm instanceof Xmm y) {
            System.arraycopy(fpu, FpuImage.xmm(x.number()), fpu, FpuImage.xmm(y.number()), 16);
        } else if (reg instanceof Xmm x && rm instanceof Memory m) {
            System.arraycopy(fpu, FpuImage.xmm(x.number()), memory, offset(m.target()), m.size());
        } else if (reg != null && rm != null) {
            write(rm, read(reg));
        }
        if (template.immediate() != Immediate.NONE && template.immediate() != Immediate.OFFSET) {
            immediate = read(first);
        }
    }

    private static int pickSize(int sizes, RandomGenerator random) {
        while (true) {
            int candidate = 1 << random.nextInt(4);
            if ((sizes & candidate) != 0) {
                return candidate;
            }
        }
    }

    private void randomizeState() {
        for (int r = 0; r < registers.length; r++) {
            registers[r] = random.nextInt(3) == 0 ? Values.interesting(random, 8) : random.nextLong();
        }
        random.nextBytes(memory);
        for (int i = 0; i < 32; i++) {
            int bytes = 1 << random.nextInt(4);
            writeMemory(layout.dataAddress() + random.nextInt(memory.length - bytes + 1), bytes, Values.interesting(random, bytes));
        }
        // IF is set in ring 3 on the host; AC stays clear, or misaligned accesses would fault there.
        flags = 0x2 | MachineState.IF | (random.nextLong() & Behaviour.ARITHMETIC) | (random.nextInt(4) == 0 ? MachineState.DF : 0);
        randomizeFpu();
    }

    /**
     * The x87 and SSE state: every exception masked in FCW and MXCSR (an unmasked one would fault
     * on the host), random precision control (not the reserved 01), rounding, FTZ and DAZ, a few
     * sticky exception flags, a stack of random depth holding edge values and XMM registers of
     * mixed integers, singles and doubles.
     */
    private void randomizeFpu() {
        int precision = new int[] {0, 2, 3, 3}[random.nextInt(4)];
        FpuImage.write(fpu, FpuImage.CONTROL, 2, 0x7F | precision << 8 | random.nextInt(4) << 10);
        int top = random.nextInt(8);
        int sticky = random.nextInt(64) & random.nextInt(64) & random.nextInt(64);
        FpuImage.write(fpu, FpuImage.STATUS, 2, top << 11 | sticky | random.nextInt(1 << 16) & FpuImage.CONDITION_CODES);
        int depth = switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1 -> 8;
            default -> random.nextInt(1, 8);
        };
        int tags = 0;
        for (int i = 0; i < depth; i++) {
            tags |= 1 << ((top + i) & 7);
        }
        FpuImage.write(fpu, FpuImage.TAGS, 1, tags);
        int mxcsr = 0x1F80 | random.nextInt(4) << 13 | (random.nextInt(4) == 0 ? 1 << 15 : 0) | (random.nextInt(4) == 0 ? 1 << 6 : 0)
                | random.nextInt(64) & random.nextInt(64) & random.nextInt(64);
        FpuImage.write(fpu, FpuImage.MXCSR, 4, mxcsr);
        for (int i = 0; i < 8; i++) {
            FloatValues.fill(random, FloatValues.Element.EXTENDED, fpu, FpuImage.stack(i), 10);
        }
        FloatValues.Element[] lanes = {FloatValues.Element.INTEGER, FloatValues.Element.SINGLE, FloatValues.Element.DOUBLE};
        for (int n = 0; n < FpuImage.XMM_REGISTERS; n++) {
            for (int half = 0; half < 2; half++) {
                FloatValues.fill(random, lanes[random.nextInt(lanes.length)], fpu, FpuImage.xmm(n) + 8 * half, 8);
            }
        }
    }

    int rmSize() {
        return template.rmSizeAt(size);
    }

    /** Whether the count of a shift comes from CL. */
    boolean countsByCl() {
        return template.shape() == Shape.RM_CL || template.shape() == Shape.RM_REG_CL;
    }

    /** The raw count operand of a shift: 1, CL or the immediate. */
    long count() {
        return switch (template.shape()) {
            case RM_ONE -> 1;
            case RM_CL, RM_REG_CL -> registers[Behaviour.RCX] & 0xFF;
            default -> immediate & 0xFF;
        };
    }

    void setCount(long count) {
        switch (template.shape()) {
            case RM_ONE -> {
            }
            case RM_CL, RM_REG_CL -> write(Gpr.of(Behaviour.RCX, 1), count);
            default -> immediate = count & 0xFF;
        }
    }

    /** Whether string instructions step backwards (DF). */
    boolean backwards() {
        return (flags & MachineState.DF) != 0;
    }

    /** A register for an operand of {@code operandSize} bytes outside {@code excluded} (a mask). */
    Gpr pickRegister(int operandSize, int excluded) {
        while (true) {
            int number = random.nextInt(legacy ? 8 : 16);
            boolean high = legacy && operandSize == 1 && number >= 4;
            Gpr candidate = new Gpr(number, operandSize, high);
            if ((excluded >> candidate.underlying() & 1) == 0) {
                return candidate;
            }
        }
    }

    // ---- memory operands -----------------------------------------------------------------------

    private Memory pickMemory() {
        Template.MemoryUse use = template.memoryUse();
        int bytes = switch (use) {
            case PAIR -> 2 * size;
            case ADDRESS_ONLY -> 1;
            default -> rmSize();
        };
        boolean locked = lock || template.has(Template.IMPLICIT_LOCK);
        // CMPXCHG16B faults unaligned; a locked access may be unaligned, but not split across cache lines.
        boolean aligned = use == Template.MemoryUse.PAIR && size == 8 || locked && random.nextBoolean()
                || bytes == 16 && !template.has(Template.UNALIGNED);
        long target;
        do {
            target = pickTarget(bytes, aligned ? bytes : 1, use == Template.MemoryUse.BIT_STRING);
        } while (locked && (target & 63) + bytes > 64);
        if (template.shape().absoluteOffset()) {
            return new Memory(new AbsoluteOffset(target), target, bytes);
        }
        int excluded = template.behaviour().reserved(this)
                | (use == Template.MemoryUse.BIT_STRING ? 1 << ((Gpr) reg).underlying() : 0);
        Memory operand = new Memory(solve(excluded, target), target, bytes);
        if (use != Template.MemoryUse.ADDRESS_ONLY) {
            writeMemory(target, Math.min(bytes, 8), Values.interesting(random, Math.min(bytes, 8)));
        }
        return operand;
    }

    /** An address in the buffer for {@code bytes} bytes; mid-buffer for what reaches both ways (bit strings, stacks). */
    long pickTarget(int bytes, int alignment, boolean middle) {
        int lowest = middle ? memory.length / 4 : 0;
        int highest = middle ? memory.length * 3 / 4 : memory.length - bytes;
        int offset = random.nextInt(lowest, highest + 1) & -alignment;
        return layout.dataAddress() + offset;
    }

    /** Picks an address form and registers for it, and sets the registers so that it reaches {@code target}. */
    private Address solve(int excluded, long target) {
        int form = random.nextInt(20);
        if (form < 3) {
            return new RipRelative(target);
        }
        if (form < 5) {
            return new Indexed(-1, -1, random.nextInt(4), 4, (int) target, true);
        }
        long addressMask = Values.mask(addressSize);
        if (form < 7) {
            int index = pickAddressRegister(excluded | 1 << RSP);
            int scale = random.nextInt(4);
            long indexValue;
            long displacement;
            do {
                indexValue = addressSize == 4 ? random.nextLong() : random.nextLong(-(1 << 16), (target >> scale) + 1);
                displacement = (target - (indexValue << scale)) & addressMask;
            } while (addressSize == 8 && displacement != (int) displacement);
            write(Gpr.of(index, addressSize), indexValue);
            return new Indexed(-1, index, scale, 4, (int) displacement, true);
        }
        int base = pickAddressRegister(excluded);
        int index = form < 13 ? -1 : pickAddressRegister(excluded | 1 << RSP); // SIB index 100 means none
        int scale = random.nextInt(4);
        int displacementBytes = new int[] {0, 1, 4}[random.nextInt(3)];
        if ((base & 7) == 5 && displacementBytes == 0 || base == index && scale == 0 && displacementBytes == 0) {
            // mod 00 with base 101 means no base; base == index with scale 1 needs an even remainder.
            displacementBytes = 1;
        }
        int displacement = switch (displacementBytes) {
            case 0 -> 0;
            case 1 -> (byte) random.nextInt();
            default -> random.nextBoolean() ? random.nextInt(-4096, 4096) : random.nextInt();
        };
        boolean sib = index != -1 || (base & 7) == RSP || random.nextInt(4) == 0;
        if (base == index) {
            long remainder = target - displacement;
            long multiplier = 1 + (1L << scale);
            long value;
            if (scale == 0) {
                if ((remainder & 1) != 0) {
                    displacement ^= 1;
                    remainder = target - displacement;
                }
                value = (remainder & addressMask) >>> 1;
            } else {
                value = remainder * inverse(multiplier);
            }
            write(Gpr.of(base, addressSize), value);
        } else {
            long indexPart = index == -1 ? 0 : registers[index] << scale;
            write(Gpr.of(base, addressSize), target - displacement - indexPart);
        }
        return new Indexed(base, index, scale, displacementBytes, displacement, sib);
    }

    private int pickAddressRegister(int excluded) {
        while (true) {
            int number = random.nextInt(legacy ? 8 : 16);
            if ((excluded >> number & 1) == 0) {
                return number;
            }
        }
    }

    /** The inverse of odd {@code value} modulo 2^64 (Newton's iteration doubles the correct bits each step). */
    private static long inverse(long value) {
        long x = value;
        for (int i = 0; i < 5; i++) {
            x *= 2 - value * x;
        }
        return x;
    }

    // ---- reading and writing the initial state ---------------------------------------------------------

    /** Tags ST(0) to ST({@code depth} - 1) valid, keeping what is valid beyond them. */
    void fillStack(int depth) {
        int top = (int) FpuImage.read(fpu, FpuImage.STATUS, 2) >> 11 & 7;
        int tags = (int) FpuImage.read(fpu, FpuImage.TAGS, 1);
        for (int i = 0; i < depth; i++) {
            tags |= 1 << ((top + i) & 7);
        }
        FpuImage.write(fpu, FpuImage.TAGS, 1, tags);
    }

    /** The operand's low eight bytes at most (an XMM register's low quadword, an ST register's significand). */
    long read(Operand operand) {
        return switch (operand) {
            case Gpr g -> (registers[g.underlying()] >>> g.shift()) & Values.mask(g.size());
            case Xmm x -> FpuImage.read(fpu, FpuImage.xmm(x.number()), 8);
            case Stack s -> FpuImage.read(fpu, FpuImage.stack(s.number()), 8);
            case Memory m -> readMemory(m.target(), Math.min(m.size(), 8));
        };
    }

    void write(Operand operand, long value) {
        switch (operand) {
            case Gpr g -> {
                long mask = Values.mask(g.size()) << g.shift();
                registers[g.underlying()] = (registers[g.underlying()] & ~mask) | ((value << g.shift()) & mask);
            }
            case Xmm x -> FpuImage.write(fpu, FpuImage.xmm(x.number()), 8, value);
            case Stack s -> FpuImage.write(fpu, FpuImage.stack(s.number()), 8, value);
            case Memory m -> writeMemory(m.target(), Math.min(m.size(), 8), value);
        }
    }

    private int offset(long address) {
        return (int) (address - layout.dataAddress());
    }

    long readMemory(long address, int bytes) {
        int offset = (int) (address - layout.dataAddress());
        long value = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            value = value << 8 | (memory[offset + i] & 0xFF);
        }
        return value;
    }

    void writeMemory(long address, int bytes, long value) {
        int offset = (int) (address - layout.dataAddress());
        for (int i = 0; i < bytes; i++) {
            memory[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    MachineState initialState() {
        return new MachineState(registers.clone(), flags, memory.clone(), fpu.clone());
    }
}
