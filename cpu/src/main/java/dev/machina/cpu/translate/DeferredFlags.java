package dev.machina.cpu.translate;

import dev.machina.cpu.execute.Arithmetic;
import dev.machina.cpu.execute.Shifts;
import dev.machina.cpu.state.Flags;

import java.lang.classfile.CodeBuilder;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;

import static dev.machina.cpu.translate.Emitter.FLAGS;
import static dev.machina.cpu.translate.Emitter.FLAGS_TYPE;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * The arithmetic flags of translated code, kept as the inputs they derive from until something
 * reads them: the flags of the latest flag-setting instruction stay in locals (in a {@link Form}
 * the translator knows while it writes the code), and only a condition, a block's end or a way out
 * of the region turns them into flags, through the same functions the interpreter uses
 * ({@link Flags}, {@link Shifts}, {@link Arithmetic}). An instruction whose flags the next one
 * overwrites thus costs only a few local stores, which the JIT drops: the flag liveness of
 * translated code is the JIT's own dead-code elimination.
 */
final class DeferredFlags {
    // Local slots (see Emitter): the lazy tuple, explicit bits, a shift's, a rotate's and a product's inputs.
    static final int LEFT = 16;
    static final int RIGHT = LEFT + 2;
    static final int RESULT = RIGHT + 2;
    static final int BITS = RESULT + 2;
    static final int SHIFT_VALUE = BITS + 2;
    static final int SHIFT_RESULT = SHIFT_VALUE + 2;
    static final int ROTATE_VALUE = SHIFT_RESULT + 2;
    static final int ROTATE_RESULT = ROTATE_VALUE + 2;
    static final int FACTOR_A = ROTATE_RESULT + 2;
    static final int FACTOR_B = FACTOR_A + 2;
    static final int CARRY = FACTOR_B + 2;
    static final int SHIFT_COUNT = CARRY + 1;
    static final int ROTATE_COUNT = SHIFT_COUNT + 1;
    /** The first slot after these. */
    static final int END = ROTATE_COUNT + 1;

