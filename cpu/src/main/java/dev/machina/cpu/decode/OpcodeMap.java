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
import dev.machina.cpu.execute.InputOutput;
import dev.machina.cpu.execute.Logic;
import dev.machina.cpu.execute.Moves;
import dev.machina.cpu.execute.Shifts;
import dev.machina.cpu.execute.Stack;
import dev.machina.cpu.execute.Strings;
import dev.machina.cpu.execute.SystemInstructions;

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
import static dev.machina.cpu.decode.Size.STACK;
import static dev.machina.cpu.decode.Size.VARIABLE;
import static dev.machina.cpu.decode.Size.WORD;

/**
 * The x86 opcode map as data, in the manner of QEMU's decode tables: every instruction is
 * described once, here, by its opcode, operand form, size rule, immediate and the family method
 * that executes it. Four maps (one-byte, 0F, 0F 38, 0F 3A) each have four columns for the
 * mandatory prefix (none, 66, F3, F2) that SSE opcodes are told apart by; an integer opcode sits
 * in the "none" column and is found whatever prefix precedes it.
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

    public static OpcodeMap instance() {
        return INSTANCE;
    }

    /** The slot for {@code opcode} in {@code map} under mandatory prefix {@code prefix}, or null (#UD). */
    public Slot lookup(int map, int prefix, int opcode) {
        Slot slot = slots[map][prefix][opcode];
        return slot != null ? slot : slots[map][PREFIX_NONE][opcode];
    }

    private OpcodeMap() {
        oneByteMap();
        twoByteMap();
    }

    private static Opcode op(String mnemonic, Form form, Size size, Immediate immediate, Operation operation) {
        return new Opcode(mnemonic, form, size, immediate, operation, -1, 0);
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
        Slot[] aluByte = new Slot[8];
        Slot[] aluFull = new Slot[8];
        Slot[] aluSigned = new Slot[8];
        for (int i = 0; i < 8; i++) {
            int base = i * 8;
            one(base, op(aluNames[i], E_G, BYTE, alu[i]));
            one(base + 1, op(aluNames[i], E_G, VARIABLE, alu[i]));
            one(base + 2, op(aluNames[i], G_E, BYTE, alu[i]));
            one(base + 3, op(aluNames[i], G_E, VARIABLE, alu[i]));
            one(base + 4, op(aluNames[i], A_I, BYTE, Immediate.BYTE, alu[i]));
            one(base + 5, op(aluNames[i], A_I, VARIABLE, Immediate.FULL, alu[i]));
            aluByte[i] = op(aluNames[i], E_I, BYTE, Immediate.BYTE, alu[i]);
            aluFull[i] = op(aluNames[i], E_I, VARIABLE, Immediate.FULL, alu[i]);
            aluSigned[i] = op(aluNames[i], E_I, VARIABLE, Immediate.BYTE, alu[i]);
        }
        one(0x80, group(aluByte));
        one(0x81, group(aluFull));
        one(0x82, group(Arrays.stream(aluByte).map(s -> ((Opcode) s).with(Traits.NOT_64)).toArray(Slot[]::new)));
        one(0x83, group(aluSigned));

        for (int segment : new int[] {0, 1, 2, 3}) {
            one(0x06 + segment * 8, op("push", NONE, STACK, Stack::pushSegment).withArgument(segment).with(Traits.NOT_64));
            if (segment != 1) {
                one(0x07 + segment * 8, op("pop", NONE, STACK, Stack::popSegment).withArgument(segment).with(Traits.NOT_64));
            }
        }
        for (int r = 0; r < 8; r++) {
            one(0x40 + r, op("inc", Z, VARIABLE, Arithmetic::inc).with(Traits.NOT_64));
            one(0x48 + r, op("dec", Z, VARIABLE, Arithmetic::dec).with(Traits.NOT_64));
            one(0x50 + r, op("push", Z, STACK, Stack::push));
            one(0x58 + r, op("pop", Z, STACK, Stack::pop));
            one(0x90 + r, op("xchg", Z, VARIABLE, Moves::exchangeAccumulator));
            one(0xB0 + r, op("mov", Z_I, BYTE, Immediate.BYTE, Moves::mov));
            one(0xB8 + r, op("mov", Z_I, VARIABLE, Immediate.WIDE, Moves::mov));
        }
        one(0x60, op("pusha", Stack::pushAll).with(Traits.NOT_64));
        one(0x61, op("popa", Stack::popAll).with(Traits.NOT_64));
        one(0x63, op("movsxd", G_E, VARIABLE, Moves::movsxd).with(Traits.ONLY_64));
        one(0x68, op("push", I, STACK, Immediate.FULL, Stack::push));
        one(0x69, op("imul", G_E_I, VARIABLE, Immediate.FULL, Arithmetic::imulImmediate));
        one(0x6A, op("push", I, STACK, Immediate.BYTE, Stack::push));
        one(0x6B, op("imul", G_E_I, VARIABLE, Immediate.BYTE, Arithmetic::imulImmediate));
        one(0x6C, op("ins", NONE, BYTE, Strings::ins));
        one(0x6D, op("ins", Strings::ins));
        one(0x6E, op("outs", NONE, BYTE, Strings::outs));
        one(0x6F, op("outs", Strings::outs));
        for (int cc = 0; cc < 16; cc++) {
            one(0x70 + cc, op("jcc", I, STACK, Immediate.BYTE, Branches::jumpIf));
        }
        one(0x84, op("test", E_G, BYTE, Logic::test));
        one(0x85, op("test", E_G, VARIABLE, Logic::test));
        one(0x86, op("xchg", E_G, BYTE, Moves::exchange).with(Traits.IMPLICIT_LOCK));
        one(0x87, op("xchg", E_G, VARIABLE, Moves::exchange).with(Traits.IMPLICIT_LOCK));
        one(0x88, op("mov", E_G, BYTE, Moves::mov));
        one(0x89, op("mov", E_G, VARIABLE, Moves::mov));
        one(0x8A, op("mov", G_E, BYTE, Moves::mov));
        one(0x8B, op("mov", G_E, VARIABLE, Moves::mov));
        one(0x8C, op("mov", E_G, VARIABLE, Moves::movFromSegment));
        one(0x8D, new ByMod(op("lea", G_E, VARIABLE, Moves::lea), null));
        one(0x8E, op("mov", G_E, WORD, Moves::movToSegment));
        one(0x8F, group(op("pop", E, STACK, Stack::pop), null, null, null, null, null, null, null));
        one(0x98, op("cbw", Arithmetic::widenAccumulator));
        one(0x99, op("cwd", Arithmetic::splitAccumulator));
        one(0x9A, op("call", I, VARIABLE, Immediate.FAR_POINTER, Branches::callFar).with(Traits.NOT_64));
        one(0x9B, op("fwait", SystemInstructions::nop));
        one(0x9C, op("pushf", NONE, STACK, Stack::pushFlags));
        one(0x9D, op("popf", NONE, STACK, Stack::popFlags));
        one(0x9E, op("sahf", SystemInstructions::storeFlagsFromAh));
        one(0x9F, op("lahf", SystemInstructions::loadFlagsIntoAh));
        one(0xA0, op("mov", A_O, BYTE, Immediate.OFFSET, Moves::mov));
        one(0xA1, op("mov", A_O, VARIABLE, Immediate.OFFSET, Moves::mov));
        one(0xA2, op("mov", O_A, BYTE, Immediate.OFFSET, Moves::mov));
        one(0xA3, op("mov", O_A, VARIABLE, Immediate.OFFSET, Moves::mov));
        one(0xA4, op("movs", NONE, BYTE, Strings::movs));
        one(0xA5, op("movs", Strings::movs));
        one(0xA6, op("cmps", NONE, BYTE, Strings::cmps));
        one(0xA7, op("cmps", Strings::cmps));
        one(0xA8, op("test", A_I, BYTE, Immediate.BYTE, Logic::test));
        one(0xA9, op("test", A_I, VARIABLE, Immediate.FULL, Logic::test));
        one(0xAA, op("stos", NONE, BYTE, Strings::stos));
        one(0xAB, op("stos", Strings::stos));
        one(0xAC, op("lods", NONE, BYTE, Strings::lods));
        one(0xAD, op("lods", Strings::lods));
        one(0xAE, op("scas", NONE, BYTE, Strings::scas));
        one(0xAF, op("scas", Strings::scas));

        String[] shiftNames = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
        Operation[] shifts = {Shifts::rol, Shifts::ror, Shifts::rcl, Shifts::rcr, Shifts::shl, Shifts::shr, Shifts::shl, Shifts::sar};
        Form[] countForms = {E_I, E_1, E_CL};
        int[] shiftOpcodes = {0xC0, 0xD0, 0xD2};
        for (int form = 0; form < 3; form++) {
            for (int wide = 0; wide < 2; wide++) {
                Slot[] members = new Slot[8];
                for (int i = 0; i < 8; i++) {
                    members[i] = op(shiftNames[i], countForms[form], wide == 0 ? BYTE : VARIABLE,
                            form == 0 ? Immediate.BYTE : Immediate.NONE, shifts[i]);
                }
                one(shiftOpcodes[form] + wide, group(members));
            }
        }
        one(0xC2, op("ret", I, STACK, Immediate.WORD, Branches::ret));
        one(0xC3, op("ret", NONE, STACK, Branches::ret));
        one(0xC6, group(op("mov", E_I, BYTE, Immediate.BYTE, Moves::mov), null, null, null, null, null, null, null));
        one(0xC7, group(op("mov", E_I, VARIABLE, Immediate.FULL, Moves::mov), null, null, null, null, null, null, null));
        one(0xC8, op("enter", NONE, STACK, Immediate.WORD_BYTE, Stack::enter));
        one(0xC9, op("leave", NONE, STACK, Stack::leave));
        one(0xCA, op("retf", I, VARIABLE, Immediate.WORD, Branches::retFar));
        one(0xCB, op("retf", Branches::retFar));
        one(0xCC, op("int3", SystemInstructions::breakpoint));
        one(0xCD, op("int", I, BYTE, Immediate.BYTE, SystemInstructions::softwareInterrupt));
        one(0xCE, op("into", SystemInstructions::overflowTrap).with(Traits.NOT_64));
        one(0xCF, op("iret", Branches::interruptReturn));
        one(0xD7, op("xlat", NONE, BYTE, Moves::translateByte));
        one(0xE0, op("loopne", I, STACK, Immediate.BYTE, Branches::loopWhileNotZero));
        one(0xE1, op("loope", I, STACK, Immediate.BYTE, Branches::loopWhileZero));
        one(0xE2, op("loop", I, STACK, Immediate.BYTE, Branches::loop));
        one(0xE3, op("jrcxz", I, STACK, Immediate.BYTE, Branches::jumpIfCounterZero));
        one(0xE4, op("in", I, BYTE, Immediate.BYTE, InputOutput::in));
        one(0xE5, op("in", I, VARIABLE, Immediate.BYTE, InputOutput::in));
        one(0xE6, op("out", I, BYTE, Immediate.BYTE, InputOutput::out));
        one(0xE7, op("out", I, VARIABLE, Immediate.BYTE, InputOutput::out));
        one(0xE8, op("call", I, STACK, Immediate.FULL, Branches::call));
        one(0xE9, op("jmp", I, STACK, Immediate.FULL, Branches::jump));
        one(0xEA, op("jmp", I, VARIABLE, Immediate.FAR_POINTER, Branches::jumpFar).with(Traits.NOT_64));
        one(0xEB, op("jmp", I, STACK, Immediate.BYTE, Branches::jump));
        one(0xEC, op("in", NONE, BYTE, InputOutput::inDx));
        one(0xED, op("in", InputOutput::inDx));
        one(0xEE, op("out", NONE, BYTE, InputOutput::outDx));
        one(0xEF, op("out", InputOutput::outDx));
        one(0xF1, op("int1", SystemInstructions::debugTrap));
        one(0xF4, op("hlt", SystemInstructions::halt));
        one(0xF5, op("cmc", SystemInstructions::complementCarry));
        one(0xF6, group(op("test", E_I, BYTE, Immediate.BYTE, Logic::test), op("test", E_I, BYTE, Immediate.BYTE, Logic::test),
                op("not", E, BYTE, Logic::not), op("neg", E, BYTE, Arithmetic::neg),
                op("mul", E, BYTE, Arithmetic::mul), op("imul", E, BYTE, Arithmetic::imul),
                op("div", E, BYTE, Arithmetic::div), op("idiv", E, BYTE, Arithmetic::idiv)));
        one(0xF7, group(op("test", E_I, VARIABLE, Immediate.FULL, Logic::test), op("test", E_I, VARIABLE, Immediate.FULL, Logic::test),
                op("not", E, VARIABLE, Logic::not), op("neg", E, VARIABLE, Arithmetic::neg),
                op("mul", E, VARIABLE, Arithmetic::mul), op("imul", E, VARIABLE, Arithmetic::imul),
                op("div", E, VARIABLE, Arithmetic::div), op("idiv", E, VARIABLE, Arithmetic::idiv)));
        one(0xF8, op("clc", SystemInstructions::clearCarry));
        one(0xF9, op("stc", SystemInstructions::setCarry));
        one(0xFA, op("cli", SystemInstructions::clearInterruptFlag));
        one(0xFB, op("sti", SystemInstructions::setInterruptFlag));
        one(0xFC, op("cld", SystemInstructions::clearDirection));
        one(0xFD, op("std", SystemInstructions::setDirection));
        one(0xFE, group(op("inc", E, BYTE, Arithmetic::inc), op("dec", E, BYTE, Arithmetic::dec),
                null, null, null, null, null, null));
        one(0xFF, group(op("inc", E, VARIABLE, Arithmetic::inc), op("dec", E, VARIABLE, Arithmetic::dec),
                op("call", E, STACK, Branches::callIndirect), new ByMod(op("callf", E, VARIABLE, Branches::callFarIndirect), null),
                op("jmp", E, STACK, Branches::jumpIndirect), new ByMod(op("jmpf", E, VARIABLE, Branches::jumpFarIndirect), null),
                op("push", E, STACK, Stack::push), null));
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
                op("lmsw", E, WORD, SystemInstructions::loadMachineStatus),
                new ByMod(op("invlpg", E, VARIABLE, SystemInstructions::invalidatePage),
                        byRm(op("swapgs", SystemInstructions::swapGs).with(Traits.ONLY_64), op("rdtscp", SystemInstructions::readTimeStampAndAux),
                                null, null, null, null, null, null))));
        two(0x02, op("lar", G_E, VARIABLE, DescriptorChecks::loadAccessRights).with(Traits.RM_WORD));
        two(0x03, op("lsl", G_E, VARIABLE, DescriptorChecks::loadSegmentLimit).with(Traits.RM_WORD));
        two(0x05, op("syscall", SystemInstructions::syscall));
        two(0x06, op("clts", SystemInstructions::clearTaskSwitched));
        two(0x07, op("sysret", SystemInstructions::sysret));
        two(0x08, op("invd", SystemInstructions::nop));
        two(0x09, op("wbinvd", SystemInstructions::nop));
        two(0x0B, op("ud2", SystemInstructions::undefined));
        two(0x0D, op("prefetch", E, VARIABLE, SystemInstructions::nop));
        for (int hint = 0x18; hint <= 0x1F; hint++) {
            two(hint, op("nop", E, VARIABLE, SystemInstructions::nop));
        }
        two(0x20, op("mov", E_G, VARIABLE, SystemInstructions::movFromControl));
        two(0x21, op("mov", E_G, VARIABLE, SystemInstructions::movFromDebug));
        two(0x22, op("mov", G_E, VARIABLE, SystemInstructions::movToControl));
        two(0x23, op("mov", G_E, VARIABLE, SystemInstructions::movToDebug));
        two(0x30, op("wrmsr", SystemInstructions::writeMsr));
        two(0x31, op("rdtsc", SystemInstructions::readTimeStamp));
        two(0x32, op("rdmsr", SystemInstructions::readMsr));
        for (int cc = 0; cc < 16; cc++) {
            two(0x40 + cc, op("cmovcc", G_E, VARIABLE, Moves::moveIf));
            two(0x80 + cc, op("jcc", I, STACK, Immediate.FULL, Branches::jumpIf));
            two(0x90 + cc, op("setcc", E, BYTE, Moves::setIf));
        }
        two(0xA0, op("push", NONE, STACK, Stack::pushSegment).withArgument(4));
        two(0xA1, op("pop", NONE, STACK, Stack::popSegment).withArgument(4));
        two(0xA2, op("cpuid", SystemInstructions::cpuid));
        two(0xA3, op("bt", E_G, VARIABLE, Bits::test));
        two(0xA4, op("shld", E_G_I, VARIABLE, Immediate.BYTE, Shifts::shldByImmediate));
        two(0xA5, op("shld", E_G_CL, VARIABLE, Shifts::shldByCl));
        two(0xA8, op("push", NONE, STACK, Stack::pushSegment).withArgument(5));
        two(0xA9, op("pop", NONE, STACK, Stack::popSegment).withArgument(5));
        two(0xAB, op("bts", E_G, VARIABLE, Bits::testAndSet));
        two(0xAC, op("shrd", E_G_I, VARIABLE, Immediate.BYTE, Shifts::shrdByImmediate));
        two(0xAD, op("shrd", E_G_CL, VARIABLE, Shifts::shrdByCl));
        // 0F AE: the memory forms (FXSAVE & co.) arrive with the FPU; the register forms are fences.
        Slot fence = op("fence", SystemInstructions::nop);
        two(0xAE, group(null, null, null, null, null, new ByMod(null, fence), new ByMod(null, fence),
                new ByMod(op("clflush", E, BYTE, SystemInstructions::nop), fence)));
        two(0xAF, op("imul", G_E, VARIABLE, Arithmetic::imulRegister));
        two(0xB0, op("cmpxchg", E_G, BYTE, Arithmetic::compareExchange));
        two(0xB1, op("cmpxchg", E_G, VARIABLE, Arithmetic::compareExchange));
        two(0xB3, op("btr", E_G, VARIABLE, Bits::testAndReset));
        two(0xB6, op("movzx", G_E, VARIABLE, Moves::movzx).with(Traits.RM_BYTE));
        two(0xB7, op("movzx", G_E, VARIABLE, Moves::movzx).with(Traits.RM_WORD));
        two(0xB9, op("ud1", G_E, VARIABLE, SystemInstructions::undefined));
        two(0xBA, group(null, null, null, null,
                op("bt", E_I, VARIABLE, Immediate.BYTE, Bits::test), op("bts", E_I, VARIABLE, Immediate.BYTE, Bits::testAndSet),
                op("btr", E_I, VARIABLE, Immediate.BYTE, Bits::testAndReset), op("btc", E_I, VARIABLE, Immediate.BYTE, Bits::testAndComplement)));
        two(0xBB, op("btc", E_G, VARIABLE, Bits::testAndComplement));
        two(0xBC, op("bsf", G_E, VARIABLE, Bits::scanForward));
        two(0xBD, op("bsr", G_E, VARIABLE, Bits::scanReverse));
        two(0xBE, op("movsx", G_E, VARIABLE, Moves::movsx).with(Traits.RM_BYTE));
        two(0xBF, op("movsx", G_E, VARIABLE, Moves::movsx).with(Traits.RM_WORD));
        two(0xC0, op("xadd", E_G, BYTE, Arithmetic::exchangeAdd));
        two(0xC1, op("xadd", E_G, VARIABLE, Arithmetic::exchangeAdd));
        two(0xC7, group(null, new ByMod(op("cmpxchg8b", E, VARIABLE, Arithmetic::compareExchangeDouble), null),
                null, null, null, null, null, new ByMod(null, op("rdpid", E, STACK, SystemInstructions::readProcessorId))));
        for (int r = 0; r < 8; r++) {
            two(0xC8 + r, op("bswap", Z, VARIABLE, Bits::byteSwap));
        }
        slots[TWO_BYTE][PREFIX_F3][0xB8] = op("popcnt", G_E, VARIABLE, Bits::populationCount);
        slots[TWO_BYTE][PREFIX_F3][0xBC] = op("tzcnt", G_E, VARIABLE, Bits::countTrailingZeros);
        slots[TWO_BYTE][PREFIX_F3][0xBD] = op("lzcnt", G_E, VARIABLE, Bits::countLeadingZeros);
    }
}
