package dev.machina.cpu.decode;

import dev.machina.cpu.decode.Slot.ByMod;
import dev.machina.cpu.decode.Slot.ByReg;
import dev.machina.cpu.decode.Slot.ByRm;
import dev.machina.cpu.decode.Slot.Opcode;
import dev.machina.cpu.decode.Slot.Traits;
import dev.machina.cpu.execute.Arithmetic;
import dev.machina.cpu.execute.Bits;
import dev.machina.cpu.execute.Branches;
import dev.machina.cpu.execute.DescriptorChecks;
import dev.machina.cpu.execute.FpuEnvironment;
import dev.machina.cpu.execute.InputOutput;
import dev.machina.cpu.execute.Logic;
import dev.machina.cpu.execute.Moves;
import dev.machina.cpu.execute.PackedIntegers;
import dev.machina.cpu.execute.Shifts;
import dev.machina.cpu.execute.SoftFloat;
import dev.machina.cpu.execute.SseConversions;
import dev.machina.cpu.execute.SseFloatingPoint;
import dev.machina.cpu.execute.SseMoves;
import dev.machina.cpu.execute.Stack;
import dev.machina.cpu.execute.Strings;
import dev.machina.cpu.execute.SystemInstructions;
import dev.machina.cpu.execute.X87Arithmetic;
import dev.machina.cpu.execute.X87Transcendentals;
import dev.machina.cpu.execute.X87Transfers;

import java.util.Arrays;

import static dev.machina.cpu.decode.Form.A_I;
import static dev.machina.cpu.decode.Form.A_O;
import static dev.machina.cpu.decode.Form.E;
import static dev.machina.cpu.decode.Form.E_1;
import static dev.machina.cpu.decode.Form.E_CL;
import static dev.machina.cpu.decode.Form.E_G;
import static dev.machina.cpu.decode.Form.E_G_CL;
import static dev.machina.cpu.decode.Form.E_G_I;
import static dev.machina.cpu.decode.Form.E_I;
import static dev.machina.cpu.decode.Form.G_E;
import static dev.machina.cpu.decode.Form.G_E_I;
import static dev.machina.cpu.decode.Form.I;
import static dev.machina.cpu.decode.Form.NONE;
import static dev.machina.cpu.decode.Form.O_A;
import static dev.machina.cpu.decode.Form.Z;
import static dev.machina.cpu.decode.Form.Z_I;
import static dev.machina.cpu.decode.Size.BYTE;
import static dev.machina.cpu.decode.Size.SIMD;
import static dev.machina.cpu.decode.Size.STACK;
import static dev.machina.cpu.decode.Size.VARIABLE;
import static dev.machina.cpu.decode.Size.WORD;

/**
 * The x86 opcode map as data, in the manner of QEMU's decode tables: every instruction is
 * described once, here, by its opcode, operand form, size rule, immediate and the family method
 * that executes it. Four maps (one-byte, 0F, 0F 38, 0F 3A) each have four columns for the
 * mandatory prefix (none, 66, F3, F2) that SSE opcodes are told apart by; an integer opcode sits
 * in the "none" column and is found whatever prefix precedes it, while an opcode told apart by
 * its prefix ({@link #vector}) is #UD under a prefix it has no entry for.
 */
public final class OpcodeMap {
    public static final int ONE_BYTE = 0;
    public static final int TWO_BYTE = 1;
    public static final int THREE_BYTE_38 = 2;
    public static final int THREE_BYTE_3A = 3;

    public static final int PREFIX_NONE = 0;
    public static final int PREFIX_66 = 1;
    public static final int PREFIX_F3 = 2;
    public static final int PREFIX_F2 = 3;

    private static final OpcodeMap INSTANCE = new OpcodeMap();

    private final Slot[][][] slots = new Slot[4][4][256];
    /** Opcodes whose mandatory-prefix columns are distinct instructions, with no fallback to "none". */
    private final boolean[][] byPrefix = new boolean[4][256];

    public static OpcodeMap instance() {
        return INSTANCE;
    }

    /** The slot for {@code opcode} in {@code map} under mandatory prefix {@code prefix}, or null (#UD). */
    public Slot lookup(int map, int prefix, int opcode) {
        Slot slot = slots[map][prefix][opcode];
        return slot != null || byPrefix[map][opcode] ? slot : slots[map][PREFIX_NONE][opcode];
    }

    private OpcodeMap() {
        oneByteMap();
        x87Map();
        twoByteMap();
        vectorMap();
    }

    private static Opcode op(String mnemonic, Form form, Size size, Immediate immediate, Operation operation) {
        return new Opcode(mnemonic, form, size, immediate, operation, -1, 0, Translation.NONE);
    }

    private static Opcode op(String mnemonic, Form form, Size size, Operation operation) {
        return op(mnemonic, form, size, Immediate.NONE, operation);
    }

    private static Opcode op(String mnemonic, Operation operation) {
        return op(mnemonic, NONE, VARIABLE, operation);
    }

    private void set(int map, int opcode, Slot slot) {
        slots[map][PREFIX_NONE][opcode] = slot;
    }

    private void one(int opcode, Slot slot) {
        set(ONE_BYTE, opcode, slot);
    }

    private void two(int opcode, Slot slot) {
        set(TWO_BYTE, opcode, slot);
    }

    private static ByReg group(Slot... eight) {
        return new ByReg(Arrays.asList(eight));
    }

    private static ByRm byRm(Slot... eight) {
        return new ByRm(Arrays.asList(eight));
    }

