package dev.machina.cpu.differential;

import dev.machina.cpu.differential.Behaviour.BitScan;
import dev.machina.cpu.differential.Behaviour.BitTest;
import dev.machina.cpu.differential.Behaviour.Branch;
import dev.machina.cpu.differential.Behaviour.CompareExchange;
import dev.machina.cpu.differential.Behaviour.Divide;
import dev.machina.cpu.differential.Behaviour.FlagsLeft;
import dev.machina.cpu.differential.Behaviour.Shift;
import dev.machina.cpu.differential.Behaviour.StackOperation;
import dev.machina.cpu.differential.Behaviour.StringOperation;
import dev.machina.cpu.differential.Behaviour.Vector;
import dev.machina.cpu.differential.Behaviour.X87;
import dev.machina.cpu.differential.FloatValues.Element;
import dev.machina.cpu.differential.Template.MemoryUse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.machina.cpu.differential.Shape.ACCUMULATOR;
import static dev.machina.cpu.differential.Shape.ACCUMULATOR_OFFSET;
import static dev.machina.cpu.differential.Shape.ACCUMULATOR_OPCODE_REG;
import static dev.machina.cpu.differential.Shape.NONE;
import static dev.machina.cpu.differential.Shape.OFFSET_ACCUMULATOR;
import static dev.machina.cpu.differential.Shape.OPCODE_REG;
import static dev.machina.cpu.differential.Shape.REG_RM;
import static dev.machina.cpu.differential.Shape.RM;
import static dev.machina.cpu.differential.Shape.RM_CL;
import static dev.machina.cpu.differential.Shape.RM_ONE;
import static dev.machina.cpu.differential.Shape.RM_REG;
import static dev.machina.cpu.differential.Shape.RM_REG_CL;
import static dev.machina.cpu.differential.Shape.STRING;
import static dev.machina.cpu.differential.Template.BYTE;
import static dev.machina.cpu.differential.Template.IMPLICIT_LOCK;
import static dev.machina.cpu.differential.Template.ADDRESS_SIZED;
import static dev.machina.cpu.differential.Template.LOCKABLE;
import static dev.machina.cpu.differential.Template.MEMORY_ONLY;
import static dev.machina.cpu.differential.Template.REGISTER_ONLY;
import static dev.machina.cpu.differential.Template.STACK_SIZED;
import static dev.machina.cpu.differential.Template.UNALIGNED;
import static dev.machina.cpu.differential.Template.X87_STACK;
import static dev.machina.cpu.differential.Template.XMM_REG;
import static dev.machina.cpu.differential.Template.XMM_RM;
import static dev.machina.cpu.differential.Template.WIDE;
import static dev.machina.cpu.differential.Template.of;

/**
 * The instruction tables of the differential test, one {@link Family} per area; {@link #DEFAULT}
 * is what a plain run draws from, {@link #ALL} what {@code machina.fuzz.families} may name.
 *
 * <p>The SSE/SSE2 and x87 families run on the state of {@link FpuImage}: XMM0-15, MXCSR and the
 * x87 registers, loaded with FXRSTOR before the instruction and stored with FXSAVE after it on
 * both sides. Every exception is masked in MXCSR and FCW (an unmasked one would fault on the
 * host); rounding, precision control, FTZ and DAZ are random. NaN results are compared bit for
 * bit: the SDM defines which NaN SSE and the x87 propagate.
 */
