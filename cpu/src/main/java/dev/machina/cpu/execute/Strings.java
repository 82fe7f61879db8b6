package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.cpu.mmu.PhysicalBus;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.Flags.Kind;

/**
 * MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP/REPE/REPNE. RCX, RSI and RDI are updated
 * after every element, so a fault in the middle restarts where it stopped; a long REP yields
 * after {@link #BURST} elements by re-executing itself, which lets interrupts in, and after an
 * element that hit a data breakpoint, whose trap comes between the iterations as on hardware.
 * REP MOVS and REP STOS going up move whole runs of elements at once where the TLB holds their
 * pages as RAM (the kernel clears and copies pages so): the same memory and registers after each
 * run as element by element, the odd element through the general path.
 */
public final class Strings {
    static final int BURST = 4096;

    private Strings() {
    }

    @FunctionalInterface
    private interface Element {
        /** Processes one element; returns false when a REPE/REPNE condition ends the repetition. */
        boolean step(Processor cpu, Instruction i, long delta);
    }

    /** Processes up to {@code count} elements going up at once; returns how many (0: none can be, take one by one). */
    @FunctionalInterface
    private interface Run {
        long elements(Processor cpu, Instruction i, long count);

        Run NONE = (cpu, i, count) -> 0;
    }

    public static void movs(Processor cpu, Instruction i) {
        repeat(cpu, i, Strings::moveElement, Strings::moveRun);
    }

    public static void cmps(Processor cpu, Instruction i) {
        repeat(cpu, i, Strings::compareElement);
    }

    public static void stos(Processor cpu, Instruction i) {
        repeat(cpu, i, Strings::storeElement, Strings::storeRun);
    }

    public static void lods(Processor cpu, Instruction i) {
        repeat(cpu, i, Strings::loadElement);
    }

    public static void scas(Processor cpu, Instruction i) {
        repeat(cpu, i, Strings::scanElement);
    }

    public static void ins(Processor cpu, Instruction i) {
        requirePortAccess(cpu, i);
        repeat(cpu, i, Strings::inputElement);
    }

    public static void outs(Processor cpu, Instruction i) {
        requirePortAccess(cpu, i);
        repeat(cpu, i, Strings::outputElement);
    }

    private static void requirePortAccess(Processor cpu, Instruction i) {
        cpu.requirePortAccess((int) cpu.state.read(CpuState.RDX, 2), Math.min(i.operandSize(), 4));
    }

    private static void repeat(Processor cpu, Instruction i, Element element) {
        repeat(cpu, i, element, Run.NONE);
    }

    private static void repeat(Processor cpu, Instruction i, Element element, Run run) {
        long delta = cpu.state.flags.isSet(Flags.DF) ? -i.operandSize() : i.operandSize();
        if (!i.has(Instruction.REP) && !i.has(Instruction.REPNE)) {
            element.step(cpu, i, delta);
            return;
        }
        CpuState s = cpu.state;
        boolean up = delta > 0 && i.has(Instruction.REP);
        for (int n = 0; n < BURST; n++) {
            long count = s.read(CpuState.RCX, i.addressSize());
            if (count == 0) {
                return;
            }
            long done = up ? run.elements(cpu, i, Math.min(count, BURST - n)) : 0;
            if (done > 0) {
                s.write(CpuState.RCX, i.addressSize(), count - done);
                n += (int) done - 1;
                if (count == done) {
                    return;
                }
                continue;
            }
            boolean go = element.step(cpu, i, delta);
            s.write(CpuState.RCX, i.addressSize(), count - 1);
            if (!go || count == 1) {
                return;
            }
            if (s.debug.hit()) {
                break;
            }
        }
        // Iterations remain: the instruction runs again. An interrupt or a data breakpoint's trap
        // may come first; RF keeps the instruction's breakpoint from firing as it resumes.
        s.rip = cpu.instructionStart();
        s.flags.put(Flags.RF, true);
    }

    private static long source(Processor cpu, Instruction i) {
        return cpu.state.read(CpuState.RSI, i.addressSize());
    }

    private static long destination(Processor cpu, Instruction i) {
        return cpu.state.read(CpuState.RDI, i.addressSize());
    }

    private static void advance(Processor cpu, Instruction i, int register, long delta) {
        cpu.state.write(register, i.addressSize(), cpu.state.registers[register] + delta);
    }

    /** Whether REPE (F3) or REPNE (F2) continues after a comparison. */
    private static boolean continues(Processor cpu, Instruction i) {
        return i.has(Instruction.REP) == cpu.state.flags.zero();
    }

    private static boolean moveElement(Processor cpu, Instruction i, long delta) {
        long value = cpu.readMemory(i.segment(), source(cpu, i), i.operandSize());
        cpu.writeMemory(CpuState.ES, destination(cpu, i), i.operandSize(), value);
        advance(cpu, i, CpuState.RSI, delta);
        advance(cpu, i, CpuState.RDI, delta);
        return true;
    }

