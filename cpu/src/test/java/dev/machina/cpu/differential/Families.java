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
import static dev.machina.cpu.differential.Template.WIDE;
import static dev.machina.cpu.differential.Template.of;

/**
 * The instruction tables of the differential test, one {@link Family} per area; {@link #DEFAULT}
 * is what a plain run draws from, {@link #ALL} what {@code machina.fuzz.families} may name.
 *
 * <p>An SSE/SSE2 or x87 family is one more table here plus what its state needs: XMM registers
 * and MXCSR (or the x87 stack and control word) in {@link MachineState}, loaded and stored by the
 * {@link HostCpu} stub RIP-relative like the general registers, set and read on the Java side by
 * {@link SimulatedCpu}, and a {@link Behaviour} for what the SDM leaves undefined. Until the Java
 * CPU has those units it stays out of {@link #DEFAULT}: adding it there is the one-line switch.
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

    static final List<Family> ALL = List.of(ARITHMETIC, SHIFTS, BITS, MOVES, FLAGS, STRINGS, STACK, BRANCHES);
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
        list.add(of("tzcnt", REG_RM, WIDE, 0x0F, 0xBC).mandatoryPrefix(0xF3).requires("bmi1").behaviour(FlagsLeft.COUNT));
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
}
