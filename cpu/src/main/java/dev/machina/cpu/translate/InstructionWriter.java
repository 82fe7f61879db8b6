package dev.machina.cpu.translate;

import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.decode.Operand;
import dev.machina.cpu.decode.Translation;
import dev.machina.cpu.execute.Arithmetic;
import dev.machina.cpu.execute.Shifts;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.MethodTypeDesc;

import static dev.machina.cpu.translate.Emitter.A;
import static dev.machina.cpu.translate.Emitter.ADDRESS;
import static dev.machina.cpu.translate.Emitter.B;
import static dev.machina.cpu.translate.Emitter.COUNT;
import static dev.machina.cpu.translate.Emitter.PAGE_BASE;
import static dev.machina.cpu.translate.Emitter.R;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;

/**
 * Renders one instruction into translated code: the instructions the opcode map tags with a
 * {@link Translation}, in their common 64-bit forms, are written out with their values in
 * locals; any other instruction the region calls the interpreter for, in place, unless it ends
 * a block (it changes what the code after it means, or control leaves), and then the region
 * ends before it.
 *
 * <p>The rendered semantics mirror the family methods in {@code execute/} and compute through the
 * same functions where there is more to them than an operator (every flag, the shifts, the
 * products); the differential and random-code tests run every case through both.
 */
final class InstructionWriter {
    private static final MethodTypeDesc RESULT_OF = MethodTypeDesc.of(CD_long, CD_int, CD_long, CD_int);
    private static final MethodTypeDesc PRODUCT = MethodTypeDesc.of(CD_long, CD_int, CD_long, CD_long);

    private final Emitter emit;
    private final CodeBuilder code;
    /** Where the instruction being written leaves the region before itself (created with its first memory access). */
    private Label miss;

    InstructionWriter(Emitter emit) {
        this.emit = emit;
        this.code = emit.code;
    }

    /** Whether a region takes {@code i} in: it is written out, or run by the interpreter in place. */
    static boolean translates(Instruction i) {
        return renders(i) || runsInPlace(i);
    }

    /**
     * Whether a region runs {@code i} through the interpreter: any 64-bit instruction not written
     * out after which the region's assumptions hold (privilege, mode, paging, interrupt shadow,
     * no debug traps) and control goes on to the next instruction.
     */
    static boolean runsInPlace(Instruction i) {
        return i.mode() == 64 && !i.endsBlock() && !renders(i) && switch (i.translation()) {
            case JMP, JCC, CALL, CALL_INDIRECT, JMP_INDIRECT, RET, LOOP, LOOPE, LOOPNE, JRCXZ -> false;
            default -> true;
        };
    }

    /** Whether {@code i} is written out. */
    static boolean renders(Instruction i) {
        if (i.mode() != 64 || i.checks() != 0) {
            return false;
        }
        if (i.has(Instruction.LOCK) && (i.memory() || i.translation() != Translation.XCHG)) {
            return false; // the core makes LOCKed accesses atomic; XCHG of two registers is only implicitly "locked"
        }
        return switch (i.translation()) {
            case NONE -> false;
            case JMP, JCC, CALL, CALL_INDIRECT, JMP_INDIRECT, RET, LEAVE, LOOP, LOOPE, LOOPNE, JRCXZ -> i.operandSize() == 8;
            case PUSH -> i.operandSize() == 8 || i.operandSize() == 2;
            case POP -> !i.memory() && (i.operandSize() == 8 || i.operandSize() == 2);
            case SHL, SHR, SAR, ROL, ROR -> i.source() == Operand.CL || (i.immediate() & countMask(i)) != 0;
            default -> true;
        };
    }

    /** Whether the rendered {@code i} leaves the region by itself (calls, returns, indirect jumps). */
    static boolean leavesItself(Instruction i) {
        return renders(i) && switch (i.translation()) {
            case CALL, CALL_INDIRECT, JMP_INDIRECT, RET -> true;
            default -> false;
        };
    }

    private static int countMask(Instruction i) {
        return i.operandSize() == 8 ? 0x3F : 0x1F;
    }