    private void oneByteMap() {
        String[] aluNames = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
        Operation[] alu = {Arithmetic::add, Logic::or, Arithmetic::adc, Arithmetic::sbb,
                Logic::and, Arithmetic::sub, Logic::xor, Arithmetic::cmp};
        Translation[] aluTranslations = {Translation.ADD, Translation.OR, Translation.ADC, Translation.SBB,
                Translation.AND, Translation.SUB, Translation.XOR, Translation.CMP};
        Slot[] aluByte = new Slot[8];
        Slot[] aluFull = new Slot[8];
        Slot[] aluSigned = new Slot[8];
        for (int i = 0; i < 8; i++) {
            int base = i * 8;
            Translation t = aluTranslations[i];
            one(base, op(aluNames[i], E_G, BYTE, alu[i]).translated(t));
            one(base + 1, op(aluNames[i], E_G, VARIABLE, alu[i]).translated(t));
            one(base + 2, op(aluNames[i], G_E, BYTE, alu[i]).translated(t));
            one(base + 3, op(aluNames[i], G_E, VARIABLE, alu[i]).translated(t));
            one(base + 4, op(aluNames[i], A_I, BYTE, Immediate.BYTE, alu[i]).translated(t));
            one(base + 5, op(aluNames[i], A_I, VARIABLE, Immediate.FULL, alu[i]).translated(t));
            aluByte[i] = op(aluNames[i], E_I, BYTE, Immediate.BYTE, alu[i]).translated(t);
            aluFull[i] = op(aluNames[i], E_I, VARIABLE, Immediate.FULL, alu[i]).translated(t);
            aluSigned[i] = op(aluNames[i], E_I, VARIABLE, Immediate.BYTE, alu[i]).translated(t);
        }
        one(0x80, group(aluByte));
        one(0x81, group(aluFull));
        one(0x82, group(Arrays.stream(aluByte).map(s -> ((Opcode) s).with(Traits.NOT_64)).toArray(Slot[]::new)));
        one(0x83, group(aluSigned));

        for (int segment : new int[] {0, 1, 2, 3}) {
            one(0x06 + segment * 8, op("push", NONE, STACK, Stack::pushSegment).withArgument(segment).with(Traits.NOT_64));
            if (segment != 1) {
                one(0x07 + segment * 8, op("pop", NONE, STACK, Stack::popSegment).withArgument(segment).with(Traits.NOT_64 | Traits.ENDS_BLOCK));
            }
        }
        for (int r = 0; r < 8; r++) {
            one(0x40 + r, op("inc", Z, VARIABLE, Arithmetic::inc).with(Traits.NOT_64).translated(Translation.INC));
            one(0x48 + r, op("dec", Z, VARIABLE, Arithmetic::dec).with(Traits.NOT_64).translated(Translation.DEC));
            one(0x50 + r, op("push", Z, STACK, Stack::push).translated(Translation.PUSH));
            one(0x58 + r, op("pop", Z, STACK, Stack::pop).translated(Translation.POP));
            one(0x90 + r, op("xchg", Z, VARIABLE, Moves::exchangeAccumulator).translated(Translation.XCHG));
            one(0xB0 + r, op("mov", Z_I, BYTE, Immediate.BYTE, Moves::mov).translated(Translation.MOV));
            one(0xB8 + r, op("mov", Z_I, VARIABLE, Immediate.WIDE, Moves::mov).translated(Translation.MOV));
        }
        one(0x60, op("pusha", Stack::pushAll).with(Traits.NOT_64));
        one(0x61, op("popa", Stack::popAll).with(Traits.NOT_64));
        one(0x63, op("movsxd", G_E, VARIABLE, Moves::movsxd).with(Traits.ONLY_64).translated(Translation.MOVSXD));
        one(0x68, op("push", I, STACK, Immediate.FULL, Stack::push).translated(Translation.PUSH));
        one(0x69, op("imul", G_E_I, VARIABLE, Immediate.FULL, Arithmetic::imulImmediate).translated(Translation.IMUL_IMMEDIATE));
        one(0x6A, op("push", I, STACK, Immediate.BYTE, Stack::push).translated(Translation.PUSH));
        one(0x6B, op("imul", G_E_I, VARIABLE, Immediate.BYTE, Arithmetic::imulImmediate).translated(Translation.IMUL_IMMEDIATE));
        one(0x6C, op("ins", NONE, BYTE, Strings::ins));
        one(0x6D, op("ins", Strings::ins));
        one(0x6E, op("outs", NONE, BYTE, Strings::outs));
        one(0x6F, op("outs", Strings::outs));
        for (int cc = 0; cc < 16; cc++) {
            one(0x70 + cc, op("jcc", I, STACK, Immediate.BYTE, Branches::jumpIf).translated(Translation.JCC));
        }
        one(0x84, op("test", E_G, BYTE, Logic::test).translated(Translation.TEST));
        one(0x85, op("test", E_G, VARIABLE, Logic::test).translated(Translation.TEST));
        one(0x86, op("xchg", E_G, BYTE, Moves::exchange).with(Traits.IMPLICIT_LOCK).translated(Translation.XCHG));
        one(0x87, op("xchg", E_G, VARIABLE, Moves::exchange).with(Traits.IMPLICIT_LOCK).translated(Translation.XCHG));
        one(0x88, op("mov", E_G, BYTE, Moves::mov).translated(Translation.MOV));
        one(0x89, op("mov", E_G, VARIABLE, Moves::mov).translated(Translation.MOV));
        one(0x8A, op("mov", G_E, BYTE, Moves::mov).translated(Translation.MOV));
        one(0x8B, op("mov", G_E, VARIABLE, Moves::mov).translated(Translation.MOV));
        one(0x8C, op("mov", E_G, VARIABLE, Moves::movFromSegment));
        one(0x8D, new ByMod(op("lea", G_E, VARIABLE, Moves::lea).translated(Translation.LEA), null));
        one(0x8E, op("mov", G_E, WORD, Moves::movToSegment).with(Traits.ENDS_BLOCK));
        one(0x8F, group(op("pop", E, STACK, Stack::pop).translated(Translation.POP), null, null, null, null, null, null, null));
        one(0x98, op("cbw", Arithmetic::widenAccumulator).translated(Translation.WIDEN));
        one(0x99, op("cwd", Arithmetic::splitAccumulator).translated(Translation.SPLIT));
        one(0x9A, op("call", I, VARIABLE, Immediate.FAR_POINTER, Branches::callFar).with(Traits.NOT_64 | Traits.ENDS_BLOCK));
        one(0x9B, op("fwait", SystemInstructions::nop).with(Traits.WAIT));
        one(0x9C, op("pushf", NONE, STACK, Stack::pushFlags));
        one(0x9D, op("popf", NONE, STACK, Stack::popFlags).with(Traits.ENDS_BLOCK));
        one(0x9E, op("sahf", SystemInstructions::storeFlagsFromAh));
        one(0x9F, op("lahf", SystemInstructions::loadFlagsIntoAh));
        one(0xA0, op("mov", A_O, BYTE, Immediate.OFFSET, Moves::mov).translated(Translation.MOV));
        one(0xA1, op("mov", A_O, VARIABLE, Immediate.OFFSET, Moves::mov).translated(Translation.MOV));
        one(0xA2, op("mov", O_A, BYTE, Immediate.OFFSET, Moves::mov).translated(Translation.MOV));
        one(0xA3, op("mov", O_A, VARIABLE, Immediate.OFFSET, Moves::mov).translated(Translation.MOV));
        one(0xA4, op("movs", NONE, BYTE, Strings::movs));
        one(0xA5, op("movs", Strings::movs));
        one(0xA6, op("cmps", NONE, BYTE, Strings::cmps));
        one(0xA7, op("cmps", Strings::cmps));
        one(0xA8, op("test", A_I, BYTE, Immediate.BYTE, Logic::test).translated(Translation.TEST));
        one(0xA9, op("test", A_I, VARIABLE, Immediate.FULL, Logic::test).translated(Translation.TEST));
        one(0xAA, op("stos", NONE, BYTE, Strings::stos));
        one(0xAB, op("stos", Strings::stos));
        one(0xAC, op("lods", NONE, BYTE, Strings::lods));
        one(0xAD, op("lods", Strings::lods));
        one(0xAE, op("scas", NONE, BYTE, Strings::scas));
        one(0xAF, op("scas", Strings::scas));

        String[] shiftNames = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
        Operation[] shifts = {Shifts::rol, Shifts::ror, Shifts::rcl, Shifts::rcr, Shifts::shl, Shifts::shr, Shifts::shl, Shifts::sar};
        Translation[] shiftTranslations = {Translation.ROL, Translation.ROR, Translation.NONE, Translation.NONE,
                Translation.SHL, Translation.SHR, Translation.SHL, Translation.SAR};
        Form[] countForms = {E_I, E_1, E_CL};
        int[] shiftOpcodes = {0xC0, 0xD0, 0xD2};
        for (int form = 0; form < 3; form++) {
            for (int wide = 0; wide < 2; wide++) {
                Slot[] members = new Slot[8];
                for (int i = 0; i < 8; i++) {
                    members[i] = op(shiftNames[i], countForms[form], wide == 0 ? BYTE : VARIABLE,
                            form == 0 ? Immediate.BYTE : Immediate.NONE, shifts[i]).translated(shiftTranslations[i]);
                }
                one(shiftOpcodes[form] + wide, group(members));
            }
        }
        one(0xC2, op("ret", I, STACK, Immediate.WORD, Branches::ret).with(Traits.ENDS_BLOCK).translated(Translation.RET));
        one(0xC3, op("ret", NONE, STACK, Branches::ret).with(Traits.ENDS_BLOCK).translated(Translation.RET));
        one(0xC6, group(op("mov", E_I, BYTE, Immediate.BYTE, Moves::mov).translated(Translation.MOV), null, null, null, null, null, null, null));
        one(0xC7, group(op("mov", E_I, VARIABLE, Immediate.FULL, Moves::mov).translated(Translation.MOV), null, null, null, null, null, null, null));
        one(0xC8, op("enter", NONE, STACK, Immediate.WORD_BYTE, Stack::enter));
        one(0xC9, op("leave", NONE, STACK, Stack::leave).translated(Translation.LEAVE));
        one(0xCA, op("retf", I, VARIABLE, Immediate.WORD, Branches::retFar).with(Traits.ENDS_BLOCK));
        one(0xCB, op("retf", Branches::retFar).with(Traits.ENDS_BLOCK));
        one(0xCC, op("int3", SystemInstructions::breakpoint).with(Traits.ENDS_BLOCK));
        one(0xCD, op("int", I, BYTE, Immediate.BYTE, SystemInstructions::softwareInterrupt).with(Traits.ENDS_BLOCK));
        one(0xCE, op("into", SystemInstructions::overflowTrap).with(Traits.NOT_64 | Traits.ENDS_BLOCK));
        one(0xCF, op("iret", Branches::interruptReturn).with(Traits.ENDS_BLOCK));
        one(0xD7, op("xlat", NONE, BYTE, Moves::translateByte));
        one(0xE0, op("loopne", I, STACK, Immediate.BYTE, Branches::loopWhileNotZero).translated(Translation.LOOPNE));
        one(0xE1, op("loope", I, STACK, Immediate.BYTE, Branches::loopWhileZero).translated(Translation.LOOPE));
        one(0xE2, op("loop", I, STACK, Immediate.BYTE, Branches::loop).translated(Translation.LOOP));
        one(0xE3, op("jrcxz", I, STACK, Immediate.BYTE, Branches::jumpIfCounterZero).translated(Translation.JRCXZ));
        one(0xE4, op("in", I, BYTE, Immediate.BYTE, InputOutput::in));
        one(0xE5, op("in", I, VARIABLE, Immediate.BYTE, InputOutput::in));
        one(0xE6, op("out", I, BYTE, Immediate.BYTE, InputOutput::out));
        one(0xE7, op("out", I, VARIABLE, Immediate.BYTE, InputOutput::out));
        one(0xE8, op("call", I, STACK, Immediate.FULL, Branches::call).with(Traits.ENDS_BLOCK).translated(Translation.CALL));
        one(0xE9, op("jmp", I, STACK, Immediate.FULL, Branches::jump).with(Traits.ENDS_BLOCK).translated(Translation.JMP));
        one(0xEA, op("jmp", I, VARIABLE, Immediate.FAR_POINTER, Branches::jumpFar).with(Traits.NOT_64 | Traits.ENDS_BLOCK));
        one(0xEB, op("jmp", I, STACK, Immediate.BYTE, Branches::jump).with(Traits.ENDS_BLOCK).translated(Translation.JMP));
        one(0xEC, op("in", NONE, BYTE, InputOutput::inDx));
        one(0xED, op("in", InputOutput::inDx));
        one(0xEE, op("out", NONE, BYTE, InputOutput::outDx));
        one(0xEF, op("out", InputOutput::outDx));
        one(0xF1, op("int1", SystemInstructions::debugTrap).with(Traits.ENDS_BLOCK));
        one(0xF4, op("hlt", SystemInstructions::halt).with(Traits.ENDS_BLOCK));
        one(0xF5, op("cmc", SystemInstructions::complementCarry));
        one(0xF6, group(op("test", E_I, BYTE, Immediate.BYTE, Logic::test).translated(Translation.TEST),
                op("test", E_I, BYTE, Immediate.BYTE, Logic::test).translated(Translation.TEST),
                op("not", E, BYTE, Logic::not).translated(Translation.NOT), op("neg", E, BYTE, Arithmetic::neg).translated(Translation.NEG),
                op("mul", E, BYTE, Arithmetic::mul), op("imul", E, BYTE, Arithmetic::imul),
                op("div", E, BYTE, Arithmetic::div), op("idiv", E, BYTE, Arithmetic::idiv)));
        one(0xF7, group(op("test", E_I, VARIABLE, Immediate.FULL, Logic::test).translated(Translation.TEST),
                op("test", E_I, VARIABLE, Immediate.FULL, Logic::test).translated(Translation.TEST),
                op("not", E, VARIABLE, Logic::not).translated(Translation.NOT), op("neg", E, VARIABLE, Arithmetic::neg).translated(Translation.NEG),
                op("mul", E, VARIABLE, Arithmetic::mul), op("imul", E, VARIABLE, Arithmetic::imul),
                op("div", E, VARIABLE, Arithmetic::div), op("idiv", E, VARIABLE, Arithmetic::idiv)));
        one(0xF8, op("clc", SystemInstructions::clearCarry));
        one(0xF9, op("stc", SystemInstructions::setCarry));
        one(0xFA, op("cli", SystemInstructions::clearInterruptFlag));
        one(0xFB, op("sti", SystemInstructions::setInterruptFlag).with(Traits.ENDS_BLOCK));
        one(0xFC, op("cld", SystemInstructions::clearDirection));
        one(0xFD, op("std", SystemInstructions::setDirection));
        one(0xFE, group(op("inc", E, BYTE, Arithmetic::inc).translated(Translation.INC), op("dec", E, BYTE, Arithmetic::dec).translated(Translation.DEC),
                null, null, null, null, null, null));
        one(0xFF, group(op("inc", E, VARIABLE, Arithmetic::inc).translated(Translation.INC), op("dec", E, VARIABLE, Arithmetic::dec).translated(Translation.DEC),
                op("call", E, STACK, Branches::callIndirect).with(Traits.ENDS_BLOCK).translated(Translation.CALL_INDIRECT), new ByMod(op("callf", E, VARIABLE, Branches::callFarIndirect).with(Traits.ENDS_BLOCK), null),
                op("jmp", E, STACK, Branches::jumpIndirect).with(Traits.ENDS_BLOCK).translated(Translation.JMP_INDIRECT), new ByMod(op("jmpf", E, VARIABLE, Branches::jumpFarIndirect).with(Traits.ENDS_BLOCK), null),
                op("push", E, STACK, Stack::push).translated(Translation.PUSH), null));
        slots[ONE_BYTE][PREFIX_F3][0x90] = op("pause", SystemInstructions::pause);
    }

