package dev.machina.cpu.compile;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.ByteSource;
import dev.machina.cpu.decode.Decoder;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.decode.Operation;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.mmu.PhysicalBus;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * The Java CPU's compiler tier: a run of instructions entered often enough is translated with
 * {@code java.lang.classfile} into a hidden class whose method calls each instruction's family
 * method with that instruction's operation and decoding as class-data constants. The family
 * methods stay the one definition of each instruction; what the JIT gains is that every operand
 * kind, size and register of a constant decoding folds away once it inlines them, and that the
 * run needs no fetch, no lookup and no dispatch per instruction.
 *
 * <p>A run starts at a branch target, lies in one page, and ends after an instruction marked
 * {@link dev.machina.cpu.decode.Slot.Traits#ENDS_BLOCK}, before a LOCKed one (the interpreter
 * retries those), before one that crosses the page, or at {@link #MAX_INSTRUCTIONS}. Between
 * instructions the compiled code leaves when one branched or code was rewritten.
 *
 * <p>One compiler per core; it counts entries in a small hashed table, so collisions only make a
 * run hot a little early.
 */
public final class BlockCompiler {
    /** Entries after which a run is compiled: the JIT must then compile the block too, which only pays for hot code. */
    static final int HOT = 50_000;
    static final int MAX_INSTRUCTIONS = 32;
    private static final int HEAT_SLOTS = 1 << 14;
    private static final int PAGE_SIZE = 4096;

    private static final ClassDesc PROCESSOR = classDesc(Processor.class);
    private static final ClassDesc INSTRUCTION = classDesc(Instruction.class);
    private static final ClassDesc OPERATION = classDesc(Operation.class);
    private static final ClassDesc CODE = classDesc(CompiledBlock.Code.class);
    private static final ClassDesc BLOCK = ClassDesc.of(BlockCompiler.class.getPackageName() + ".Block");
    private static final MethodTypeDesc RUN = MethodTypeDesc.of(CD_void, PROCESSOR, CD_long);
    private static final MethodTypeDesc ENTER = MethodTypeDesc.of(CD_void, CD_long, CD_long);
    private static final MethodTypeDesc CHECK = MethodTypeDesc.of(CD_void, INSTRUCTION);
    private static final MethodTypeDesc EXECUTE = MethodTypeDesc.of(CD_void, PROCESSOR, INSTRUCTION);
    private static final MethodTypeDesc CONTINUES = MethodTypeDesc.of(CD_boolean, CD_long, CD_int);
    private static final MethodTypeDesc EPOCH = MethodTypeDesc.of(CD_int);
    private static final int CPU = 1;
    private static final int START = 2;
    private static final int EPOCH_AT_ENTRY = 4;
    private static final int NEXT = 5;

    /** Thrown by the byte source when an instruction runs past the page: the run ends before it. */
    private static final RuntimeException PAGE_END = new RuntimeException("instruction crosses the page", null, false, false) {
    };

    private final PhysicalBus bus;
    private final Decoder decoder = new Decoder();
    private final ClassFile classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.ofClassLoading(BlockCompiler.class.getClassLoader())));
    private final int[] heat = new int[HEAT_SLOTS];
    private long compiled;

    public BlockCompiler(PhysicalBus bus) {
        this.bus = bus;
    }

    private static ClassDesc classDesc(Class<?> type) {
        return ClassDesc.of(type.getName());
    }

    /** How many blocks this compiler made. */
    public long compiled() {
        return compiled;
    }

    /** Counts an entry into the code at host offset {@code host}; true once it is hot enough to compile. */
    public boolean entered(long host) {
        int slot = (int) (host ^ host >>> 14) & (HEAT_SLOTS - 1);
        if (++heat[slot] < HOT) {
            return false;
        }
        heat[slot] = 0;
        return true;
    }

    /**
     * Compiles the run at {@code offset} of the page at host offset {@code hostPage}, decoded for
     * {@code mode}; {@code page} holds the page's decodings and receives those made here. Returns
     * null when no instruction there can be compiled (the first is LOCKed, say).
     */
    public CompiledBlock compile(long hostPage, Instruction[] page, int offset, int mode) {
        List<Instruction> run = new ArrayList<>();
        int position = offset;
        while (run.size() < MAX_INSTRUCTIONS && position < PAGE_SIZE) {
            Instruction next = page[position];
            if (next == null || next.mode() != mode) {
                next = decode(hostPage, position, mode);
                if (next == null) {
                    break;
                }
                page[position] = next;
            }
            if (next.has(Instruction.LOCK)) {
                break;
            }
            run.add(next);
            position += next.length();
            if (next.endsBlock()) {
                break;
            }
        }
        if (run.isEmpty()) {
            return null;
        }
        compiled++;
        return new CompiledBlock(run.getFirst(), position - offset, run.size(), define(run, mode));
    }

    private Instruction decode(long hostPage, int position, int mode) {
        ByteSource bytes = index -> {
            if (position + index >= PAGE_SIZE) {
                throw PAGE_END;
            }
            return (int) bus.readRam(hostPage + position + index, 1);
        };
        try {
            return decoder.decode(bytes, mode);
        } catch (CpuException undecodable) {
            return null;
        } catch (RuntimeException e) {
            if (e == PAGE_END) {
                return null;
            }
            throw e;
        }
    }

    private CompiledBlock.Code define(List<Instruction> run, int mode) {
        List<Object> constants = new ArrayList<>(run.size() * 2);
        for (Instruction instruction : run) {
            constants.add(instruction.operation());
            constants.add(instruction);
        }
        byte[] bytes = classFile.build(BLOCK, type -> type
                .withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC)
                .withInterfaceSymbols(CODE)
                .withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                        init -> init.aload(0).invokespecial(CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void).return_())
                .withMethodBody("run", RUN, ClassFile.ACC_PUBLIC, code -> body(code, run, mode)));
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, constants, true);
            return (CompiledBlock.Code) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("the compiled block of " + run.getFirst() + " could not be defined", e);
        }
    }

    /**
     * For each instruction: {@code cpu.enterInstruction(start + offset, next)}, the unit check if
     * it has one, {@code operation.execute(cpu, instruction)}, {@code cpu.retire()}, and, before
     * the next, {@code if (!cpu.continuesBlock(next, epoch)) return}.
     */
    private static void body(CodeBuilder code, List<Instruction> run, int mode) {
        Label leave = code.newLabel();
        code.aload(CPU).invokevirtual(PROCESSOR, "codeEpoch", EPOCH).istore(EPOCH_AT_ENTRY);
        int offset = 0;
        for (int k = 0; k < run.size(); k++) {
            Instruction instruction = run.get(k);
            int end = offset + instruction.length();
            address(code, end, mode);
            code.lstore(NEXT);
            code.aload(CPU);
            address(code, offset, mode);
            code.lload(NEXT).invokevirtual(PROCESSOR, "enterInstruction", ENTER);
            if (instruction.checks() != 0) {
                code.aload(CPU).loadConstant(constant(INSTRUCTION, 2 * k + 1)).invokevirtual(PROCESSOR, "checkUnit", CHECK);
            }
            code.loadConstant(constant(OPERATION, 2 * k)).aload(CPU).loadConstant(constant(INSTRUCTION, 2 * k + 1))
                    .invokeinterface(OPERATION, "execute", EXECUTE);
            code.aload(CPU).invokevirtual(PROCESSOR, "retire", ConstantDescs.MTD_void);
            if (k < run.size() - 1) {
                code.aload(CPU).lload(NEXT).iload(EPOCH_AT_ENTRY).invokevirtual(PROCESSOR, "continuesBlock", CONTINUES).ifeq(leave);
            }
            offset = end;
        }
        code.labelBinding(leave);
        code.return_();
    }

    /** Pushes {@code start + offset}, wrapped to the instruction pointer's width outside 64-bit mode. */
    private static void address(CodeBuilder code, int offset, int mode) {
        code.lload(START);
        if (offset != 0) {
            code.loadConstant((long) offset).ladd();
        }
        if (mode != 64) {
            code.loadConstant(mode == 32 ? 0xFFFF_FFFFL : 0xFFFFL).land();
        }
    }

    private static DynamicConstantDesc<Object> constant(ClassDesc type, int index) {
        return DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, type, index);
    }
}