    /**
     * Writes the rendered instruction {@code i} at page offset {@code offset}, with {@code after}
     * instructions after it in its block. A conditional branch leaves its condition (an int) on
     * the stack for the {@link RegionCompiler} to branch on; the instructions that leave the
     * region leave it here.
     */
    void write(Instruction i, int offset, int after) {
        if (!renders(i)) {
            emit.interpretInPlace(i, offset, after);
            return;
        }
        int next = offset + i.length();
        miss = null;
        DeferredFlags.Form flagsBefore = emit.flags.form();
        if (i.memory() && i.translation() != Translation.LEA && i.translation() != Translation.NOP) {
            emit.linearAddress(i, next);
        }
        int size = i.operandSize();
        switch (i.translation()) {
            case ADD -> binary(i, Flags.Kind.ADD, true);
            case SUB -> binary(i, Flags.Kind.SUB, true);
            case CMP -> binary(i, Flags.Kind.SUB, false);
            case AND, OR, XOR -> binary(i, Flags.Kind.LOGIC, true);
            case TEST -> binary(i, Flags.Kind.LOGIC, false);
            case ADC, SBB -> withCarry(i);
            case INC, DEC -> incrementOrDecrement(i);
            case NEG -> {
                readDestination(i, size);
                code.lstore(B).lconst_0().lstore(A).lload(B).lneg().lstore(R);
                writeDestination(i, size, R);
                emit.flags.recordLazy(Flags.Kind.SUB, size, A, B, R, code::iconst_0);
            }
            case NOT -> {
                readDestination(i, size);
                code.loadConstant(-1L).lxor().lstore(R);
                writeDestination(i, size, R);
            }
            case SHL, SHR, SAR, ROL, ROR -> shift(i);
            case IMUL, IMUL_IMMEDIATE -> multiply(i);
            case MOV -> {
                read(i, i.source(), size);
                code.lstore(R);
                writeDestination(i, size, R);
            }
            case MOVZX -> {
                read(i, Operand.RM, i.rmSize());
                emit.storeRegister(i.reg(), size);
            }
            case MOVSX -> {
                read(i, Operand.RM, i.rmSize());
                signExtend(i.rmSize());
                emit.storeRegister(i.reg(), size);
            }
            case MOVSXD -> {
                int from = Math.min(4, size);
                read(i, Operand.RM, from);
                signExtend(from);
                emit.storeRegister(i.reg(), size);
            }
            case LEA -> {
                emit.effectiveAddress(i, next);
                emit.storeRegister(i.reg(), size);
            }
            case XCHG -> exchange(i);
            case CMOV -> moveIf(i);
            case SET -> {
                emit.flags.condition(i.argument());
                code.i2l().lstore(R);
                writeDestination(i, 1, R);
            }
            case WIDEN -> {
                emit.loadRegister(CpuState.RAX, size / 2);
                signExtend(size / 2);
                emit.storeRegister(CpuState.RAX, size);
            }
            case SPLIT -> {
                emit.loadRegister(CpuState.RAX, size);
                signExtend(size);
                code.bipush(63).lshr();
                emit.storeRegister(CpuState.RDX, size);
            }
            case NOP, JMP -> {
            }
            case PUSH -> {
                read(i, i.destination(), size);
                code.lstore(R);
                push(size);
            }
            case POP -> {
                pop(size);
                emit.storeRegister(i.destination() == Operand.REG ? i.reg() : i.rm(), size);
            }
            case LEAVE -> {
                emit.loadRegister(CpuState.RBP, 8);
                code.lstore(ADDRESS);
                load(8);
                code.lstore(R);
                code.lload(ADDRESS).loadConstant(8L).ladd();
                emit.storeRegister(CpuState.RSP, 8);
                code.lload(R);
                emit.storeRegister(CpuState.RBP, 8);
            }
            case JCC -> emit.flags.condition(i.argument());
            case LOOP, LOOPE, LOOPNE -> loop(i);
            case JRCXZ -> {
                Label zero = code.newLabel();
                Label done = code.newLabel();
                emit.loadRegister(CpuState.RCX, i.addressSize());
                code.lconst_0().lcmp().ifeq(zero).iconst_0().goto_(done).labelBinding(zero);
                code.iconst_1().labelBinding(done);
            }
            case CALL -> {
                code.lload(PAGE_BASE).loadConstant((long) next).ladd().lstore(R);
                push(8);
                emit.leaveTo(next + i.immediate(), after);
            }
            case CALL_INDIRECT -> {
                read(i, Operand.RM, 8);
                code.lstore(B);
                code.lload(PAGE_BASE).loadConstant((long) next).ladd().lstore(R);
                push(8);
                code.lload(B);
                emit.leaveToAddress(after);
            }
            case JMP_INDIRECT -> {
                read(i, Operand.RM, 8);
                emit.leaveToAddress(after);
            }
            case RET -> {
                emit.loadRegister(CpuState.RSP, 8);
                code.lstore(ADDRESS);
                load(8);
                code.lstore(B);
                code.lload(ADDRESS).loadConstant(8 + i.immediate()).ladd();
                emit.storeRegister(CpuState.RSP, 8);
                code.lload(B);
                emit.leaveToAddress(after);
            }
            case NONE -> throw new IllegalStateException("not rendered: " + i);
        }
        if (miss != null) {
            Label done = code.newLabel();
            if (!leavesItself(i)) {
                code.goto_(done);
            }
            code.labelBinding(miss);
            emit.leaveTo(offset, after + 1, flagsBefore);
            code.labelBinding(done);
        }
    }

