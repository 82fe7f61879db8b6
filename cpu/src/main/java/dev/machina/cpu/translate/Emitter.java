package dev.machina.cpu.translate;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.cpu.mmu.PhysicalBus;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.SegmentRegister;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * The machine as translated code sees it: the guest registers in the core's register array,
 * memory through an inline look-up of the core's TLB, and the arithmetic flags deferred in locals
 * ({@link DeferredFlags}); a TLB miss has the core walk the page tables and the region goes on.
 * Whatever a written-out instruction cannot do inline (a page fault, a page that is not RAM or
 * holds code, an access that crosses a page) leaves the region before the instruction, and the
 * interpreter takes it from there; an instruction that is not written out
 * the interpreter runs in place, called from the region. The registers live in memory rather than
 * in locals so that no value stays live across the region: leaving is a jump, calling the
 * interpreter needs no hand-over, and the JIT's register allocator has little more than one
 * instruction's temporaries to place. {@link InstructionWriter} renders instructions with these pieces and
 * {@link RegionCompiler} lays out the method around them.
 *
 * <p>An instruction writes registers, flags and memory only after its last memory access that
 * may miss, so leaving before it leaves the state as it was.
 */
final class Emitter {
    static final ClassDesc PROCESSOR = desc(Processor.class);
    static final ClassDesc CPU_STATE = desc(CpuState.class);
    static final ClassDesc FLAGS_TYPE = desc(Flags.class);
    static final ClassDesc MMU = desc(Mmu.class);
    static final ClassDesc BUS = desc(PhysicalBus.class);
    static final ClassDesc CODE_CACHE = desc(CodeCache.class);
    static final ClassDesc SEGMENT = desc(SegmentRegister.class);
    static final ClassDesc MEMORY = desc(MemorySegment.class);
    static final ClassDesc LONGS = CD_long.arrayType();

    // Local variable slots of the translated method run(Processor cpu, int budget).
    static final int CPU = 1;
    static final int BUDGET = 2;
    static final int STATE = 3;
    static final int REGISTERS = 4;
    static final int FLAGS = 5;
    static final int READ_TAGS = 6;
    static final int WRITE_TAGS = 7;
    static final int HOST_PAGES = 8;
    static final int RAM = 9;
    static final int CODE_BITS = 10;
    /** Instructions retired in this run (each block adds its length as it starts). */
    static final int EXECUTED = 11;
    /** The linear address of the page the region lies in. */
    static final int PAGE_BASE = 12;
    /** Where control goes when the run ends. */
    static final int NEXT = 14;
    // Slots 16 and on hold the pending flags' inputs (DeferredFlags).
    /** Temporaries: a linear address, its host offset, operands and a result, a value, a count, a TLB index. */
    static final int ADDRESS = DeferredFlags.END;
    static final int HOST = ADDRESS + 2;
    static final int A = HOST + 2;
    static final int B = A + 2;
    static final int R = B + 2;
    static final int VALUE = R + 2;
    static final int COUNT = VALUE + 2;
    static final int INDEX = COUNT + 1;
    static final int OBJECT = INDEX + 1;

    private static final MethodTypeDesc LOAD = MethodTypeDesc.of(CD_long, MEMORY, CD_long);
    private static final MethodTypeDesc STORE = MethodTypeDesc.of(CD_void, MEMORY, CD_long, CD_long);

    private static final ClassDesc INSTRUCTION = desc(Instruction.class);
    private static final MethodTypeDesc HOST_FOR_REGION = MethodTypeDesc.of(CD_long, CD_long, CD_int, CD_int, CD_boolean);
    private static final MethodTypeDesc INTERPRET = MethodTypeDesc.of(CD_int, INSTRUCTION, CD_long);

    final CodeBuilder code;
    final DeferredFlags flags;
    private final boolean user;
    /** The hidden class's class data: the instructions the region runs through the interpreter. */
    private final List<Instruction> interpreted;
    /** Where every run ends: RIP to {@link #NEXT}, the instructions counted. */
    final Label exit;

    Emitter(CodeBuilder code, boolean user, List<Instruction> interpreted) {
        this.code = code;
        this.flags = new DeferredFlags(code);
        this.user = user;
        this.interpreted = interpreted;
        this.exit = code.newLabel();
    }