    /**
     * As many MOVS elements as lie in the source's and the destination's pages at once, when the
     * TLB holds both as RAM and the destination does not start inside the source (going up, each
     * element would then read one written before it).
     */
    private static long moveRun(Processor cpu, Instruction i, long count) {
        int size = i.operandSize();
        long sourceOffset = source(cpu, i);
        long destinationOffset = destination(cpu, i);
        long from = cpu.linear(i.segment(), sourceOffset);
        long to = cpu.linear(CpuState.ES, destinationOffset);
        long elements = Math.min(count, Math.min(roomInPage(from), roomInPage(to)) / size);
        long bytes = elements * size;
        if (elements == 0 || wraps(i, sourceOffset, bytes) || wraps(i, destinationOffset, bytes) || (to > from && to < from + bytes)) {
            return 0;
        }
        long fromHost = cpu.cachedHost(from, Mmu.READ);
        long toHost = cpu.cachedHost(to, Mmu.WRITE);
        if (fromHost < 0 || toHost < 0) {
            return 0;
        }
        cpu.mmu().bus().copyRam(fromHost, toHost, bytes);
        advance(cpu, i, CpuState.RSI, bytes);
        advance(cpu, i, CpuState.RDI, bytes);
        return elements;
    }

    /** As many STOS elements as lie in the destination's page at once, when the TLB holds it as RAM. */
    private static long storeRun(Processor cpu, Instruction i, long count) {
        int size = i.operandSize();
        long destinationOffset = destination(cpu, i);
        long to = cpu.linear(CpuState.ES, destinationOffset);
        long elements = Math.min(count, roomInPage(to) / size);
        long bytes = elements * size;
        if (elements == 0 || wraps(i, destinationOffset, bytes)) {
            return 0;
        }
        long toHost = cpu.cachedHost(to, Mmu.WRITE);
        if (toHost < 0) {
            return 0;
        }
        cpu.mmu().bus().fillRam(toHost, elements, size, cpu.state.registers[CpuState.RAX]);
        advance(cpu, i, CpuState.RDI, bytes);
        return elements;
    }

    private static long roomInPage(long linear) {
        return PhysicalBus.PAGE_MASK + 1 - (linear & PhysicalBus.PAGE_MASK);
    }

    /** Whether {@code bytes} from {@code offset} pass the end of the address size (the element path wraps them). */
    private static boolean wraps(Instruction i, long offset, long bytes) {
        return i.addressSize() != 8 && offset + bytes > (i.addressSize() == 4 ? 0x1_0000_0000L : 0x1_0000L);
    }

    private static boolean compareElement(Processor cpu, Instruction i, long delta) {
        long a = cpu.readMemory(i.segment(), source(cpu, i), i.operandSize());
        long b = cpu.readMemory(CpuState.ES, destination(cpu, i), i.operandSize());
        advance(cpu, i, CpuState.RSI, delta);
        advance(cpu, i, CpuState.RDI, delta);
        cpu.state.flags.record(Kind.SUB, i.operandSize(), a, b, false, a - b);
        return continues(cpu, i);
    }

    private static boolean storeElement(Processor cpu, Instruction i, long delta) {
        cpu.writeMemory(CpuState.ES, destination(cpu, i), i.operandSize(), cpu.state.registers[CpuState.RAX]);
        advance(cpu, i, CpuState.RDI, delta);
        return true;
    }

    private static boolean loadElement(Processor cpu, Instruction i, long delta) {
        cpu.state.write(CpuState.RAX, i.operandSize(), cpu.readMemory(i.segment(), source(cpu, i), i.operandSize()));
        advance(cpu, i, CpuState.RSI, delta);
        return true;
    }

    private static boolean scanElement(Processor cpu, Instruction i, long delta) {
        long a = cpu.state.read(CpuState.RAX, i.operandSize());
        long b = cpu.readMemory(CpuState.ES, destination(cpu, i), i.operandSize());
        advance(cpu, i, CpuState.RDI, delta);
        cpu.state.flags.record(Kind.SUB, i.operandSize(), a, b, false, a - b);
        return continues(cpu, i);
    }

    private static boolean inputElement(Processor cpu, Instruction i, long delta) {
        int size = Math.min(i.operandSize(), 4);
        long value = cpu.readPort((int) cpu.state.read(CpuState.RDX, 2), size);
        cpu.writeMemory(CpuState.ES, destination(cpu, i), size, value);
        advance(cpu, i, CpuState.RDI, delta);
        return true;
    }

    private static boolean outputElement(Processor cpu, Instruction i, long delta) {
        int size = Math.min(i.operandSize(), 4);
        long value = cpu.readMemory(i.segment(), source(cpu, i), size);
        cpu.writePort((int) cpu.state.read(CpuState.RDX, 2), size, value);
        advance(cpu, i, CpuState.RSI, delta);
        return true;
    }
}