    /** The label that leaves the region before the instruction being written. */
    private Label miss() {
        if (miss == null) {
            miss = code.newLabel();
        }
        return miss;
    }

    private void load(int size) {
        emit.load(size, miss());
    }

    private void store(int size, int value) {
        emit.prepareStore(size, miss());
        emit.store(size, value);
    }

    // ---- operands -----------------------------------------------------------------------------------

    /** Pushes operand {@code kind} of {@code i} as {@code size} bytes; a memory operand's address is in ADDRESS already. */
    private void read(Instruction i, int kind, int size) {
        switch (kind) {
            case Operand.REG -> emit.loadRegister(i.reg(), size);
            case Operand.RM -> {
                if (i.memory()) {
                    load(size);
                } else {
                    emit.loadRegister(i.rm(), size);
                }
            }
            case Operand.IMM -> code.loadConstant(i.immediate() & Emitter.mask(size));
            case Operand.CL -> emit.loadRegister(CpuState.RCX, 1);
            default -> throw new IllegalStateException(i + " has no operand of kind " + kind);
        }
    }

    private void readDestination(Instruction i, int size) {
        read(i, i.destination(), size);
    }

    /** Writes local {@code value} to the destination of {@code i} as {@code size} bytes. */
    private void writeDestination(Instruction i, int size, int value) {
        if (i.destination() == Operand.REG) {
            code.lload(value);
            emit.storeRegister(i.reg(), size);
        } else if (i.memory()) {
            store(size, value);
        } else {
            code.lload(value);
            emit.storeRegister(i.rm(), size);
        }
    }

    private void signExtend(int size) {
        if (size != 8) {
            int unused = 64 - size * 8;
            code.loadConstant(unused).lshl().loadConstant(unused).lshr();
        }
    }

    // ---- families -----------------------------------------------------------------------------------

    /** ADD, SUB, CMP, AND, OR, XOR, TEST: the flags stay pending. */
    private void binary(Instruction i, Flags.Kind kind, boolean writes) {
        int size = i.operandSize();
        readDestination(i, size);
        code.lstore(A);
        read(i, i.source(), size);
        code.lstore(B);
        code.lload(A).lload(B);
        switch (i.translation()) {
            case ADD -> code.ladd();
            case SUB, CMP -> code.lsub();
            case AND, TEST -> code.land();
            case OR -> code.lor();
            default -> code.lxor();
        }
        code.lstore(R);
        if (writes) {
            writeDestination(i, size, R);
        }
        emit.flags.recordLazy(kind, size, A, B, R, code::iconst_0);
    }

    /** ADC and SBB: CF goes in; the tuple keeps it beside the operands. */
    private void withCarry(Instruction i) {
        int size = i.operandSize();
        boolean add = i.translation() == Translation.ADC;
        emit.flags.carry();
        code.istore(COUNT);
        readDestination(i, size);
        code.lstore(A);
        read(i, i.source(), size);
        code.lstore(B);
        code.lload(A).lload(B);
        if (add) {
            code.ladd().iload(COUNT).i2l().ladd();
        } else {
            code.lsub().iload(COUNT).i2l().lsub();
        }
        code.lstore(R);
        writeDestination(i, size, R);
        emit.flags.recordLazy(add ? Flags.Kind.ADC : Flags.Kind.SBB, size, A, B, R, () -> code.iload(COUNT));
    }

    /** INC and DEC: the tuple keeps the CF they leave alone. */
    private void incrementOrDecrement(Instruction i) {
        int size = i.operandSize();
        boolean increment = i.translation() == Translation.INC;
        emit.flags.carry();
        code.istore(COUNT);
        readDestination(i, size);
        code.lstore(A);
        code.lconst_1().lstore(B);
        code.lload(A).lconst_1();
        if (increment) {
            code.ladd();
        } else {
            code.lsub();
        }
        code.lstore(R);
        writeDestination(i, size, R);
        emit.flags.recordLazy(increment ? Flags.Kind.INC : Flags.Kind.DEC, size, A, B, R, () -> code.iload(COUNT));
    }