    private void twoByteMap() {
        Opcode sgdt = op("sgdt", E, VARIABLE, SystemInstructions::storeGdt);
        Opcode sidt = op("sidt", E, VARIABLE, SystemInstructions::storeIdt);
        Opcode lgdt = op("lgdt", E, VARIABLE, SystemInstructions::loadGdt);
        Opcode lidt = op("lidt", E, VARIABLE, SystemInstructions::loadIdt);
        two(0x00, group(op("sldt", E, WORD, SystemInstructions::storeLdtr), op("str", E, WORD, SystemInstructions::storeTaskRegister),
                op("lldt", E, WORD, SystemInstructions::loadLdtr), op("ltr", E, WORD, SystemInstructions::loadTaskRegister),
                op("verr", E, WORD, DescriptorChecks::verifyRead), op("verw", E, WORD, DescriptorChecks::verifyWrite), null, null));
        two(0x01, group(new ByMod(sgdt, null), new ByMod(sidt, null), new ByMod(lgdt, null), new ByMod(lidt, null),
                op("smsw", E, VARIABLE, SystemInstructions::storeMachineStatus), null,
                op("lmsw", E, WORD, SystemInstructions::loadMachineStatus).with(Traits.ENDS_BLOCK),
                new ByMod(op("invlpg", E, VARIABLE, SystemInstructions::invalidatePage).with(Traits.ENDS_BLOCK),
                        byRm(op("swapgs", SystemInstructions::swapGs).with(Traits.ONLY_64), op("rdtscp", SystemInstructions::readTimeStampAndAux),
                                null, null, null, null, null, null))));
        two(0x02, op("lar", G_E, VARIABLE, DescriptorChecks::loadAccessRights).with(Traits.RM_WORD));
        two(0x03, op("lsl", G_E, VARIABLE, DescriptorChecks::loadSegmentLimit).with(Traits.RM_WORD));
        two(0x05, op("syscall", SystemInstructions::syscall).with(Traits.ENDS_BLOCK));
        two(0x06, op("clts", SystemInstructions::clearTaskSwitched).with(Traits.ENDS_BLOCK));
        two(0x07, op("sysret", SystemInstructions::sysret).with(Traits.ENDS_BLOCK));
        two(0x08, op("invd", SystemInstructions::nop));
        two(0x09, op("wbinvd", SystemInstructions::nop));
        two(0x0B, op("ud2", SystemInstructions::undefined));
        two(0x0D, op("prefetch", E, VARIABLE, SystemInstructions::nop).translated(Translation.NOP));
        for (int hint = 0x18; hint <= 0x1F; hint++) {
            two(hint, op("nop", E, VARIABLE, SystemInstructions::nop).translated(Translation.NOP));
        }
        two(0x20, op("mov", E_G, VARIABLE, SystemInstructions::movFromControl));
        two(0x21, op("mov", E_G, VARIABLE, SystemInstructions::movFromDebug));
        two(0x22, op("mov", G_E, VARIABLE, SystemInstructions::movToControl).with(Traits.ENDS_BLOCK));
        two(0x23, op("mov", G_E, VARIABLE, SystemInstructions::movToDebug).with(Traits.ENDS_BLOCK));
        two(0x30, op("wrmsr", SystemInstructions::writeMsr).with(Traits.ENDS_BLOCK));
        two(0x31, op("rdtsc", SystemInstructions::readTimeStamp));
        two(0x32, op("rdmsr", SystemInstructions::readMsr));
        for (int cc = 0; cc < 16; cc++) {
            two(0x40 + cc, op("cmovcc", G_E, VARIABLE, Moves::moveIf).translated(Translation.CMOV));
            two(0x80 + cc, op("jcc", I, STACK, Immediate.FULL, Branches::jumpIf).translated(Translation.JCC));
            two(0x90 + cc, op("setcc", E, BYTE, Moves::setIf).translated(Translation.SET));
        }
        two(0xA0, op("push", NONE, STACK, Stack::pushSegment).withArgument(4));
        two(0xA1, op("pop", NONE, STACK, Stack::popSegment).withArgument(4).with(Traits.ENDS_BLOCK));
        two(0xA2, op("cpuid", SystemInstructions::cpuid));
        two(0xA3, op("bt", E_G, VARIABLE, Bits::test));
        two(0xA4, op("shld", E_G_I, VARIABLE, Immediate.BYTE, Shifts::shldByImmediate));
        two(0xA5, op("shld", E_G_CL, VARIABLE, Shifts::shldByCl));
        two(0xA8, op("push", NONE, STACK, Stack::pushSegment).withArgument(5));
        two(0xA9, op("pop", NONE, STACK, Stack::popSegment).withArgument(5).with(Traits.ENDS_BLOCK));
        two(0xAB, op("bts", E_G, VARIABLE, Bits::testAndSet));
        two(0xAC, op("shrd", E_G_I, VARIABLE, Immediate.BYTE, Shifts::shrdByImmediate));
        two(0xAD, op("shrd", E_G_CL, VARIABLE, Shifts::shrdByCl));
        // 0F AE: FXSAVE & co. with memory; the register forms are fences.
        Slot fence = op("fence", SystemInstructions::nop);
        two(0xAE, group(new ByMod(op("fxsave", E, SIMD, FpuEnvironment::saveFullState).with(Traits.FXSR | Traits.ALIGNED), null),
                new ByMod(op("fxrstor", E, SIMD, FpuEnvironment::restoreFullState).with(Traits.FXSR | Traits.ALIGNED), null),
                new ByMod(op("ldmxcsr", E, SIMD, FpuEnvironment::loadMxcsr).with(Traits.SSE), null),
                new ByMod(op("stmxcsr", E, SIMD, FpuEnvironment::storeMxcsr).with(Traits.SSE), null),
                null, new ByMod(null, fence), new ByMod(null, fence),
                new ByMod(op("clflush", E, BYTE, SystemInstructions::nop), fence)));
        two(0xAF, op("imul", G_E, VARIABLE, Arithmetic::imulRegister).translated(Translation.IMUL));
        two(0xB0, op("cmpxchg", E_G, BYTE, Arithmetic::compareExchange));
        two(0xB1, op("cmpxchg", E_G, VARIABLE, Arithmetic::compareExchange));
        two(0xB3, op("btr", E_G, VARIABLE, Bits::testAndReset));
        two(0xB6, op("movzx", G_E, VARIABLE, Moves::movzx).with(Traits.RM_BYTE).translated(Translation.MOVZX));
        two(0xB7, op("movzx", G_E, VARIABLE, Moves::movzx).with(Traits.RM_WORD).translated(Translation.MOVZX));
        two(0xB9, op("ud1", G_E, VARIABLE, SystemInstructions::undefined));
        two(0xBA, group(null, null, null, null,
                op("bt", E_I, VARIABLE, Immediate.BYTE, Bits::test), op("bts", E_I, VARIABLE, Immediate.BYTE, Bits::testAndSet),
                op("btr", E_I, VARIABLE, Immediate.BYTE, Bits::testAndReset), op("btc", E_I, VARIABLE, Immediate.BYTE, Bits::testAndComplement)));
        two(0xBB, op("btc", E_G, VARIABLE, Bits::testAndComplement));
        two(0xBC, op("bsf", G_E, VARIABLE, Bits::scanForward));
        two(0xBD, op("bsr", G_E, VARIABLE, Bits::scanReverse));
        two(0xBE, op("movsx", G_E, VARIABLE, Moves::movsx).with(Traits.RM_BYTE).translated(Translation.MOVSX));
        two(0xBF, op("movsx", G_E, VARIABLE, Moves::movsx).with(Traits.RM_WORD).translated(Translation.MOVSX));
        two(0xC0, op("xadd", E_G, BYTE, Arithmetic::exchangeAdd));
        two(0xC1, op("xadd", E_G, VARIABLE, Arithmetic::exchangeAdd));
        two(0xC7, group(null, new ByMod(op("cmpxchg8b", E, VARIABLE, Arithmetic::compareExchangeDouble), null),
                null, null, null, null, new ByMod(null, op("rdrand", E, VARIABLE, SystemInstructions::readRandom)),
                new ByMod(null, op("rdpid", E, STACK, SystemInstructions::readProcessorId))));
        for (int r = 0; r < 8; r++) {
            two(0xC8 + r, op("bswap", Z, VARIABLE, Bits::byteSwap));
        }
        slots[TWO_BYTE][PREFIX_F3][0xB8] = op("popcnt", G_E, VARIABLE, Bits::populationCount);
        // F3 0F BC is TZCNT only with BMI1, which this core does not have: it runs as BSF.
        slots[TWO_BYTE][PREFIX_F3][0xBD] = op("lzcnt", G_E, VARIABLE, Bits::countLeadingZeros);
    }