    static ClassDesc desc(Class<?> type) {
        return ClassDesc.of(type.getName());
    }

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    // ---- registers ------------------------------------------------------------------------------

    /** Pushes register {@code r} (16..19: AH..BH) as {@code size} bytes, zero-extended. */
    void loadRegister(int r, int size) {
        int number = r >= CpuState.AH ? r - CpuState.AH : r;
        code.aload(REGISTERS).loadConstant(number).laload();
        if (r >= CpuState.AH) {
            code.bipush(8).lushr();
        }
        if (size != 8) {
            code.loadConstant(mask(size)).land();
        }
    }

    /** Pops a value into register {@code r} as a write of {@code size} bytes: narrower writes merge, 32-bit ones zero-extend. */
    void storeRegister(int r, int size) {
        int number = r >= CpuState.AH ? r - CpuState.AH : r;
        code.lstore(VALUE).aload(REGISTERS).loadConstant(number);
        switch (size) {
            case 8 -> code.lload(VALUE);
            case 4 -> code.lload(VALUE).loadConstant(0xFFFF_FFFFL).land();
            default -> {
                long field = r >= CpuState.AH ? 0xFF00L : mask(size);
                code.lload(VALUE).loadConstant(mask(size)).land();
                if (r >= CpuState.AH) {
                    code.bipush(8).lshl();
                }
                code.aload(REGISTERS).loadConstant(number).laload().loadConstant(~field).land().lor();
            }
        }
        code.lastore();
    }

    // ---- addresses --------------------------------------------------------------------------------

    /** Pushes the instruction's memory offset (no segment base), wrapped to its address size; {@code next} is the offset in the page after it. */
    void effectiveAddress(Instruction i, int next) {
        boolean pushed = false;
        long displacement = i.displacement();
        if (i.base() >= 0) {
            loadRegister(i.base(), 8);
            pushed = true;
        } else if (i.base() == Instruction.RIP_BASE) {
            code.lload(PAGE_BASE);
            displacement += next;
            pushed = true;
        }
        if (i.index() >= 0) {
            loadRegister(i.index(), 8);
            if (i.scale() != 0) {
                code.loadConstant(i.scale()).lshl();
            }
            if (pushed) {
                code.ladd();
            }
            pushed = true;
        }
        if (!pushed) {
            code.loadConstant(displacement);
        } else if (displacement != 0) {
            code.loadConstant(displacement).ladd();
        }
        if (i.addressSize() == 4) {
            code.loadConstant(0xFFFF_FFFFL).land();
        }
    }

    /** Computes the instruction's linear memory address into {@link #ADDRESS} (in 64-bit mode only FS and GS add a base). */
    void linearAddress(Instruction i, int next) {
        effectiveAddress(i, next);
        if (i.segment() >= CpuState.FS) {
            code.aload(STATE).getfield(CPU_STATE, "segments", SEGMENT.arrayType()).loadConstant(i.segment()).aaload()
                    .getfield(SEGMENT, "base", CD_long).ladd();
        }
        code.lstore(ADDRESS);
    }

    // ---- memory -----------------------------------------------------------------------------------

    /**
     * Looks {@link #ADDRESS} up in the TLB's {@code tags} as the {@link Mmu} does first, leaving
     * the host offset of the bytes in {@link #HOST}. The entry of the first byte's page is
     * compared with the tag of the last byte's: one comparison catches a miss and an access that
     * crosses the page, and a page that is not RAM never matches. On a miss the core walks the
     * page tables and fills the TLB ({@link Processor#hostForRegion}), as the interpreter would,
     * and the region goes on: after a CR3 write flushes the TLB, which a guest switching between
     * processes does thousands of times a second, every page a loop touches misses once, and
     * leaving for the interpreter there would run the rest of the block interpreted. Only where
     * the access cannot be made inline (a fault, a page that is not RAM, an access across pages,
     * a store into code) does it jump to {@code miss}.
     */
    private void lookUp(int tags, int access, int size, Label miss) {
        Label slow = code.newLabel();
        Label found = code.newLabel();
        code.lload(ADDRESS).bipush(12).lushr().l2i().loadConstant(Mmu.ENTRIES - 1).iand().istore(INDEX);
        code.aload(tags).iload(INDEX).laload().lload(ADDRESS);
        if (size > 1) {
            code.loadConstant((long) size - 1).ladd();
        }
        code.bipush(12).lushr().iconst_1().lshl();
        if (user) {
            code.lconst_1().lor();
        }
        code.lcmp().ifne(slow);
        code.aload(HOST_PAGES).iload(INDEX).laload().lload(ADDRESS).loadConstant(PhysicalBus.PAGE_MASK).land().ladd().lstore(HOST);
        if (access == Mmu.WRITE) {
            code.aload(CODE_BITS).lload(HOST).bipush(18).lushr().l2i().laload()
                    .lconst_1().lload(HOST).bipush(12).lushr().l2i().lshl().land().lconst_0().lcmp().ifne(miss);
        }
        code.goto_(found);
        code.labelBinding(slow);
        code.aload(CPU).lload(ADDRESS).loadConstant(size).loadConstant(access).loadConstant(user ? 1 : 0)
                .invokevirtual(PROCESSOR, "hostForRegion", HOST_FOR_REGION);
        code.dup2().lstore(HOST).lconst_0().lcmp().iflt(miss);
        code.labelBinding(found);
    }

