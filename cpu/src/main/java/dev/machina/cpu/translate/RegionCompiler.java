package dev.machina.cpu.translate;

import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.cpu.translate.RegionPlan.Block;
import dev.machina.cpu.translate.RegionPlan.Branch;
import dev.machina.cpu.translate.RegionPlan.External;
import dev.machina.cpu.translate.RegionPlan.FallThrough;
import dev.machina.cpu.translate.RegionPlan.Internal;
import dev.machina.cpu.translate.RegionPlan.Jump;
import dev.machina.cpu.translate.RegionPlan.Leave;
import dev.machina.cpu.translate.RegionPlan.StopBefore;
import dev.machina.cpu.translate.RegionPlan.Target;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.machina.cpu.translate.Emitter.BUDGET;
import static dev.machina.cpu.translate.Emitter.CODE_BITS;
import static dev.machina.cpu.translate.Emitter.CODE_CACHE;
import static dev.machina.cpu.translate.Emitter.COUNT;
import static dev.machina.cpu.translate.Emitter.CPU;
import static dev.machina.cpu.translate.Emitter.CPU_STATE;
import static dev.machina.cpu.translate.Emitter.EXECUTED;
import static dev.machina.cpu.translate.Emitter.FLAGS;
import static dev.machina.cpu.translate.Emitter.FLAGS_TYPE;
import static dev.machina.cpu.translate.Emitter.HOST_PAGES;
import static dev.machina.cpu.translate.Emitter.LONGS;
import static dev.machina.cpu.translate.Emitter.MEMORY;
import static dev.machina.cpu.translate.Emitter.MMU;
import static dev.machina.cpu.translate.Emitter.NEXT;
import static dev.machina.cpu.translate.Emitter.OBJECT;
import static dev.machina.cpu.translate.Emitter.PAGE_BASE;
import static dev.machina.cpu.translate.Emitter.PROCESSOR;
import static dev.machina.cpu.translate.Emitter.RAM;
import static dev.machina.cpu.translate.Emitter.READ_TAGS;
import static dev.machina.cpu.translate.Emitter.REGISTERS;
import static dev.machina.cpu.translate.Emitter.STATE;
import static dev.machina.cpu.translate.Emitter.WRITE_TAGS;
import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Lays out a {@link RegionPlan} as the method of a hidden class: a prologue that fetches the
 * core's parts the code reaches, the blocks in address order, loops checked against the
 * instruction budget on their way back, and one exit that sets RIP and counts the instructions.
 */
final class RegionCompiler {
    /** HotSpot never compiles a method longer than this; such a region is made smaller. */
    static final int BYTECODE_LIMIT = 7_900;

    private static final ClassDesc REGION = ClassDesc.of(RegionCompiler.class.getPackageName() + ".TranslatedRegion");
    private static final ClassDesc CODE_INTERFACE = Emitter.desc(Region.Code.class);
    private static final MethodTypeDesc RUN = MethodTypeDesc.of(CD_void, PROCESSOR, CD_int);