    // ---- the x87 (D8-DF) ------------------------------------------------------------------------

    /** An x87 computational instruction; its argument keeps the opcode's low bits for the last-opcode register. */
    private static Opcode x87(String mnemonic, int opcode, Operation operation, int extra) {
        return x87(mnemonic, opcode, operation, extra, Traits.X87);
    }

    private static Opcode x87(String mnemonic, int opcode, Operation operation, int extra, int traits) {
        return new Opcode(mnemonic, E, VARIABLE, Immediate.NONE, operation, (opcode & 7) | extra << 3, traits, Translation.NONE);
    }

    private static Opcode x87Control(String mnemonic, int opcode, Operation operation, int extra) {
        return x87(mnemonic, opcode, operation, extra, Traits.X87_CONTROL);
    }

    private static Opcode x87NoWait(String mnemonic, int opcode, Operation operation) {
        return x87(mnemonic, opcode, operation, 0, Traits.X87_NO_WAIT);
    }

    private void x87Map() {
        String[] realNames = {"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"};
        String[] integerNames = {"fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr"};
        String[] intoOtherNames = {"fadd", "fmul", "fcom", "fcomp", "fsubr", "fsub", "fdivr", "fdiv"};
        String[] poppingNames = {"faddp", "fmulp", "fcomp", "fcompp", "fsubrp", "fsubp", "fdivrp", "fdivp"};
        String[] moveNames = {"fcmovb", "fcmove", "fcmovbe", "fcmovu"};
        int[] memoryOpcodes = {0xD8, 0xDA, 0xDC, 0xDE};
        for (int opcode : memoryOpcodes) {
            Slot[] memory = new Slot[8];
            for (int r = 0; r < 8; r++) {
                memory[r] = x87((opcode & 2) != 0 ? integerNames[r] : realNames[r], opcode, X87Arithmetic::withMemory, 0);
            }
            Slot[] register = new Slot[8];
            for (int r = 0; r < 8; r++) {
                register[r] = switch (opcode) {
                    case 0xD8 -> r == 2 || r == 3 ? x87(realNames[r], opcode, X87Arithmetic::compare, r - 2)
                            : x87(realNames[r], opcode, X87Arithmetic::withRegister, 0);
                    case 0xDC -> r == 2 || r == 3 ? x87(intoOtherNames[r], opcode, X87Arithmetic::compare, r - 2)
                            : x87(intoOtherNames[r], opcode, X87Arithmetic::withRegister, 0);
                    case 0xDE -> r == 2 ? x87(poppingNames[r], opcode, X87Arithmetic::compare, 1)
                            : r == 3 ? byRm(null, x87("fcompp", opcode, X87Arithmetic::compare, 2), null, null, null, null, null, null)
                            : x87(poppingNames[r], opcode, X87Arithmetic::withRegister, 0);
                    default -> r < 4 ? x87(moveNames[r], opcode, X87Transfers::moveIf, 0)
                            : r == 5 ? byRm(null, x87("fucompp", opcode, X87Arithmetic::compare, 2 | X87Arithmetic.QUIET),
                            null, null, null, null, null, null) : null;
                };
            }
            one(opcode, new ByMod(group(memory), group(register)));
        }

        int single = SoftFloat.SINGLE;
        int extended = SoftFloat.EXTENDED;
        int pop = X87Transfers.POP;
        one(0xD9, new ByMod(
                group(x87("fld", 0xD9, X87Transfers::loadReal, single), null,
                        x87("fst", 0xD9, X87Transfers::storeReal, single), x87("fstp", 0xD9, X87Transfers::storeReal, single | pop),
                        x87Control("fldenv", 0xD9, FpuEnvironment::loadEnvironment, 0),
                        x87Control("fldcw", 0xD9, FpuEnvironment::loadControl, 0),
                        x87NoWait("fnstenv", 0xD9, FpuEnvironment::storeEnvironment),
                        x87NoWait("fnstcw", 0xD9, FpuEnvironment::storeControl)),
                group(x87("fld", 0xD9, X87Transfers::loadRegister, 0), x87("fxch", 0xD9, X87Transfers::exchange, 0),
                        byRm(x87Control("fnop", 0xD9, SystemInstructions::nop, 0), null, null, null, null, null, null, null),
                        x87("fstp1", 0xD9, X87Transfers::storeRegister, pop),
                        byRm(x87("fchs", 0xD9, X87Arithmetic::changeSign, 0), x87("fabs", 0xD9, X87Arithmetic::absolute, 0),
                                null, null, x87("ftst", 0xD9, X87Arithmetic::test, 0), x87("fxam", 0xD9, X87Arithmetic::examine, 0),
                                null, null),
                        byRm(x87("fld1", 0xD9, X87Transfers::loadConstant, 0), x87("fldl2t", 0xD9, X87Transfers::loadConstant, 1),
                                x87("fldl2e", 0xD9, X87Transfers::loadConstant, 2), x87("fldpi", 0xD9, X87Transfers::loadConstant, 3),
                                x87("fldlg2", 0xD9, X87Transfers::loadConstant, 4), x87("fldln2", 0xD9, X87Transfers::loadConstant, 5),
                                x87("fldz", 0xD9, X87Transfers::loadConstant, 6), null),
                        byRm(x87("f2xm1", 0xD9, X87Transcendentals::exponentMinusOne, 0),
                                x87("fyl2x", 0xD9, X87Transcendentals::logarithm, 0),
                                x87("fptan", 0xD9, X87Transcendentals::tangent, 0),
                                x87("fpatan", 0xD9, X87Transcendentals::arctangent, 0),
                                x87("fxtract", 0xD9, X87Arithmetic::extract, 0),
                                x87("fprem1", 0xD9, X87Arithmetic::partialRemainder, X87Arithmetic.NEAREST),
                                x87Control("fdecstp", 0xD9, X87Transfers::decrementTop, 0),
                                x87Control("fincstp", 0xD9, X87Transfers::incrementTop, 0)),
                        byRm(x87("fprem", 0xD9, X87Arithmetic::partialRemainder, 0),
                                x87("fyl2xp1", 0xD9, X87Transcendentals::logarithmOfOnePlus, 0),
                                x87("fsqrt", 0xD9, X87Arithmetic::squareRoot, 0),
                                x87("fsincos", 0xD9, X87Transcendentals::sineAndCosine, 0),
                                x87("frndint", 0xD9, X87Arithmetic::roundToInteger, 0),
                                x87("fscale", 0xD9, X87Arithmetic::scale, 0),
                                x87("fsin", 0xD9, X87Transcendentals::trigonometric, X87Transcendentals.SINE),
                                x87("fcos", 0xD9, X87Transcendentals::trigonometric, X87Transcendentals.COSINE)))));

        int size16 = 0;
        int size32 = 1;
        int size64 = 2;
        int truncate = X87Transfers.TRUNCATE;
        Slot nothing = x87NoWait("fnop", 0xDB, SystemInstructions::nop);
        one(0xDB, new ByMod(
                group(x87("fild", 0xDB, X87Transfers::loadInteger, size32),
                        x87("fisttp", 0xDB, X87Transfers::storeInteger, size32 | pop | truncate),
                        x87("fist", 0xDB, X87Transfers::storeInteger, size32), x87("fistp", 0xDB, X87Transfers::storeInteger, size32 | pop),
                        null, x87("fld", 0xDB, X87Transfers::loadReal, extended), null,
                        x87("fstp", 0xDB, X87Transfers::storeReal, extended | pop)),
                group(x87("fcmovnb", 0xDB, X87Transfers::moveIf, 0), x87("fcmovne", 0xDB, X87Transfers::moveIf, 0),
                        x87("fcmovnbe", 0xDB, X87Transfers::moveIf, 0), x87("fcmovnu", 0xDB, X87Transfers::moveIf, 0),
                        // FNENI, FNDISI and FNSETPM meant something to the 8087 and 287 only.
                        byRm(nothing, nothing, x87NoWait("fnclex", 0xDB, FpuEnvironment::clearExceptions),
                                x87NoWait("fninit", 0xDB, FpuEnvironment::initialize), nothing, null, null, null),
                        x87("fucomi", 0xDB, X87Arithmetic::compare, X87Arithmetic.QUIET | X87Arithmetic.TO_EFLAGS),
                        x87("fcomi", 0xDB, X87Arithmetic::compare, X87Arithmetic.TO_EFLAGS), null)));

        int doubleFormat = SoftFloat.DOUBLE;
        one(0xDD, new ByMod(
                group(x87("fld", 0xDD, X87Transfers::loadReal, doubleFormat),
                        x87("fisttp", 0xDD, X87Transfers::storeInteger, size64 | pop | truncate),
                        x87("fst", 0xDD, X87Transfers::storeReal, doubleFormat),
                        x87("fstp", 0xDD, X87Transfers::storeReal, doubleFormat | pop),
                        x87Control("frstor", 0xDD, FpuEnvironment::restoreX87State, 0), null,
                        x87NoWait("fnsave", 0xDD, FpuEnvironment::saveX87State),
                        x87NoWait("fnstsw", 0xDD, FpuEnvironment::storeStatus)),
                group(x87Control("ffree", 0xDD, X87Transfers::free, 0), x87("fxch4", 0xDD, X87Transfers::exchange, 0),
                        x87("fst", 0xDD, X87Transfers::storeRegister, 0), x87("fstp", 0xDD, X87Transfers::storeRegister, pop),
                        x87("fucom", 0xDD, X87Arithmetic::compare, X87Arithmetic.QUIET),
                        x87("fucomp", 0xDD, X87Arithmetic::compare, X87Arithmetic.QUIET | 1), null, null)));

        one(0xDF, new ByMod(
                group(x87("fild", 0xDF, X87Transfers::loadInteger, size16),
                        x87("fisttp", 0xDF, X87Transfers::storeInteger, size16 | pop | truncate),
                        x87("fist", 0xDF, X87Transfers::storeInteger, size16), x87("fistp", 0xDF, X87Transfers::storeInteger, size16 | pop),
                        x87("fbld", 0xDF, X87Transfers::loadDecimal, 0), x87("fild", 0xDF, X87Transfers::loadInteger, size64),
                        x87("fbstp", 0xDF, X87Transfers::storeDecimal, 0), x87("fistp", 0xDF, X87Transfers::storeInteger, size64 | pop)),
                group(x87Control("ffreep", 0xDF, X87Transfers::free, pop), x87("fxch7", 0xDF, X87Transfers::exchange, 0),
                        x87("fstp8", 0xDF, X87Transfers::storeRegister, pop), x87("fstp9", 0xDF, X87Transfers::storeRegister, pop),
                        byRm(x87NoWait("fnstsw", 0xDF, FpuEnvironment::storeStatusToAx), null, null, null, null, null, null, null),
                        x87("fucomip", 0xDF, X87Arithmetic::compare, X87Arithmetic.QUIET | X87Arithmetic.TO_EFLAGS | 1),
                        x87("fcomip", 0xDF, X87Arithmetic::compare, X87Arithmetic.TO_EFLAGS | 1), null)));
    }