    private static final ClassDesc SHIFTS = Emitter.desc(Shifts.class);
    private static final ClassDesc ARITHMETIC = Emitter.desc(Arithmetic.class);
    private static final MethodTypeDesc RECORD_MASKED = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_long, CD_long, CD_long, CD_boolean);
    private static final MethodTypeDesc CONDITION = MethodTypeDesc.of(CD_boolean, CD_int, CD_int, CD_int, CD_long, CD_long, CD_long, CD_boolean, CD_long);
    private static final MethodTypeDesc CARRY_OF = MethodTypeDesc.of(CD_boolean, CD_int, CD_long, CD_long, CD_long, CD_boolean, CD_long);
    private static final MethodTypeDesc ARITHMETIC_OF = MethodTypeDesc.of(CD_long, CD_int, CD_int, CD_long, CD_long, CD_long, CD_boolean, CD_long);
    private static final MethodTypeDesc SHIFT_FLAGS = MethodTypeDesc.of(CD_long, CD_int, CD_long, CD_int, CD_long);
    private static final MethodTypeDesc PRODUCT_FLAGS = MethodTypeDesc.of(CD_long, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc SET_ALL = MethodTypeDesc.of(CD_void, CD_long);

    /** How the pending flags derive from the locals; null where the core's {@link Flags} hold them. */
    sealed interface Form permits Lazy, Explicit, Shifted, Product, Rotated {
    }

    /** An ADD, ADC, SUB, SBB, LOGIC, INC or DEC of {@code size} bytes: {@link Flags}' own lazy tuple. */
    record Lazy(Flags.Kind kind, int size) implements Form {
    }

    /** All six flags as RFLAGS bits in {@link #BITS}. */
    record Explicit() implements Form {
    }

    /** SHL, SHR or SAR ({@code name} as {@link Shifts} spells it) of {@code size} bytes by a nonzero count. */
    record Shifted(String name, int size) implements Form {
    }

    /** The two- and three-operand IMUL of {@code size} bytes. */
    record Product(int size) implements Form {
    }

    /** ROL or ROR by a nonzero count: its CF and OF over the flags of {@code base} (null: the core's), never itself a rotate. */
    record Rotated(String name, int size, Form base) implements Form {
    }

    private final CodeBuilder code;
    private Form form;

    DeferredFlags(CodeBuilder code) {
        this.code = code;
    }

    /** The form of the flags pending now (null: none). */
    Form form() {
        return form;
    }

    /** Assigns every local (the prologue), so that each path has them. */
    void clear() {
        for (int slot = LEFT; slot < CARRY; slot += 2) {
            code.lconst_0().lstore(slot);
        }
        code.iconst_0().istore(CARRY).iconst_0().istore(SHIFT_COUNT).iconst_0().istore(ROTATE_COUNT);
    }

    /** A block starts with the flags in the core. */
    void startBlock() {
        form = null;
    }

    // ---- what sets flags ------------------------------------------------------------------------

    /** {@code kind} of the values in locals {@code a}, {@code b} and {@code r}, with the carry {@code carry} pushes as an int. */
    void recordLazy(Flags.Kind kind, int size, int a, int b, int r, Runnable carry) {
        long mask = Emitter.mask(size);
        carry.run();
        code.istore(CARRY);
        code.lload(a).loadConstant(mask).land().lstore(LEFT);
        code.lload(b).loadConstant(mask).land().lstore(RIGHT);
        code.lload(r).loadConstant(mask).land().lstore(RESULT);
        form = new Lazy(kind, size);
    }

    /** A shift ({@code name}: shl, shr, sar) of local {@code value} by local {@code count} (nonzero) to local {@code result}. */
    void recordShift(String name, int size, int value, int count, int result) {
        code.lload(value).lstore(SHIFT_VALUE).iload(count).istore(SHIFT_COUNT).lload(result).lstore(SHIFT_RESULT);
        form = new Shifted(name, size);
    }

    /** A rotate ({@code name}: rol, ror) likewise; it keeps the other flags of whatever was pending. */
    void recordRotate(String name, int size, int value, int count, int result) {
        code.lload(value).lstore(ROTATE_VALUE).iload(count).istore(ROTATE_COUNT).lload(result).lstore(ROTATE_RESULT);
        form = new Rotated(name, size, form instanceof Rotated rotated ? rotated.base() : form);
    }

    /** The product of locals {@code a} and {@code b}. */
    void recordProduct(int size, int a, int b) {
        code.lload(a).lstore(FACTOR_A).lload(b).lstore(FACTOR_B);
        form = new Product(size);
    }

    /** The flags as the RFLAGS bits on the stack (a long). */
    void recordExplicit() {
        code.lstore(BITS);
        form = new Explicit();
    }

    // ---- what reads them ------------------------------------------------------------------------

    /** Pushes condition code {@code cc} as an int. */
    void condition(int cc) {
        switch (form) {
            case null -> code.aload(FLAGS).loadConstant(cc).invokevirtual(FLAGS_TYPE, "condition", MethodTypeDesc.of(CD_boolean, CD_int));
            case Lazy lazy -> {
                code.loadConstant(cc);
                pushTuple(lazy);
                code.invokestatic(FLAGS_TYPE, "condition", CONDITION);
            }
            default -> {
                code.loadConstant(cc).loadConstant(Flags.Kind.NONE.ordinal()).iconst_0().lconst_0().lconst_0().lconst_0().iconst_0();
                pushBits(form);
                code.invokestatic(FLAGS_TYPE, "condition", CONDITION);
            }
        }
    }

    /** Pushes CF as an int. */
    void carry() {
        switch (form) {
            case null -> code.aload(FLAGS).invokevirtual(FLAGS_TYPE, "carry", MethodTypeDesc.of(CD_boolean));
            case Lazy lazy -> code.loadConstant(lazy.kind().ordinal()).lload(LEFT).lload(RIGHT).lload(RESULT).iload(CARRY).lconst_0()
                    .invokestatic(FLAGS_TYPE, "carry", CARRY_OF);
            default -> {
                pushBits(form);
                code.loadConstant(Flags.CF).land().l2i();
            }
        }
    }

    /** Pushes the six arithmetic flags as RFLAGS bits. */
    void pushBits() {
        pushBits(form);
    }

    private void pushBits(Form of) {
        switch (of) {
            case null -> code.aload(FLAGS).invokevirtual(FLAGS_TYPE, "get", MethodTypeDesc.of(CD_long)).loadConstant(Flags.ARITHMETIC).land();
            case Lazy lazy -> {
                pushTuple(lazy);
                code.invokestatic(FLAGS_TYPE, "arithmetic", ARITHMETIC_OF);
            }
            case Explicit explicit -> code.lload(BITS);
            case Shifted shifted -> code.loadConstant(shifted.size()).lload(SHIFT_VALUE).iload(SHIFT_COUNT).lload(SHIFT_RESULT)
                    .invokestatic(SHIFTS, shifted.name() + "Flags", SHIFT_FLAGS);
            case Product product -> code.loadConstant(product.size()).lload(FACTOR_A).lload(FACTOR_B)
                    .invokestatic(ARITHMETIC, "truncatedProductFlags", PRODUCT_FLAGS);
            case Rotated rotated -> {
                pushBits(rotated.base());
                code.loadConstant(~Shifts.ROTATED).land();
                code.loadConstant(rotated.size()).lload(ROTATE_VALUE).iload(ROTATE_COUNT).lload(ROTATE_RESULT)
                        .invokestatic(SHIFTS, rotated.name() + "Flags", SHIFT_FLAGS).lor();
            }
        }
    }

    private void pushTuple(Lazy lazy) {
        code.loadConstant(lazy.kind().ordinal()).loadConstant(lazy.size() * 8 - 1).lload(LEFT).lload(RIGHT).lload(RESULT).iload(CARRY).lconst_0();
    }

    // ---- handing them over ----------------------------------------------------------------------

    /** Hands the pending flags to the core's {@link Flags} (at a block's end); nothing is pending after. */
    void materialize() {
        emitMaterialize(form);
        form = null;
    }

    /** Emits the hand-over of flags pending as {@code of}, for a path that leaves the region. */
    void emitMaterialize(Form of) {
        switch (of) {
            case null -> {
            }
            case Lazy lazy -> code.aload(FLAGS).loadConstant(lazy.kind().ordinal()).loadConstant(lazy.size() * 8 - 1)
                    .lload(LEFT).lload(RIGHT).lload(RESULT).iload(CARRY).invokevirtual(FLAGS_TYPE, "recordMasked", RECORD_MASKED);
            default -> {
                code.aload(FLAGS);
                pushBits(of);
                code.invokevirtual(FLAGS_TYPE, "setArithmetic", SET_ALL);
            }
        }
    }
}