    private final ClassFile classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.ofClassLoading(RegionCompiler.class.getClassLoader())));

    /** The translated method of {@code plan}, for CPL 3 or not ({@code user}); null if it would be too long for the JIT. */
    Region.Code compile(RegionPlan plan, boolean user) {
        List<Instruction> interpreted = new ArrayList<>();
        byte[] bytes = classFile.build(REGION, type -> type
                .withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC)
                .withInterfaceSymbols(CODE_INTERFACE)
                .withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                        init -> init.aload(0).invokespecial(CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void).return_())
                .withMethodBody("run", RUN, ClassFile.ACC_PUBLIC, code -> body(code, plan, user, interpreted)));
        if (bytecodeLength(bytes) > BYTECODE_LIMIT) {
            return null;
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, List.copyOf(interpreted), true);
            return (Region.Code) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("the region at offset " + plan.entry() + " could not be defined", e);
        }
    }

    private int bytecodeLength(byte[] bytes) {
        for (MethodModel method : classFile.parse(bytes).methods()) {
            if (method.methodName().equalsString("run")) {
                return method.code().map(code -> ((CodeAttribute) code).codeLength()).orElse(0);
            }
        }
        return 0;
    }

    private static void body(CodeBuilder code, RegionPlan plan, boolean user, List<Instruction> interpreted) {
        interpreted.clear(); // the class-file builder may run a method body's handler again
        Emitter emitter = new Emitter(code, user, interpreted);
        InstructionWriter writer = new InstructionWriter(emitter);
        Map<Integer, Label> labels = new HashMap<>();
        for (Block block : plan.blocks()) {
            labels.put(block.start(), code.newLabel());
        }
        prologue(code, emitter, labels.get(plan.entry()));
        for (Block block : plan.blocks()) {
            code.labelBinding(labels.get(block.start()));
            emitter.flags.startBlock();
            code.iinc(EXECUTED, block.instructionCount());
            int offset = block.start();
            List<Instruction> instructions = block.instructions();
            for (int k = 0; k < instructions.size(); k++) {
                writer.write(instructions.get(k), offset, instructions.size() - 1 - k);
                offset += instructions.get(k).length();
            }
            end(code, emitter, block, offset, labels);
        }
        exit(code, emitter);
    }

    /** What follows a block's last instruction; {@code after} is the page offset after it. */
    private static void end(CodeBuilder code, Emitter emitter, Block block, int after, Map<Integer, Label> labels) {
        switch (block.end()) {
            case FallThrough(int next) -> {
                emitter.flags.materialize();
                edge(code, emitter, new Internal(next), block.start(), labels);
            }
            case Jump(Target target) -> {
                emitter.flags.materialize();
                edge(code, emitter, target, block.start(), labels);
            }
            case Branch(Target taken, Target notTaken) -> {
                Label otherwise = code.newLabel();
                code.istore(COUNT);
                emitter.flags.materialize();
                code.iload(COUNT).ifeq(otherwise);
                edge(code, emitter, taken, block.start(), labels);
                code.labelBinding(otherwise);
                edge(code, emitter, notTaken, block.start(), labels);
            }
            case Leave() -> {
                if (!InstructionWriter.leavesItself(block.instructions().getLast())) {
                    emitter.leaveTo(after, 0);
                }
            }
            case StopBefore(int offset) -> {
                emitter.flags.materialize();
                emitter.leaveTo(offset, 0);
            }
        }
    }

    /** Goes to {@code target}: a block of the region (on a loop's way back only while the budget lasts) or out. */
    private static void edge(CodeBuilder code, Emitter emitter, Target target, int from, Map<Integer, Label> labels) {
        switch (target) {
            case Internal(int offset) -> {
                Label label = labels.get(offset);
                if (offset > from) {
                    code.goto_(label);
                } else {
                    code.iload(EXECUTED).iload(BUDGET).if_icmplt(label);
                    emitter.leaveTo(offset, 0);
                }
            }
            case External(long offset) -> emitter.leaveTo(offset, 0);
        }
    }

    /** The one way out: RIP to where control goes, the instructions counted. */
    private static void exit(CodeBuilder code, Emitter emitter) {
        code.labelBinding(emitter.exit);
        code.aload(STATE).lload(NEXT).putfield(CPU_STATE, "rip", CD_long);
        code.aload(CPU).iload(EXECUTED).invokevirtual(PROCESSOR, "retire", MethodTypeDesc.of(CD_void, CD_int));
        code.return_();
    }

    private static void prologue(CodeBuilder code, Emitter emitter, Label entry) {
        code.aload(CPU).getfield(PROCESSOR, "state", CPU_STATE).astore(STATE);
        code.aload(STATE).getfield(CPU_STATE, "registers", LONGS).astore(REGISTERS);
        code.aload(STATE).getfield(CPU_STATE, "flags", FLAGS_TYPE).astore(FLAGS);
        MethodTypeDesc tags = MethodTypeDesc.of(LONGS, CD_int);
        code.aload(CPU).invokevirtual(PROCESSOR, "mmu", MethodTypeDesc.of(MMU)).astore(OBJECT);
        code.aload(OBJECT).loadConstant(Mmu.READ).invokevirtual(MMU, "tags", tags).astore(READ_TAGS);
        code.aload(OBJECT).loadConstant(Mmu.WRITE).invokevirtual(MMU, "tags", tags).astore(WRITE_TAGS);
        code.aload(OBJECT).invokevirtual(MMU, "hostPages", MethodTypeDesc.of(LONGS)).astore(HOST_PAGES);
        code.aload(OBJECT).invokevirtual(MMU, "bus", MethodTypeDesc.of(Emitter.BUS)).astore(OBJECT);
        code.aload(OBJECT).invokevirtual(Emitter.BUS, "ram", MethodTypeDesc.of(MEMORY)).astore(RAM);
        code.aload(OBJECT).invokevirtual(Emitter.BUS, "code", MethodTypeDesc.of(CODE_CACHE))
                .invokevirtual(CODE_CACHE, "codeBits", MethodTypeDesc.of(LONGS)).astore(CODE_BITS);
        code.aload(STATE).getfield(CPU_STATE, "rip", CD_long).loadConstant(~0xFFFL).land().lstore(PAGE_BASE);
        code.iconst_0().istore(EXECUTED);
        emitter.flags.clear();
        code.goto_(entry);
    }
}