    // ---- MMX, SSE and SSE2 (0F with mandatory prefixes) -------------------------------------------

    /** An opcode told apart by its mandatory prefix: the four columns (null: #UD), with no fallback. */
    private void vector(int opcode, Slot none, Slot operandSize, Slot repeat, Slot repeatNot) {
        slots[TWO_BYTE][PREFIX_NONE][opcode] = none;
        slots[TWO_BYTE][PREFIX_66][opcode] = operandSize;
        slots[TWO_BYTE][PREFIX_F3][opcode] = repeat;
        slots[TWO_BYTE][PREFIX_F2][opcode] = repeatNot;
        byPrefix[TWO_BYTE][opcode] = true;
    }

    private static Opcode sse(String mnemonic, Form form, Operation operation, int argument) {
        return new Opcode(mnemonic, form, SIMD, Immediate.NONE, operation, argument, Traits.SSE, Translation.NONE);
    }

    /** An SSE instruction whose 128-bit memory operand must be aligned. */
    private static Opcode aligned(String mnemonic, Form form, Operation operation, int argument) {
        return sse(mnemonic, form, operation, argument).with(Traits.ALIGNED);
    }

    private static Opcode mmx(String mnemonic, Form form, Operation operation, int argument) {
        return new Opcode(mnemonic, form, SIMD, Immediate.NONE, operation, argument, Traits.MMX, Translation.NONE);
    }