    /** Pushes the {@code size} bytes at the linear address in {@link #ADDRESS}, zero-extended, or goes to {@code miss}. */
    void load(int size, Label miss) {
        lookUp(READ_TAGS, Mmu.READ, size, miss);
        code.aload(RAM).lload(HOST).invokestatic(BUS, "load" + size * 8, LOAD);
    }

    /**
     * Looks up a store of {@code size} bytes at {@link #ADDRESS}, or goes to {@code miss}, which
     * is also where a store into a page that holds code goes: the interpreter makes that store
     * and drops the page's decodings and regions. {@link #store} then makes it.
     */
    void prepareStore(int size, Label miss) {
        lookUp(WRITE_TAGS, Mmu.WRITE, size, miss);
    }

    /** Stores local {@code value} as {@code size} bytes where {@link #prepareStore} looked. */
    void store(int size, int value) {
        code.aload(RAM).lload(HOST).lload(value).invokestatic(BUS, "store" + size * 8, STORE);
    }

    // ---- the interpreter, in place ----------------------------------------------------------------

    /**
     * Runs {@code i}, at page offset {@code offset} with {@code after} instructions after it in
     * its block, through the interpreter ({@link Processor#interpretInPlace}), the flags handed to
     * the core first; the region goes on unless the interpreter says to leave, after the
     * instruction or (it faulted) before it.
     */
    void interpretInPlace(Instruction i, int offset, int after) {
        flags.materialize();
        interpreted.add(i);
        Label goOn = code.newLabel();
        code.aload(CPU)
                .ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, INSTRUCTION,
                        interpreted.size() - 1))
                .lload(PAGE_BASE).loadConstant((long) offset).ladd()
                .invokevirtual(PROCESSOR, "interpretInPlace", INTERPRET);
        code.dup().istore(COUNT).ifeq(goOn);
        // Leaving after it skips the rest of the block; leaving before it (COUNT is one more) skips it too.
        code.iload(EXECUTED).iload(COUNT).isub().loadConstant(Processor.LEAVE_AFTER - after).iadd().istore(EXECUTED);
        code.aload(STATE).getfield(CPU_STATE, "rip", CD_long).lstore(NEXT).goto_(exit);
        code.labelBinding(goOn);
    }

    // ---- leaving ----------------------------------------------------------------------------------

    /**
     * Leaves the region for page offset {@code offset} (may lie outside the page), the last
     * {@code skipped} instructions of the block not having run, with the flags pending now.
     */
    void leaveTo(long offset, int skipped) {
        leaveTo(offset, skipped, flags.form());
    }

    /** Leaves for page offset {@code offset} with the flags pending as {@code pending} (as they were before an instruction that missed). */
    void leaveTo(long offset, int skipped, DeferredFlags.Form pending) {
        code.lload(PAGE_BASE).loadConstant(offset).ladd().lstore(NEXT);
        leave(skipped, pending);
    }

    /** Leaves the region for the address on the stack. */
    void leaveToAddress(int skipped) {
        code.lstore(NEXT);
        leave(skipped, flags.form());
    }

    private void leave(int skipped, DeferredFlags.Form pending) {
        flags.emitMaterialize(pending);
        if (skipped != 0) {
            code.iinc(EXECUTED, -skipped);
        }
        code.goto_(exit);
    }
}