final class Families {
    private static final String[] CONDITIONS = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};

    static final Family ARITHMETIC = new Family("arithmetic", arithmetic());
    static final Family SHIFTS = new Family("shifts", shifts());
    static final Family BITS = new Family("bits", bits());
    static final Family MOVES = new Family("moves", moves());
    static final Family FLAGS = new Family("flags", flags());
    static final Family STRINGS = new Family("strings", strings());
    static final Family STACK = new Family("stack", stack());
    static final Family BRANCHES = new Family("branches", branches());
    static final Family SSE_INTEGER = new Family("sse-integer", sseInteger());
    static final Family SSE_MOVES = new Family("sse-moves", sseMoves());
    static final Family SSE_ARITHMETIC = new Family("sse-arithmetic", sseArithmetic());
    static final Family SSE_CONVERSIONS = new Family("sse-conversions", sseConversions());
    static final Family X87_TRANSFERS = new Family("x87-transfers", x87Transfers());
    static final Family X87_ARITHMETIC = new Family("x87-arithmetic", x87Arithmetic());

    static final List<Family> ALL = List.of(ARITHMETIC, SHIFTS, BITS, MOVES, FLAGS, STRINGS, STACK, BRANCHES,
            SSE_INTEGER, SSE_MOVES, SSE_ARITHMETIC, SSE_CONVERSIONS, X87_TRANSFERS, X87_ARITHMETIC);
    static final List<Family> DEFAULT = ALL;

    private Families() {
    }

    /** The families named in a comma-separated list, or {@link #DEFAULT} for a blank one. */
    static List<Family> named(String names) {
        if (names == null || names.isBlank()) {
            return DEFAULT;
        }
        Set<String> wanted = Arrays.stream(names.split(",")).map(String::trim).collect(Collectors.toSet());
        List<Family> chosen = ALL.stream().filter(f -> wanted.contains(f.name())).toList();
        if (chosen.size() != wanted.size()) {
            throw new IllegalArgumentException("unknown family in '" + names + "'; known: "
                    + ALL.stream().map(Family::name).collect(Collectors.joining(", ")));
        }
        return chosen;
    }

    /** A byte-only template and its full-size twin. */
    private static Stream<Template> bothSizes(Template byteForm) {
        return Stream.of(byteForm, byteForm.wide());
    }

    private static List<Template> arithmetic() {
        String[] names = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
        List<Template> list = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            boolean logic = i == 1 || i == 4 || i == 6;
            Behaviour flags = logic ? FlagsLeft.LOGIC : FlagsLeft.DEFINED;
            int lockable = names[i].equals("cmp") ? 0 : LOCKABLE;
            int base = i * 8;
            Stream.of(
                    bothSizes(of(names[i], RM_REG, BYTE, base).traits(lockable)),
                    bothSizes(of(names[i], REG_RM, BYTE, base + 2)),
                    bothSizes(of(names[i], ACCUMULATOR, BYTE, base + 4).immediate(Immediate.FULL)),
                    bothSizes(of(names[i], RM, BYTE, 0x80).extension(i).immediate(Immediate.FULL).traits(lockable)),
                    Stream.of(of(names[i], RM, WIDE, 0x83).extension(i).immediate(Immediate.BYTE).traits(lockable))
            ).flatMap(s -> s).map(t -> t.behaviour(flags)).forEach(list::add);
        }
        Stream.of(
                bothSizes(of("test", RM_REG, BYTE, 0x84)),
                bothSizes(of("test", ACCUMULATOR, BYTE, 0xA8).immediate(Immediate.FULL)),
                bothSizes(of("test", RM, BYTE, 0xF6).extension(0).immediate(Immediate.FULL))
        ).flatMap(s -> s).map(t -> t.behaviour(FlagsLeft.LOGIC)).forEach(list::add);
        Stream.of(
                bothSizes(of("inc", RM, BYTE, 0xFE).extension(0).traits(LOCKABLE)),
                bothSizes(of("dec", RM, BYTE, 0xFE).extension(1).traits(LOCKABLE)),
                bothSizes(of("not", RM, BYTE, 0xF6).extension(2).traits(LOCKABLE)),
                bothSizes(of("neg", RM, BYTE, 0xF6).extension(3).traits(LOCKABLE)),
                bothSizes(of("mul", RM, BYTE, 0xF6).extension(4).behaviour(FlagsLeft.MULTIPLY)),
                bothSizes(of("imul", RM, BYTE, 0xF6).extension(5).behaviour(FlagsLeft.MULTIPLY)),
                Stream.of(of("imul", REG_RM, WIDE, 0x0F, 0xAF).behaviour(FlagsLeft.MULTIPLY),
                        of("imul", REG_RM, WIDE, 0x69).immediate(Immediate.FULL).behaviour(FlagsLeft.MULTIPLY),
                        of("imul", REG_RM, WIDE, 0x6B).immediate(Immediate.BYTE).behaviour(FlagsLeft.MULTIPLY)),
                bothSizes(of("div", RM, BYTE, 0xF6).extension(6).behaviour(new Divide(false))),
                bothSizes(of("idiv", RM, BYTE, 0xF6).extension(7).behaviour(new Divide(true))),
                bothSizes(of("xadd", RM_REG, BYTE, 0x0F, 0xC0).traits(LOCKABLE)),
                bothSizes(of("cmpxchg", RM_REG, BYTE, 0x0F, 0xB0).traits(LOCKABLE).behaviour(new CompareExchange(false))),
                Stream.of(of("cmpxchg8b", RM, 4, 0x0F, 0xC7).extension(1),
                                of("cmpxchg16b", RM, 8, 0x0F, 0xC7).extension(1).requires("cx16"))
                        .map(t -> t.traits(LOCKABLE | MEMORY_ONLY).memoryUse(MemoryUse.PAIR).behaviour(new CompareExchange(true)))
        ).flatMap(s -> s).forEach(list::add);
        return list;
    }

    private static List<Template> shifts() {
        String[] names = {"rol", "ror", "rcl", "rcr", "shl", "shr", null, "sar"};
        Shift.Kind[] kinds = {Shift.Kind.ROTATE, Shift.Kind.ROTATE, Shift.Kind.ROTATE_THROUGH_CARRY, Shift.Kind.ROTATE_THROUGH_CARRY,
                Shift.Kind.SHIFT_LOGICAL, Shift.Kind.SHIFT_LOGICAL, null, Shift.Kind.SHIFT_ARITHMETIC};
        List<Template> list = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if (names[i] == null) {
                continue; // /6 is SAL's undocumented alias
            }
            Shift shift = new Shift(kinds[i]);
            int extension = i;
            Stream.of(
                    bothSizes(of(names[i], RM, BYTE, 0xC0).immediate(Immediate.BYTE)),
                    bothSizes(of(names[i], RM_ONE, BYTE, 0xD0)),
                    bothSizes(of(names[i], RM_CL, BYTE, 0xD2))
            ).flatMap(s -> s).map(t -> t.extension(extension).behaviour(shift)).forEach(list::add);
        }
        Shift doubleShift = new Shift(Shift.Kind.DOUBLE);
        Stream.of(of("shld", RM_REG, WIDE, 0x0F, 0xA4).immediate(Immediate.BYTE), of("shld", RM_REG_CL, WIDE, 0x0F, 0xA5),
                        of("shrd", RM_REG, WIDE, 0x0F, 0xAC).immediate(Immediate.BYTE), of("shrd", RM_REG_CL, WIDE, 0x0F, 0xAD))
                .map(t -> t.behaviour(doubleShift)).forEach(list::add);
        return list;
    }

    private static List<Template> bits() {
        String[] names = {"bt", "bts", "btr", "btc"};
        int[] registerOpcodes = {0xA3, 0xAB, 0xB3, 0xBB};
        BitTest bitTest = new BitTest();
        List<Template> list = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            int lockable = i == 0 ? 0 : LOCKABLE;
            list.add(of(names[i], RM_REG, WIDE, 0x0F, registerOpcodes[i]).memoryUse(MemoryUse.BIT_STRING).traits(lockable).behaviour(bitTest));
            list.add(of(names[i], RM, WIDE, 0x0F, 0xBA).extension(4 + i).immediate(Immediate.BYTE).traits(lockable).behaviour(bitTest));
        }
        list.add(of("bsf", REG_RM, WIDE, 0x0F, 0xBC).behaviour(new BitScan()));
        list.add(of("bsr", REG_RM, WIDE, 0x0F, 0xBD).behaviour(new BitScan()));
        list.add(of("bswap", OPCODE_REG, 4 | 8, 0x0F, 0xC8));
        list.add(of("popcnt", REG_RM, WIDE, 0x0F, 0xB8).mandatoryPrefix(0xF3).requires("popcnt"));
        list.add(of("lzcnt", REG_RM, WIDE, 0x0F, 0xBD).mandatoryPrefix(0xF3).requires("abm").behaviour(FlagsLeft.COUNT));
        return list;
    }

    private static List<Template> moves() {
        List<Template> list = new ArrayList<>();
        Stream.of(
                bothSizes(of("mov", RM_REG, BYTE, 0x88)),
                bothSizes(of("mov", REG_RM, BYTE, 0x8A)),
                bothSizes(of("mov", RM, BYTE, 0xC6).extension(0).immediate(Immediate.FULL)),
                Stream.of(of("mov", OPCODE_REG, BYTE, 0xB0).immediate(Immediate.WIDE), of("mov", OPCODE_REG, WIDE, 0xB8).immediate(Immediate.WIDE)),
                bothSizes(of("mov", ACCUMULATOR_OFFSET, BYTE, 0xA0).immediate(Immediate.OFFSET)),
                bothSizes(of("mov", OFFSET_ACCUMULATOR, BYTE, 0xA2).immediate(Immediate.OFFSET)),
                Stream.of(of("movzx", REG_RM, WIDE, 0x0F, 0xB6).rmSize(1), of("movzx", REG_RM, WIDE, 0x0F, 0xB7).rmSize(2),
                        of("movsx", REG_RM, WIDE, 0x0F, 0xBE).rmSize(1), of("movsx", REG_RM, WIDE, 0x0F, 0xBF).rmSize(2),
                        of("movsxd", REG_RM, 4 | 8, 0x63).rmSize(4),
                        // The 16-bit form reads 16 bits of memory on Intel and 32 on AMD, which could leave the buffer.
                        of("movsxd", REG_RM, 2, 0x63).traits(REGISTER_ONLY)),
                bothSizes(of("xchg", RM_REG, BYTE, 0x86).traits(IMPLICIT_LOCK)),
                Stream.of(of("xchg", ACCUMULATOR_OPCODE_REG, WIDE, 0x90),
                        of("lea", REG_RM, WIDE, 0x8D).traits(MEMORY_ONLY).memoryUse(MemoryUse.ADDRESS_ONLY),
                        of("cbw", NONE, 2, 0x98), of("cwde", NONE, 4, 0x98), of("cdqe", NONE, 8, 0x98),
                        of("cwd", NONE, 2, 0x99), of("cdq", NONE, 4, 0x99), of("cqo", NONE, 8, 0x99),
                        of("xlat", NONE, BYTE, 0xD7).traits(ADDRESS_SIZED).behaviour(new Behaviour.Translate()),
                        of("nop", NONE, BYTE, 0x90), of("pause", NONE, BYTE, 0x90).mandatoryPrefix(0xF3),
                        of("endbr64", NONE, BYTE, 0x0F, 0x1E, 0xFA).mandatoryPrefix(0xF3),
                        of("nop", RM, WIDE, 0x0F, 0x1F).extension(0).memoryUse(MemoryUse.ADDRESS_ONLY))
        ).flatMap(s -> s).forEach(list::add);
        for (int hint = 0; hint < 4; hint++) {
            list.add(of("prefetch", RM, BYTE, 0x0F, 0x18).extension(hint).traits(MEMORY_ONLY).memoryUse(MemoryUse.ADDRESS_ONLY));
        }
        for (int cc = 0; cc < 16; cc++) {
            list.add(of("cmov" + CONDITIONS[cc], REG_RM, WIDE, 0x0F, 0x40 + cc));
            list.add(of("set" + CONDITIONS[cc], RM, BYTE, 0x0F, 0x90 + cc).extension(0));
        }
        return list;
    }

    private static List<Template> flags() {
        return List.of(of("lahf", NONE, BYTE, 0x9F).requires("lahf_lm"), of("sahf", NONE, BYTE, 0x9E).requires("lahf_lm"),
                of("clc", NONE, BYTE, 0xF8), of("stc", NONE, BYTE, 0xF9), of("cmc", NONE, BYTE, 0xF5),
                of("cld", NONE, BYTE, 0xFC), of("std", NONE, BYTE, 0xFD));
    }

    private static List<Template> strings() {
        return Stream.of(
                bothSizes(of("movs", STRING, BYTE, 0xA4).behaviour(new StringOperation(true, true, false))),
                bothSizes(of("cmps", STRING, BYTE, 0xA6).behaviour(new StringOperation(true, true, true))),
                bothSizes(of("stos", STRING, BYTE, 0xAA).behaviour(new StringOperation(false, true, false))),
                bothSizes(of("lods", STRING, BYTE, 0xAC).behaviour(new StringOperation(true, false, false))),
                bothSizes(of("scas", STRING, BYTE, 0xAE).behaviour(new StringOperation(false, true, true)))
        ).flatMap(s -> s).toList();
    }

    private static List<Template> stack() {
        StackOperation push = new StackOperation(StackOperation.Kind.PUSH);
        StackOperation pop = new StackOperation(StackOperation.Kind.POP);
        int sizes = 2 | 8;
        return Stream.of(
                of("push", OPCODE_REG, sizes, 0x50).behaviour(push),
                of("pop", OPCODE_REG, sizes, 0x58).behaviour(pop),
                of("push", RM, sizes, 0xFF).extension(6).behaviour(push),
                of("pop", RM, sizes, 0x8F).extension(0).behaviour(pop),
                of("push", NONE, sizes, 0x6A).immediate(Immediate.BYTE).behaviour(push),
                of("push", NONE, sizes, 0x68).immediate(Immediate.FULL).behaviour(push),
                of("pushf", NONE, sizes, 0x9C).behaviour(push),
                of("popf", NONE, sizes, 0x9D).behaviour(new StackOperation(StackOperation.Kind.POP_FLAGS)),
                of("enter", NONE, sizes, 0xC8).immediate(Immediate.WORD_BYTE).behaviour(new StackOperation(StackOperation.Kind.ENTER)),
                of("leave", NONE, sizes, 0xC9).behaviour(new StackOperation(StackOperation.Kind.LEAVE))
        ).map(t -> t.traits(STACK_SIZED)).toList();
    }

    /** Near branches, 64-bit only: a 66 prefix truncates RIP to 16 bits on AMD and is ignored on Intel. */
    private static List<Template> branches() {
        Branch relative = new Branch(Branch.Kind.RELATIVE);
        Branch counter = new Branch(Branch.Kind.COUNTER);
        List<Template> list = new ArrayList<>();
        for (int cc = 0; cc < 16; cc++) {
            list.add(of("j" + CONDITIONS[cc], NONE, 8, 0x70 + cc).immediate(Immediate.BYTE).behaviour(relative));
            list.add(of("j" + CONDITIONS[cc], NONE, 8, 0x0F, 0x80 + cc).immediate(Immediate.FULL).behaviour(relative));
        }
        Stream.of(
                of("jmp", NONE, 8, 0xEB).immediate(Immediate.BYTE).behaviour(relative),
                of("jmp", NONE, 8, 0xE9).immediate(Immediate.FULL).behaviour(relative),
                of("call", NONE, 8, 0xE8).immediate(Immediate.FULL).behaviour(new Branch(Branch.Kind.CALL)),
                of("jmp", RM, 8, 0xFF).extension(4).behaviour(new Branch(Branch.Kind.INDIRECT_JUMP)),
                of("call", RM, 8, 0xFF).extension(2).behaviour(new Branch(Branch.Kind.INDIRECT_CALL)),
                of("ret", NONE, 8, 0xC3).behaviour(new Branch(Branch.Kind.RETURN)),
                of("ret", NONE, 8, 0xC2).immediate(Immediate.WORD).behaviour(new Branch(Branch.Kind.RETURN)),
                of("loopne", NONE, 8, 0xE0).immediate(Immediate.BYTE).traits(ADDRESS_SIZED).behaviour(counter),
                of("loope", NONE, 8, 0xE1).immediate(Immediate.BYTE).traits(ADDRESS_SIZED).behaviour(counter),
                of("loop", NONE, 8, 0xE2).immediate(Immediate.BYTE).traits(ADDRESS_SIZED).behaviour(counter),
                of("jrcxz", NONE, 8, 0xE3).immediate(Immediate.BYTE).traits(ADDRESS_SIZED).behaviour(counter)
        ).forEach(list::add);
        return list.stream().map(t -> t.traits(STACK_SIZED)).toList();
    }

    // ---- SSE and SSE2 ----------------------------------------------------------------------------------
    // RCPPS, RCPSS, RSQRTPS and RSQRTSS are left out: their results are approximations whose bits
    // differ between vendors and models (the SDM promises only a relative error of 1.5 * 2^-12).

    /** {@code prefix 0F opcode /r} with XMM operands; a memory operand has {@code rmBytes} holding {@code element}s. */
    private static Template vector(String mnemonic, Shape shape, int prefix, int opcode, int rmBytes, Element element) {
        return of(mnemonic, shape, 4, 0x0F, opcode).mandatoryPrefix(prefix).rmSize(rmBytes).traits(XMM_REG | XMM_RM)
                .behaviour(new Vector(element));
    }

    /** The usual SSE form: xmm, xmm/m128 (aligned). */
    private static Template vector(String mnemonic, int prefix, int opcode, Element element) {
        return vector(mnemonic, REG_RM, prefix, opcode, 16, element);
    }

    private static List<Template> sseInteger() {
        List<Template> list = new ArrayList<>();
        Object[][] binary = {{"pxor", 0xEF}, {"por", 0xEB}, {"pand", 0xDB}, {"pandn", 0xDF},
                {"paddb", 0xFC}, {"paddw", 0xFD}, {"paddd", 0xFE}, {"paddq", 0xD4},
                {"psubb", 0xF8}, {"psubw", 0xF9}, {"psubd", 0xFA}, {"psubq", 0xFB},
                {"paddsb", 0xEC}, {"paddsw", 0xED}, {"paddusb", 0xDC}, {"paddusw", 0xDD},
                {"psubsb", 0xE8}, {"psubsw", 0xE9}, {"psubusb", 0xD8}, {"psubusw", 0xD9},
                {"pcmpeqb", 0x74}, {"pcmpeqw", 0x75}, {"pcmpeqd", 0x76}, {"pcmpgtb", 0x64}, {"pcmpgtw", 0x65}, {"pcmpgtd", 0x66},
                {"pminub", 0xDA}, {"pmaxub", 0xDE}, {"pminsw", 0xEA}, {"pmaxsw", 0xEE}, {"pavgb", 0xE0}, {"pavgw", 0xE3},
                {"psadbw", 0xF6}, {"pmullw", 0xD5}, {"pmulhw", 0xE5}, {"pmulhuw", 0xE4}, {"pmuludq", 0xF4}, {"pmaddwd", 0xF5},
                {"punpcklbw", 0x60}, {"punpcklwd", 0x61}, {"punpckldq", 0x62}, {"punpcklqdq", 0x6C},
                {"punpckhbw", 0x68}, {"punpckhwd", 0x69}, {"punpckhdq", 0x6A}, {"punpckhqdq", 0x6D},
                {"packsswb", 0x63}, {"packuswb", 0x67}, {"packssdw", 0x6B}};
        for (Object[] op : binary) {
            list.add(vector((String) op[0], 0x66, (int) op[1], Element.INTEGER));
        }
        Object[][] shiftsByRegister = {{"psrlw", 0xD1}, {"psrld", 0xD2}, {"psrlq", 0xD3}, {"psraw", 0xE1}, {"psrad", 0xE2},
                {"psllw", 0xF1}, {"pslld", 0xF2}, {"psllq", 0xF3}};
        for (Object[] op : shiftsByRegister) {
            list.add(vector((String) op[0], 0x66, (int) op[1], Element.COUNT));
        }
        // 66 0F 71..73 /n ib: the r/m register is shifted by the immediate.
        Object[][] shiftsByImmediate = {{"psrlw", 0x71, 2}, {"psraw", 0x71, 4}, {"psllw", 0x71, 6},
                {"psrld", 0x72, 2}, {"psrad", 0x72, 4}, {"pslld", 0x72, 6},
                {"psrlq", 0x73, 2}, {"psrldq", 0x73, 3}, {"psllq", 0x73, 6}, {"pslldq", 0x73, 7}};
        for (Object[] op : shiftsByImmediate) {
            list.add(vector((String) op[0], RM, 0x66, (int) op[1], 16, Element.INTEGER).extension((int) op[2])
                    .immediate(Immediate.BYTE).traits(REGISTER_ONLY));
        }
        list.add(vector("pshufd", 0x66, 0x70, Element.INTEGER).immediate(Immediate.BYTE));
        list.add(vector("pshuflw", 0xF2, 0x70, Element.INTEGER).immediate(Immediate.BYTE));
        list.add(vector("pshufhw", 0xF3, 0x70, Element.INTEGER).immediate(Immediate.BYTE));
        // A general register and an XMM register: PMOVMSKB, MOVD and MOVQ (REX.W picks the 64-bit forms).
        Vector integers = new Vector(Element.INTEGER);
        list.add(of("pmovmskb", REG_RM, 4 | 8, 0x0F, 0xD7).mandatoryPrefix(0x66).rmSize(16).traits(XMM_RM | REGISTER_ONLY).behaviour(integers));
        list.add(of("movd", REG_RM, 4 | 8, 0x0F, 0x6E).mandatoryPrefix(0x66).traits(XMM_REG).behaviour(integers));
        list.add(of("movd", RM_REG, 4 | 8, 0x0F, 0x7E).mandatoryPrefix(0x66).traits(XMM_REG).behaviour(integers));
        list.add(vector("movq", REG_RM, 0xF3, 0x7E, 8, Element.INTEGER));
        list.add(vector("movq", RM_REG, 0x66, 0xD6, 8, Element.INTEGER));
        return list;
    }

    private static List<Template> sseMoves() {
        List<Template> list = new ArrayList<>();
        // {mnemonic, prefix, load opcode, element, misaligned memory allowed}; the store is the next opcode (MOVDQA's 7F: 6F + 0x10).
        Object[][] moves = {{"movaps", 0, 0x28, Element.SINGLE, false}, {"movups", 0, 0x10, Element.SINGLE, true},
                {"movapd", 0x66, 0x28, Element.DOUBLE, false}, {"movupd", 0x66, 0x10, Element.DOUBLE, true},
                {"movdqa", 0x66, 0x6F, Element.INTEGER, false}, {"movdqu", 0xF3, 0x6F, Element.INTEGER, true}};
        for (Object[] op : moves) {
            int load = (int) op[2];
            int store = load == 0x6F ? 0x7F : load + 1;
            int alignment = (boolean) op[4] ? UNALIGNED : 0;
            list.add(vector((String) op[0], REG_RM, (int) op[1], load, 16, (Element) op[3]).traits(alignment));
            list.add(vector((String) op[0], RM_REG, (int) op[1], store, 16, (Element) op[3]).traits(alignment));
        }
        // {mnemonic, prefix, load opcode, memory bytes, element, operand kinds}: 0F 12/16 are MOVLPS/MOVHPS with memory, MOVHLPS/MOVLHPS without.
        Object[][] halves = {{"movss", 0xF3, 0x10, 4, Element.SINGLE, 0}, {"movsd", 0xF2, 0x10, 8, Element.DOUBLE, 0},
                {"movlps", 0, 0x12, 8, Element.SINGLE, MEMORY_ONLY}, {"movhps", 0, 0x16, 8, Element.SINGLE, MEMORY_ONLY},
                {"movlpd", 0x66, 0x12, 8, Element.DOUBLE, MEMORY_ONLY}, {"movhpd", 0x66, 0x16, 8, Element.DOUBLE, MEMORY_ONLY}};
        for (Object[] op : halves) {
            list.add(vector((String) op[0], REG_RM, (int) op[1], (int) op[2], (int) op[3], (Element) op[4]).traits((int) op[5]));
            list.add(vector((String) op[0], RM_REG, (int) op[1], (int) op[2] + 1, (int) op[3], (Element) op[4]).traits((int) op[5]));
        }
        list.add(vector("movhlps", 0, 0x12, Element.SINGLE).traits(REGISTER_ONLY));
        list.add(vector("movlhps", 0, 0x16, Element.SINGLE).traits(REGISTER_ONLY));
        list.add(vector("shufps", 0, 0xC6, Element.SINGLE).immediate(Immediate.BYTE));
        list.add(vector("shufpd", 0x66, 0xC6, Element.DOUBLE).immediate(Immediate.BYTE));
        list.add(vector("unpcklps", 0, 0x14, Element.SINGLE));
        list.add(vector("unpckhps", 0, 0x15, Element.SINGLE));
        list.add(vector("unpcklpd", 0x66, 0x14, Element.DOUBLE));
        list.add(vector("unpckhpd", 0x66, 0x15, Element.DOUBLE));
        list.add(of("movmskps", REG_RM, 4 | 8, 0x0F, 0x50).rmSize(16).traits(XMM_RM | REGISTER_ONLY).behaviour(new Vector(Element.SINGLE)));
        list.add(of("movmskpd", REG_RM, 4 | 8, 0x0F, 0x50).mandatoryPrefix(0x66).rmSize(16).traits(XMM_RM | REGISTER_ONLY)
                .behaviour(new Vector(Element.DOUBLE)));
        return list;
    }

    /** The four forms of an SSE arithmetic opcode: packed and scalar, single and double; {@code predicates}: see {@link Vector}. */
    private static Stream<Template> everyPrecision(String name, int opcode, boolean predicates) {
        return Stream.of(vector(name + "ps", REG_RM, 0, opcode, 16, Element.SINGLE),
                        vector(name + "ss", REG_RM, 0xF3, opcode, 4, Element.SINGLE),
                        vector(name + "pd", REG_RM, 0x66, opcode, 16, Element.DOUBLE),
                        vector(name + "sd", REG_RM, 0xF2, opcode, 8, Element.DOUBLE))
                .map(t -> predicates ? t.immediate(Immediate.BYTE).behaviour(new Vector(((Vector) t.behaviour()).element(), true)) : t);
    }

    private static List<Template> sseArithmetic() {
        List<Template> list = new ArrayList<>();
        Object[][] arithmetic = {{"add", 0x58}, {"mul", 0x59}, {"sub", 0x5C}, {"min", 0x5D}, {"div", 0x5E}, {"max", 0x5F}, {"sqrt", 0x51}};
        for (Object[] op : arithmetic) {
            everyPrecision((String) op[0], (int) op[1], false).forEach(list::add);
        }
        everyPrecision("cmp", 0xC2, true).forEach(list::add);
        list.add(vector("ucomiss", REG_RM, 0, 0x2E, 4, Element.SINGLE));
        list.add(vector("comiss", REG_RM, 0, 0x2F, 4, Element.SINGLE));
        list.add(vector("ucomisd", REG_RM, 0x66, 0x2E, 8, Element.DOUBLE));
        list.add(vector("comisd", REG_RM, 0x66, 0x2F, 8, Element.DOUBLE));
        Object[][] logic = {{"and", 0x54}, {"andn", 0x55}, {"or", 0x56}, {"xor", 0x57}};
        for (Object[] op : logic) {
            list.add(vector(op[0] + "ps", 0, (int) op[1], Element.SINGLE));
            list.add(vector(op[0] + "pd", 0x66, (int) op[1], Element.DOUBLE));
        }
        return list;
    }

    private static List<Template> sseConversions() {
        List<Template> list = new ArrayList<>();
        // Integer to float: an XMM destination and a general register or memory source of 32 or 64 bits (REX.W).
        list.add(of("cvtsi2ss", REG_RM, 4 | 8, 0x0F, 0x2A).mandatoryPrefix(0xF3).traits(XMM_REG).behaviour(new Vector(Element.INTEGER)));
        list.add(of("cvtsi2sd", REG_RM, 4 | 8, 0x0F, 0x2A).mandatoryPrefix(0xF2).traits(XMM_REG).behaviour(new Vector(Element.INTEGER)));
        // Float to integer: a general register destination, truncating (2C) or rounding by MXCSR (2D).
        Object[][] toInteger = {{"cvttss2si", 0xF3, 0x2C, 4, Element.SINGLE}, {"cvtss2si", 0xF3, 0x2D, 4, Element.SINGLE},
                {"cvttsd2si", 0xF2, 0x2C, 8, Element.DOUBLE}, {"cvtsd2si", 0xF2, 0x2D, 8, Element.DOUBLE}};
        for (Object[] op : toInteger) {
            list.add(of((String) op[0], REG_RM, 4 | 8, 0x0F, (int) op[2]).mandatoryPrefix((int) op[1]).rmSize((int) op[3])
                    .traits(XMM_RM).behaviour(new Vector((Element) op[4])));
        }
        list.add(vector("cvtss2sd", REG_RM, 0xF3, 0x5A, 4, Element.SINGLE));
        list.add(vector("cvtsd2ss", REG_RM, 0xF2, 0x5A, 8, Element.DOUBLE));
        list.add(vector("cvtps2pd", REG_RM, 0, 0x5A, 8, Element.SINGLE));
        list.add(vector("cvtpd2ps", 0x66, 0x5A, Element.DOUBLE));
        list.add(vector("cvtdq2ps", 0, 0x5B, Element.INTEGER));
        list.add(vector("cvtps2dq", 0x66, 0x5B, Element.SINGLE));
        list.add(vector("cvttps2dq", 0xF3, 0x5B, Element.SINGLE));
        list.add(vector("cvtdq2pd", REG_RM, 0xF3, 0xE6, 8, Element.INTEGER));
        list.add(vector("cvtpd2dq", 0xF2, 0xE6, Element.DOUBLE));
        list.add(vector("cvttpd2dq", 0x66, 0xE6, Element.DOUBLE));
        return list;
    }

    // ---- x87 -------------------------------------------------------------------------------------------
    // Left out: the transcendentals (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1),
    // whose last bit and C1 are model-specific (the Java CPU rounds the exact value; hardware is
    // within an ulp of it), and FPREM/FPREM1/FSCALE/FXTRACT, which are outside the basics the differential test covers.

    /** An x87 instruction with a memory operand of {@code bytes} bytes: {@code opcode /extension}. */
    private static Template x87Memory(String mnemonic, int opcode, int extension, int bytes, X87 behaviour) {
        return of(mnemonic, RM, 4, opcode).extension(extension).rmSize(bytes).traits(MEMORY_ONLY).behaviour(behaviour);
    }

    /** An x87 instruction on ST(i): {@code first (second + i)}. */
    private static Template x87Stack(String mnemonic, int first, int second, X87 behaviour) {
        return of(mnemonic, OPCODE_REG, 4, first, second).traits(X87_STACK).behaviour(behaviour);
    }

    private static Template x87(String mnemonic, int first, int second, X87 behaviour) {
        return of(mnemonic, NONE, 4, first, second).behaviour(behaviour);
    }

    private static List<Template> x87Transfers() {
        X87 singles = X87.of(Element.SINGLE);
        X87 doubles = X87.of(Element.DOUBLE);
        X87 integers = X87.of(Element.INTEGER);
        X87 stores = X87.of(null);
        List<Template> list = new ArrayList<>(List.of(
                x87Memory("fld", 0xD9, 0, 4, singles), x87Memory("fld", 0xDD, 0, 8, doubles),
                x87Memory("fld", 0xDB, 5, 10, X87.of(Element.EXTENDED)),
                x87Memory("fst", 0xD9, 2, 4, stores), x87Memory("fstp", 0xD9, 3, 4, stores),
                x87Memory("fst", 0xDD, 2, 8, stores), x87Memory("fstp", 0xDD, 3, 8, stores), x87Memory("fstp", 0xDB, 7, 10, stores),
                x87Memory("fild", 0xDF, 0, 2, integers), x87Memory("fild", 0xDB, 0, 4, integers), x87Memory("fild", 0xDF, 5, 8, integers),
                x87Memory("fist", 0xDF, 2, 2, stores), x87Memory("fistp", 0xDF, 3, 2, stores),
                x87Memory("fist", 0xDB, 2, 4, stores), x87Memory("fistp", 0xDB, 3, 4, stores), x87Memory("fistp", 0xDF, 7, 8, stores),
                x87Memory("fisttp", 0xDF, 1, 2, stores).requires("pni"), x87Memory("fisttp", 0xDB, 1, 4, stores).requires("pni"),
                x87Memory("fisttp", 0xDD, 1, 8, stores).requires("pni"),
                x87Stack("fld", 0xD9, 0xC0, stores), x87Stack("fxch", 0xD9, 0xC8, stores),
                x87Stack("fst", 0xDD, 0xD0, stores), x87Stack("fstp", 0xDD, 0xD8, stores)));
        String[] constants = {"fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz"};
        for (int k = 0; k < constants.length; k++) {
            list.add(x87(constants[k], 0xD9, 0xE8 + k, stores));
        }
        // FCMOVcc reads CF, ZF and PF: DA for B, E, BE, U; DB for their negations.
        String[] moves = {"fcmovb", "fcmove", "fcmovbe", "fcmovu", "fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu"};
        for (int k = 0; k < moves.length; k++) {
            list.add(x87Stack(moves[k], 0xDA + k / 4, 0xC0 + 8 * (k % 4), X87.UNORDERED_C1));
        }
        return list;
    }

    private static List<Template> x87Arithmetic() {
        List<Template> list = new ArrayList<>();
        // D8 /n: ST(0) op m32 or ST(i); DC /n: ST(0) op m64, or ST(i) op ST(0) (SUB and SUBR, DIV and DIVR swap there); DE: the popping forms.
        String[] names = {"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"};
        String[] reversedNames = {"fadd", "fmul", null, null, "fsubr", "fsub", "fdivr", "fdiv"};
        for (int n = 0; n < names.length; n++) {
            boolean compares = n == 2 || n == 3;
            X87 singles = compares ? X87.comparing(Element.SINGLE) : X87.of(Element.SINGLE);
            X87 doubles = compares ? X87.comparing(Element.DOUBLE) : X87.of(Element.DOUBLE);
            X87 stack = compares ? X87.comparing(null) : X87.of(null);
            list.add(x87Memory(names[n], 0xD8, n, 4, singles));
            list.add(x87Memory(names[n], 0xDC, n, 8, doubles));
            list.add(x87Stack(names[n], 0xD8, 0xC0 + 8 * n, stack));
            if (!compares) {
                list.add(x87Stack(reversedNames[n], 0xDC, 0xC0 + 8 * n, stack));
                list.add(x87Stack(reversedNames[n] + "p", 0xDE, 0xC0 + 8 * n, stack));
            }
        }
        X87 compare = X87.comparing(null);
        X87 unary = X87.of(null);
        list.addAll(List.of(x87("fcompp", 0xDE, 0xD9, compare),
                x87Stack("fucom", 0xDD, 0xE0, compare), x87Stack("fucomp", 0xDD, 0xE8, compare), x87("fucompp", 0xDA, 0xE9, compare),
                x87Stack("fucomi", 0xDB, 0xE8, X87.FLAG_COMPARE), x87Stack("fucomip", 0xDF, 0xE8, X87.FLAG_COMPARE),
                x87Stack("fcomi", 0xDB, 0xF0, X87.FLAG_COMPARE), x87Stack("fcomip", 0xDF, 0xF0, X87.FLAG_COMPARE),
                x87("ftst", 0xD9, 0xE4, compare), x87("fxam", 0xD9, 0xE5, compare),
                x87("fchs", 0xD9, 0xE0, unary), x87("fabs", 0xD9, 0xE1, unary),
                x87("fsqrt", 0xD9, 0xFA, unary), x87("frndint", 0xD9, 0xFC, unary)));
        return list;
    }
}