    private static Opcode withImmediate(Opcode opcode) {
        return new Opcode(opcode.mnemonic(), opcode.form(), opcode.size(), Immediate.BYTE, opcode.operation(),
                opcode.argument(), opcode.traits(), opcode.translation());
    }

    private static ByMod memoryOnly(Slot slot) {
        return new ByMod(slot, null);
    }

    private static ByMod registerOnly(Slot slot) {
        return new ByMod(null, slot);
    }

    /** A row of the tables below: an opcode, its mnemonic (or mnemonic stem) and its argument. */
    private record Row(int opcode, String mnemonic, int argument) {
    }

    private static Row row(int opcode, String mnemonic, int argument) {
        return new Row(opcode, mnemonic, argument);
    }

    /** An integer SIMD instruction: the MMX form without prefix, the SSE2 form with 66. */
    private void integers(int opcode, String mnemonic, Operation mmxForm, Operation xmmForm, int argument) {
        vector(opcode, mmx(mnemonic, G_E, mmxForm, argument), aligned(mnemonic, G_E, xmmForm, argument), null, null);
    }

    private void vectorMap() {
        laneMap();
        floatingPointMap();
        conversionMap();
        moveMap();
    }

    private void laneMap() {
        Row[] lanes = {
                row(0x74, "pcmpeqb", PackedIntegers.EQUAL_BYTES),
                row(0x75, "pcmpeqw", PackedIntegers.EQUAL_WORDS),
                row(0x76, "pcmpeqd", PackedIntegers.EQUAL_DOUBLEWORDS),
                row(0x64, "pcmpgtb", PackedIntegers.GREATER_BYTES),
                row(0x65, "pcmpgtw", PackedIntegers.GREATER_WORDS),
                row(0x66, "pcmpgtd", PackedIntegers.GREATER_DOUBLEWORDS),
                row(0xD4, "paddq", PackedIntegers.ADD_QUADWORDS),
                row(0xD5, "pmullw", PackedIntegers.MULTIPLY_LOW_WORDS),
                row(0xD8, "psubusb", PackedIntegers.SUBTRACT_UNSIGNED_SATURATING_BYTES),
                row(0xD9, "psubusw", PackedIntegers.SUBTRACT_UNSIGNED_SATURATING_WORDS),
                row(0xDA, "pminub", PackedIntegers.MINIMUM_UNSIGNED_BYTES),
                row(0xDB, "pand", PackedIntegers.AND),
                row(0xDC, "paddusb", PackedIntegers.ADD_UNSIGNED_SATURATING_BYTES),
                row(0xDD, "paddusw", PackedIntegers.ADD_UNSIGNED_SATURATING_WORDS),
                row(0xDE, "pmaxub", PackedIntegers.MAXIMUM_UNSIGNED_BYTES),
                row(0xDF, "pandn", PackedIntegers.AND_NOT),
                row(0xE0, "pavgb", PackedIntegers.AVERAGE_BYTES),
                row(0xE3, "pavgw", PackedIntegers.AVERAGE_WORDS),
                row(0xE4, "pmulhuw", PackedIntegers.MULTIPLY_HIGH_UNSIGNED_WORDS),
                row(0xE5, "pmulhw", PackedIntegers.MULTIPLY_HIGH_WORDS),
                row(0xE8, "psubsb", PackedIntegers.SUBTRACT_SIGNED_SATURATING_BYTES),
                row(0xE9, "psubsw", PackedIntegers.SUBTRACT_SIGNED_SATURATING_WORDS),
                row(0xEA, "pminsw", PackedIntegers.MINIMUM_SIGNED_WORDS),
                row(0xEB, "por", PackedIntegers.OR),
                row(0xEC, "paddsb", PackedIntegers.ADD_SIGNED_SATURATING_BYTES),
                row(0xED, "paddsw", PackedIntegers.ADD_SIGNED_SATURATING_WORDS),
                row(0xEE, "pmaxsw", PackedIntegers.MAXIMUM_SIGNED_WORDS),
                row(0xEF, "pxor", PackedIntegers.XOR),
                row(0xF4, "pmuludq", PackedIntegers.MULTIPLY_UNSIGNED_DOUBLEWORDS),
                row(0xF5, "pmaddwd", PackedIntegers.MULTIPLY_ADD_WORDS),
                row(0xF6, "psadbw", PackedIntegers.SUM_ABSOLUTE_DIFFERENCES),
                row(0xF8, "psubb", PackedIntegers.SUBTRACT_BYTES),
                row(0xF9, "psubw", PackedIntegers.SUBTRACT_WORDS),
                row(0xFA, "psubd", PackedIntegers.SUBTRACT_DOUBLEWORDS),
                row(0xFB, "psubq", PackedIntegers.SUBTRACT_QUADWORDS),
                row(0xFC, "paddb", PackedIntegers.ADD_BYTES),
                row(0xFD, "paddw", PackedIntegers.ADD_WORDS),
                row(0xFE, "paddd", PackedIntegers.ADD_DOUBLEWORDS)};
        for (Row lane : lanes) {
            integers(lane.opcode(), lane.mnemonic(), PackedIntegers::lanewiseMmx, PackedIntegers::lanewise, lane.argument());
        }

        int left = PackedIntegers.SHIFT_LEFT;
        int right = PackedIntegers.SHIFT_RIGHT;
        int arithmetic = PackedIntegers.SHIFT_RIGHT_ARITHMETIC;
        Row[] shifts = {
                row(0xD1, "psrlw", PackedIntegers.shift(right, 16)),
                row(0xD2, "psrld", PackedIntegers.shift(right, 32)),
                row(0xD3, "psrlq", PackedIntegers.shift(right, 64)),
                row(0xE1, "psraw", PackedIntegers.shift(arithmetic, 16)),
                row(0xE2, "psrad", PackedIntegers.shift(arithmetic, 32)),
                row(0xF1, "psllw", PackedIntegers.shift(left, 16)),
                row(0xF2, "pslld", PackedIntegers.shift(left, 32)),
                row(0xF3, "psllq", PackedIntegers.shift(left, 64))};
        for (Row shift : shifts) {
            integers(shift.opcode(), shift.mnemonic(), PackedIntegers::shiftByOperandMmx, PackedIntegers::shiftByOperand,
                    shift.argument());
        }
        String[][] names = {{"psrlw", "psraw", "psllw"}, {"psrld", "psrad", "pslld"}, {"psrlq", null, "psllq"}};
        for (int width = 0; width < 3; width++) {
            Slot[] mmxShifts = new Slot[8];
            Slot[] xmmShifts = new Slot[8];
            int[] kinds = {right, arithmetic, left};
            for (int k = 0; k < 3; k++) {
                if (names[width][k] != null) {
                    int argument = PackedIntegers.shift(kinds[k], 16 << width);
                    mmxShifts[2 + 2 * k] = withImmediate(mmx(names[width][k], E_I, PackedIntegers::shiftByImmediateMmx, argument));
                    xmmShifts[2 + 2 * k] = withImmediate(sse(names[width][k], E_I, PackedIntegers::shiftByImmediate, argument));
                }
            }
            if (width == 2) {
                xmmShifts[3] = withImmediate(sse("psrldq", E_I, PackedIntegers::shiftBytes, PackedIntegers.SHIFT_RIGHT));
                xmmShifts[7] = withImmediate(sse("pslldq", E_I, PackedIntegers::shiftBytes, PackedIntegers.SHIFT_LEFT));
            }
            vector(0x71 + width, registerOnly(group(mmxShifts)), registerOnly(group(xmmShifts)), null, null);
        }

        int high = PackedIntegers.UNPACK_HIGH;
        Row[] unpacks = {row(0x60, "punpcklbw", 8), row(0x61, "punpcklwd", 16), row(0x62, "punpckldq", 32),
                row(0x68, "punpckhbw", 8 | high), row(0x69, "punpckhwd", 16 | high), row(0x6A, "punpckhdq", 32 | high)};
        for (Row unpack : unpacks) {
            integers(unpack.opcode(), unpack.mnemonic(), PackedIntegers::unpackMmx, PackedIntegers::unpack, unpack.argument());
        }
        vector(0x6C, null, aligned("punpcklqdq", G_E, PackedIntegers::unpack, 64), null, null);
        vector(0x6D, null, aligned("punpckhqdq", G_E, PackedIntegers::unpack, 64 | high), null, null);
        integers(0x63, "packsswb", PackedIntegers::packMmx, PackedIntegers::pack, PackedIntegers.PACK_SIGNED_WORDS);
        integers(0x67, "packuswb", PackedIntegers::packMmx, PackedIntegers::pack, PackedIntegers.PACK_UNSIGNED_WORDS);
        integers(0x6B, "packssdw", PackedIntegers::packMmx, PackedIntegers::pack, PackedIntegers.PACK_SIGNED_DOUBLEWORDS);

        vector(0x70, withImmediate(mmx("pshufw", G_E, PackedIntegers::shuffleWordsMmx, 0)),
                withImmediate(aligned("pshufd", G_E, PackedIntegers::shuffleDoublewords, 0)),
                withImmediate(aligned("pshufhw", G_E, PackedIntegers::shuffleWords, 1)),
                withImmediate(aligned("pshuflw", G_E, PackedIntegers::shuffleWords, 0)));
        vector(0xC4, withImmediate(mmx("pinsrw", G_E, PackedIntegers::insertWordMmx, 0)),
                withImmediate(sse("pinsrw", G_E, PackedIntegers::insertWord, 0)), null, null);
        vector(0xC5, registerOnly(withImmediate(mmx("pextrw", G_E, PackedIntegers::extractWordMmx, 0))),
                registerOnly(withImmediate(sse("pextrw", G_E, PackedIntegers::extractWord, 0))), null, null);
        vector(0xD7, registerOnly(mmx("pmovmskb", G_E, PackedIntegers::byteMaskMmx, 0)),
                registerOnly(sse("pmovmskb", G_E, PackedIntegers::byteMask, 0)), null, null);
        vector(0x77, mmx("emms", Form.NONE, PackedIntegers::emptyMmxState, 0), null, null, null);
    }