    /**
     * SHL, SHR, SAR, ROL, ROR through {@link Shifts}' value functions; their flags stay deferred.
     * A count in CL may be zero, which changes nothing: both paths then leave the flags as
     * explicit bits, the one form they can meet in.
     */
    private void shift(Instruction i) {
        int size = i.operandSize();
        String name = i.translation().name().toLowerCase();
        boolean rotate = i.translation() == Translation.ROL || i.translation() == Translation.ROR;
        boolean variable = i.source() == Operand.CL;
        Label done = code.newLabel();
        if (variable) {
            Label shifting = code.newLabel();
            emit.loadRegister(CpuState.RCX, 1);
            code.l2i().loadConstant(countMask(i)).iand().istore(COUNT).iload(COUNT).ifne(shifting);
            if (size == 4 && !i.memory()) {
                emit.loadRegister(i.rm(), 4);
                emit.storeRegister(i.rm(), 4);
            }
            emit.flags.pushBits();
            code.lstore(DeferredFlags.BITS).goto_(done).labelBinding(shifting);
        } else {
            code.loadConstant((int) i.immediate() & countMask(i)).istore(COUNT);
        }
        readDestination(i, size);
        code.lstore(A);
        code.loadConstant(size).lload(A).iload(COUNT).invokestatic(Emitter.desc(Shifts.class), name + "Result", RESULT_OF).lstore(R);
        writeDestination(i, size, R);
        if (rotate) {
            emit.flags.recordRotate(name, size, A, COUNT, R);
        } else {
            emit.flags.recordShift(name, size, A, COUNT, R);
        }
        if (variable) {
            emit.flags.pushBits();
            emit.flags.recordExplicit();
        }
        code.labelBinding(done);
    }

    /** The two- and three-operand IMUL through {@link Arithmetic}'s value functions. */
    private void multiply(Instruction i) {
        int size = i.operandSize();
        if (i.translation() == Translation.IMUL) {
            emit.loadRegister(i.reg(), size);
            code.lstore(A);
            read(i, Operand.RM, size);
            code.lstore(B);
        } else {
            read(i, Operand.RM, size);
            code.lstore(A);
            code.loadConstant(i.immediate() & Emitter.mask(size)).lstore(B);
        }
        code.loadConstant(size).lload(A).lload(B).invokestatic(Emitter.desc(Arithmetic.class), "truncatedProduct", PRODUCT);
        emit.storeRegister(i.reg(), size);
        emit.flags.recordProduct(size, A, B);
    }

    /** XCHG of two registers (with memory it is LOCKed and the core runs it); 90 is NOP. */
    private void exchange(Instruction i) {
        int size = i.operandSize();
        int other = i.destination() == Operand.REG ? CpuState.RAX : i.rm();
        if (i.destination() == Operand.REG && i.reg() == CpuState.RAX) {
            return;
        }
        emit.loadRegister(other, size);
        code.lstore(A);
        emit.loadRegister(i.reg(), size);
        code.lstore(B);
        code.lload(A);
        emit.storeRegister(i.reg(), size);
        code.lload(B);
        emit.storeRegister(other, size);
    }

    /** CMOVcc: the source is read (and may fault) either way; a 32-bit destination is zero-extended either way. */
    private void moveIf(Instruction i) {
        int size = i.operandSize();
        Label keep = code.newLabel();
        Label done = code.newLabel();
        read(i, Operand.RM, size);
        code.lstore(B);
        emit.flags.condition(i.argument());
        code.ifeq(keep).lload(B);
        emit.storeRegister(i.reg(), size);
        code.goto_(done).labelBinding(keep);
        if (size == 4) {
            emit.loadRegister(i.reg(), 4);
            emit.storeRegister(i.reg(), 4);
        }
        code.labelBinding(done);
    }

    /** LOOP, LOOPE, LOOPNE: the counter (by address size) goes down; pushes whether to branch. */
    private void loop(Instruction i) {
        int size = i.addressSize();
        Label no = code.newLabel();
        Label done = code.newLabel();
        emit.loadRegister(CpuState.RCX, size);
        code.lconst_1().lsub().lstore(A).lload(A);
        emit.storeRegister(CpuState.RCX, size);
        code.lload(A).loadConstant(Emitter.mask(size)).land().lconst_0().lcmp().ifeq(no);
        if (i.translation() != Translation.LOOP) {
            emit.flags.condition(i.translation() == Translation.LOOPE ? 4 : 5);
            code.ifeq(no);
        }
        code.iconst_1().goto_(done).labelBinding(no).iconst_0().labelBinding(done);
    }

    /** Stores local R as {@code size} bytes below RSP and moves RSP down; RSP changes only once the store is done. */
    private void push(int size) {
        emit.loadRegister(CpuState.RSP, 8);
        code.loadConstant((long) size).lsub().lstore(ADDRESS);
        store(size, R);
        code.lload(ADDRESS);
        emit.storeRegister(CpuState.RSP, 8);
    }

    /** Pushes the {@code size} bytes at RSP and moves RSP up past them. */
    private void pop(int size) {
        emit.loadRegister(CpuState.RSP, 8);
        code.lstore(ADDRESS);
        load(size);
        code.lstore(R);
        code.lload(ADDRESS).loadConstant((long) size).ladd();
        emit.storeRegister(CpuState.RSP, 8);
        code.lload(R);
    }
}