    private void floatingPointMap() {
        int single = SoftFloat.SINGLE;
        int twice = SoftFloat.DOUBLE;
        Row[] arithmetic = {row(0x58, "add", SseFloatingPoint.ADD), row(0x59, "mul", SseFloatingPoint.MULTIPLY),
                row(0x5C, "sub", SseFloatingPoint.SUBTRACT), row(0x5D, "min", SseFloatingPoint.MINIMUM),
                row(0x5E, "div", SseFloatingPoint.DIVIDE), row(0x5F, "max", SseFloatingPoint.MAXIMUM),
                row(0x51, "sqrt", SseFloatingPoint.SQUARE_ROOT)};
        for (Row entry : arithmetic) {
            int op = entry.argument();
            String name = entry.mnemonic();
            vector(entry.opcode(),
                    aligned(name + "ps", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(op, single, true)),
                    aligned(name + "pd", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(op, twice, true)),
                    sse(name + "ss", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(op, single, false)),
                    sse(name + "sd", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(op, twice, false)));
        }
        int compare = SseFloatingPoint.COMPARE;
        vector(0xC2, withImmediate(aligned("cmpps", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(compare, single, true))),
                withImmediate(aligned("cmppd", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(compare, twice, true))),
                withImmediate(sse("cmpss", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(compare, single, false))),
                withImmediate(sse("cmpsd", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(compare, twice, false))));
        int reciprocal = SseFloatingPoint.RECIPROCAL;
        int root = SseFloatingPoint.RECIPROCAL_SQUARE_ROOT;
        vector(0x52, aligned("rsqrtps", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(root, single, true)), null,
                sse("rsqrtss", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(root, single, false)), null);
        vector(0x53, aligned("rcpps", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(reciprocal, single, true)), null,
                sse("rcpss", G_E, SseFloatingPoint::arithmetic, SseFloatingPoint.argument(reciprocal, single, false)), null);
        int signaling = SseFloatingPoint.SIGNALING;
        vector(0x2E, sse("ucomiss", G_E, SseFloatingPoint::compareToFlags, single << 4),
                sse("ucomisd", G_E, SseFloatingPoint::compareToFlags, twice << 4), null, null);
        vector(0x2F, sse("comiss", G_E, SseFloatingPoint::compareToFlags, single << 4 | signaling),
                sse("comisd", G_E, SseFloatingPoint::compareToFlags, twice << 4 | signaling), null, null);

        // The bitwise and the interleaving instructions are the integer ones under other names.
        Row[] logic = {row(0x54, "and", PackedIntegers.AND), row(0x55, "andn", PackedIntegers.AND_NOT),
                row(0x56, "or", PackedIntegers.OR), row(0x57, "xor", PackedIntegers.XOR)};
        for (Row entry : logic) {
            int op = entry.argument();
            vector(entry.opcode(), aligned(entry.mnemonic() + "ps", G_E, PackedIntegers::lanewise, op),
                    aligned(entry.mnemonic() + "pd", G_E, PackedIntegers::lanewise, op), null, null);
        }
        int high = PackedIntegers.UNPACK_HIGH;
        vector(0x14, aligned("unpcklps", G_E, PackedIntegers::unpack, 32), aligned("unpcklpd", G_E, PackedIntegers::unpack, 64), null, null);
        vector(0x15, aligned("unpckhps", G_E, PackedIntegers::unpack, 32 | high),
                aligned("unpckhpd", G_E, PackedIntegers::unpack, 64 | high), null, null);
        vector(0xC6, withImmediate(aligned("shufps", G_E, PackedIntegers::shuffleSingles, 0)),
                withImmediate(aligned("shufpd", G_E, PackedIntegers::shuffleDoubles, 0)), null, null);
    }

    private void conversionMap() {
        int integer = SseConversions.INTEGER;
        int single = SseConversions.SINGLE;
        int twice = SseConversions.DOUBLE;
        int truncate = SseConversions.TRUNCATE;
        int fromMmx = SseConversions.MMX_SOURCE;
        int toMmx = SseConversions.MMX_DESTINATION;
        int merge = SseConversions.MERGE;
        vector(0x5A, sse("cvtps2pd", G_E, SseConversions::convert, SseConversions.lanes(single, twice, 2, 0)),
                aligned("cvtpd2ps", G_E, SseConversions::convert, SseConversions.lanes(twice, single, 2, 0)),
                sse("cvtss2sd", G_E, SseConversions::convert, SseConversions.lanes(single, twice, 1, merge)),
                sse("cvtsd2ss", G_E, SseConversions::convert, SseConversions.lanes(twice, single, 1, merge)));
        vector(0x5B, aligned("cvtdq2ps", G_E, SseConversions::convert, SseConversions.lanes(integer, single, 4, 0)),
                aligned("cvtps2dq", G_E, SseConversions::convert, SseConversions.lanes(single, integer, 4, 0)),
                aligned("cvttps2dq", G_E, SseConversions::convert, SseConversions.lanes(single, integer, 4, truncate)), null);
        vector(0xE6, null, aligned("cvttpd2dq", G_E, SseConversions::convert, SseConversions.lanes(twice, integer, 2, truncate)),
                sse("cvtdq2pd", G_E, SseConversions::convert, SseConversions.lanes(integer, twice, 2, 0)),
                aligned("cvtpd2dq", G_E, SseConversions::convert, SseConversions.lanes(twice, integer, 2, 0)));
        vector(0x2A, sse("cvtpi2ps", G_E, SseConversions::convert, SseConversions.lanes(integer, single, 2, fromMmx | merge))
                        .with(Traits.MMX),
                sse("cvtpi2pd", G_E, SseConversions::convert, SseConversions.lanes(integer, twice, 2, fromMmx)).with(Traits.MMX),
                sse("cvtsi2ss", G_E, SseConversions::fromInteger, single),
                sse("cvtsi2sd", G_E, SseConversions::fromInteger, twice));
        for (int rounding = 0; rounding < 2; rounding++) {
            int how = rounding == 0 ? truncate : 0;
            String t = rounding == 0 ? "t" : "";
            vector(0x2C + rounding,
                    sse("cvt" + t + "ps2pi", G_E, SseConversions::convert, SseConversions.lanes(single, integer, 2, toMmx | how))
                            .with(Traits.MMX),
                    aligned("cvt" + t + "pd2pi", G_E, SseConversions::convert, SseConversions.lanes(twice, integer, 2, toMmx | how))
                            .with(Traits.MMX),
                    sse("cvt" + t + "ss2si", G_E, SseConversions::toInteger, single | how),
                    sse("cvt" + t + "sd2si", G_E, SseConversions::toInteger, twice | how));
        }
    }

    private void moveMap() {
        vector(0x10, sse("movups", G_E, SseMoves::load, 0), sse("movupd", G_E, SseMoves::load, 0),
                sse("movss", G_E, SseMoves::loadScalar, 4), sse("movsd", G_E, SseMoves::loadScalar, 8));
        vector(0x11, sse("movups", E_G, SseMoves::store, 0), sse("movupd", E_G, SseMoves::store, 0),
                sse("movss", E_G, SseMoves::storeScalar, 4), sse("movsd", E_G, SseMoves::storeScalar, 8));
        vector(0x12, new ByMod(sse("movlps", G_E, SseMoves::loadHalf, 0), sse("movhlps", G_E, SseMoves::moveHalf, 0)),
                memoryOnly(sse("movlpd", G_E, SseMoves::loadHalf, 0)), null, null);
        vector(0x13, memoryOnly(sse("movlps", E_G, SseMoves::storeHalf, 0)), memoryOnly(sse("movlpd", E_G, SseMoves::storeHalf, 0)),
                null, null);
        vector(0x16, new ByMod(sse("movhps", G_E, SseMoves::loadHalf, 1), sse("movlhps", G_E, SseMoves::moveHalf, 1)),
                memoryOnly(sse("movhpd", G_E, SseMoves::loadHalf, 1)), null, null);
        vector(0x17, memoryOnly(sse("movhps", E_G, SseMoves::storeHalf, 1)), memoryOnly(sse("movhpd", E_G, SseMoves::storeHalf, 1)),
                null, null);
        vector(0x28, aligned("movaps", G_E, SseMoves::load, 0), aligned("movapd", G_E, SseMoves::load, 0), null, null);
        vector(0x29, aligned("movaps", E_G, SseMoves::store, 0), aligned("movapd", E_G, SseMoves::store, 0), null, null);
        vector(0x2B, memoryOnly(aligned("movntps", E_G, SseMoves::store, 0)), memoryOnly(aligned("movntpd", E_G, SseMoves::store, 0)),
                null, null);
        vector(0x50, registerOnly(sse("movmskps", G_E, SseMoves::signMask, 32)), registerOnly(sse("movmskpd", G_E, SseMoves::signMask, 64)),
                null, null);
        vector(0x6E, mmx("movd", G_E, SseMoves::toMmx, 0), sse("movd", G_E, SseMoves::toXmm, 0), null, null);
        vector(0x7E, mmx("movd", E_G, SseMoves::fromMmx, 0), sse("movd", E_G, SseMoves::fromXmm, 0),
                sse("movq", G_E, SseMoves::loadQuadword, 0), null);
        vector(0x6F, mmx("movq", G_E, SseMoves::loadMmx, 0), aligned("movdqa", G_E, SseMoves::load, 0),
                sse("movdqu", G_E, SseMoves::load, 0), null);
        vector(0x7F, mmx("movq", E_G, SseMoves::storeMmx, 0), aligned("movdqa", E_G, SseMoves::store, 0),
                sse("movdqu", E_G, SseMoves::store, 0), null);
        vector(0xD6, null, sse("movq", E_G, SseMoves::storeQuadword, 0),
                registerOnly(sse("movq2dq", G_E, SseMoves::mmxToXmm, 0).with(Traits.MMX)),
                registerOnly(sse("movdq2q", G_E, SseMoves::xmmToMmx, 0).with(Traits.MMX)));
        vector(0xE7, memoryOnly(mmx("movntq", E_G, SseMoves::storeMmx, 0)), memoryOnly(aligned("movntdq", E_G, SseMoves::store, 0)),
                null, null);
        vector(0xF7, registerOnly(mmx("maskmovq", G_E, SseMoves::maskedStoreMmx, 0)),
                registerOnly(sse("maskmovdqu", G_E, SseMoves::maskedStore, 0)), null, null);
        // MOVNTI works on general registers: no SSE state, so none of its checks.
        vector(0xC3, memoryOnly(op("movnti", E_G, SIMD, SseMoves::storeInteger)), null, null, null);
    }
}
