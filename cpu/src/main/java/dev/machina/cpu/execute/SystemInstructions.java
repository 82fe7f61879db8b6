package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.Segmentation;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.DebugRegisters;
import dev.machina.cpu.state.Descriptors;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.SegmentRegister;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Segment;

/**
 * System instructions: flag control, HLT, PAUSE, CPUID, MSRs, the TSC, control and debug
 * registers, descriptor-table registers, INVLPG, SYSCALL/SYSRET, SWAPGS and software interrupts.
 * Those a hardware VMM would see as exits are counted as such.
 */
public final class SystemInstructions {
    private static final int FLAT_CODE_64 = Segment.TYPE_CODE | Segment.TYPE_CODE_READABLE | Segment.TYPE_ACCESSED
            | (1 << 4) | (1 << 7) | (1 << 13) | (1 << 15);
    private static final int FLAT_CODE_32 = Segment.TYPE_CODE | Segment.TYPE_CODE_READABLE | Segment.TYPE_ACCESSED
            | (1 << 4) | (1 << 7) | (1 << 14) | (1 << 15);
    private static final int FLAT_DATA = Segment.TYPE_DATA_WRITABLE | Segment.TYPE_ACCESSED
            | (1 << 4) | (1 << 7) | (1 << 14) | (1 << 15);
    private static final int USER = 3 << 5;

    private SystemInstructions() {
    }

    public static void nop(Processor cpu, Instruction i) {
        // Fences, cache control and hint NOPs have nothing to do on this core: its memory is coherent.
    }

    public static void undefined(Processor cpu, Instruction i) {
        throw CpuException.invalidOpcode();
    }

    public static void halt(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.counters().exited(ExitReason.HALT);
        cpu.setHalted(true);
    }

    public static void pause(Processor cpu, Instruction i) {
        cpu.counters().exited(ExitReason.PAUSE);
        Thread.onSpinWait();
    }

    // ---- flags ----------------------------------------------------------------------------------

    public static void clearCarry(Processor cpu, Instruction i) {
        cpu.state.flags.setArithmetic(Flags.CF, 0);
    }

    public static void setCarry(Processor cpu, Instruction i) {
        cpu.state.flags.setArithmetic(Flags.CF, Flags.CF);
    }

    public static void complementCarry(Processor cpu, Instruction i) {
        cpu.state.flags.setArithmetic(Flags.CF, cpu.state.flags.carry() ? 0 : Flags.CF);
    }

    public static void clearDirection(Processor cpu, Instruction i) {
        cpu.state.flags.put(Flags.DF, false);
    }

    public static void setDirection(Processor cpu, Instruction i) {
        cpu.state.flags.put(Flags.DF, true);
    }

    public static void clearInterruptFlag(Processor cpu, Instruction i) {
        cpu.requireIoPrivilege();
        cpu.state.flags.put(Flags.IF, false);
    }

    /** STI: interrupts stay blocked until after the next instruction (so "sti; hlt" cannot miss one). */
    public static void setInterruptFlag(Processor cpu, Instruction i) {
        cpu.requireIoPrivilege();
        if (!cpu.state.flags.isSet(Flags.IF)) {
            cpu.state.flags.put(Flags.IF, true);
            cpu.holdInterrupts();
        }
    }

    public static void loadFlagsIntoAh(Processor cpu, Instruction i) {
        cpu.state.write(CpuState.AH, 1, cpu.state.flags.get() & 0xFF);
    }

    public static void storeFlagsFromAh(Processor cpu, Instruction i) {
        long mask = Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF;
        cpu.state.flags.setArithmetic(mask, cpu.state.read(CpuState.AH, 1));
    }

    // ---- identification, MSRs, time ---------------------------------------------------------------

    public static void cpuid(Processor cpu, Instruction i) {
        cpu.counters().exited(ExitReason.CPUID);
        cpu.system().cpuid();
    }

    public static void readMsr(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.counters().exited(ExitReason.MSR_READ);
        setPair(cpu, cpu.system().readMsr((int) cpu.state.registers[CpuState.RCX]));
    }

    public static void writeMsr(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.counters().exited(ExitReason.MSR_WRITE);
        long[] r = cpu.state.registers;
        cpu.system().writeMsr((int) r[CpuState.RCX], (r[CpuState.RDX] << 32) | (r[CpuState.RAX] & 0xFFFF_FFFFL));
    }

    public static void readTimeStamp(Processor cpu, Instruction i) {
        setPair(cpu, cpu.system().timeStamp());
    }

    public static void readTimeStampAndAux(Processor cpu, Instruction i) {
        setPair(cpu, cpu.system().timeStamp());
        cpu.state.registers[CpuState.RCX] = cpu.state.msrs.tscAux;
    }

    public static void readProcessorId(Processor cpu, Instruction i) {
        cpu.state.write(i.rm(), cpu.state.in64BitMode() ? 8 : 4, cpu.state.msrs.tscAux);
    }

    /** RDRAND: a random number of the operand's size, which never runs out (CF set, the other arithmetic flags clear). */
    public static void readRandom(Processor cpu, Instruction i) {
        cpu.state.write(i.rm(), i.operandSize(), cpu.system().randomNumber());
        cpu.state.flags.setArithmetic(Flags.CF);
    }

    /** EDX:EAX = value, upper halves cleared. */
    private static void setPair(Processor cpu, long value) {
        cpu.state.registers[CpuState.RAX] = value & 0xFFFF_FFFFL;
        cpu.state.registers[CpuState.RDX] = value >>> 32;
    }

    // ---- control and debug registers --------------------------------------------------------------

    public static void movFromControl(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.counters().exited(ExitReason.CONTROL_REGISTER);
        cpu.state.write(i.rm(), systemSize(cpu), cpu.system().readControl(i.reg()));
    }

    public static void movToControl(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.counters().exited(ExitReason.CONTROL_REGISTER);
        cpu.system().writeControl(i.reg(), cpu.state.read(i.rm(), systemSize(cpu)));
    }

    public static void movFromDebug(Processor cpu, Instruction i) {
        int number = debugRegister(cpu, i);
        cpu.state.write(i.rm(), systemSize(cpu), cpu.state.debug.read(number));
    }

    /** A new breakpoint address or control takes effect at once: the TLB forgets the pages a data breakpoint now watches. */
    public static void movToDebug(Processor cpu, Instruction i) {
        int number = debugRegister(cpu, i);
        if (!cpu.state.debug.write(number, cpu.state.read(i.rm(), systemSize(cpu)))) {
            throw CpuException.generalProtection();
        }
        if (number != 6) {
            cpu.mmu().flushAll();
        }
    }

    /**
     * The debug register a MOV names, after its checks in the SDM's order: CPL 0; DR4 and DR5,
     * which alias DR6 and DR7 unless CR4.DE makes them #UD; DR7.GD, which turns the access into
     * a #DB fault with DR6.BD.
     */
    private static int debugRegister(Processor cpu, Instruction i) {
        cpu.requireKernel();
        int number = i.reg();
        if (number > 7 || ((number == 4 || number == 5) && (cpu.state.cr4 & ControlRegisters.CR4_DE) != 0)) {
            throw CpuException.invalidOpcode();
        }
        DebugRegisters debug = cpu.state.debug;
        if (debug.generalDetect()) {
            debug.clearGeneralDetect();
            debug.report(DebugRegisters.DETECTED_ACCESS);
            throw CpuException.of(Vector.DB);
        }
        return number == 4 || number == 5 ? number + 2 : number;
    }

    private static int systemSize(Processor cpu) {
        return cpu.state.in64BitMode() ? 8 : 4;
    }

    public static void clearTaskSwitched(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.state.cr0 &= ~ControlRegisters.CR0_TS;
    }

    public static void storeMachineStatus(Processor cpu, Instruction i) {
        if (i.memory()) {
            cpu.writeRm(i, 2, cpu.state.cr0);
        } else {
            cpu.writeDestination(i, cpu.state.cr0);
        }
    }

    /** LMSW: sets PE, MP, EM, TS from the low bits; it can set PE but never clear it. */
    public static void loadMachineStatus(Processor cpu, Instruction i) {
        cpu.requireKernel();
        long value = cpu.readRm(i, 2) & 0xF;
        long cr0 = cpu.state.cr0;
        cpu.system().writeCr0((cr0 & ~0xEL) | value | (cr0 & ControlRegisters.CR0_PE));
    }

    public static void invalidatePage(Processor cpu, Instruction i) {
        cpu.requireKernel();
        cpu.mmu().flushPage(cpu.linear(i.segment(), cpu.effectiveAddress(i)));
    }

    // ---- descriptor tables --------------------------------------------------------------------------

    public static void loadGdt(Processor cpu, Instruction i) {
        cpu.requireKernel();
        long offset = cpu.effectiveAddress(i);
        int limit = (int) cpu.readMemory(i.segment(), offset, 2);
        long base = tableBase(cpu, i, offset);
        cpu.state.gdtLimit = limit;
        cpu.state.gdtBase = base;
    }

    public static void loadIdt(Processor cpu, Instruction i) {
        cpu.requireKernel();
        long offset = cpu.effectiveAddress(i);
        int limit = (int) cpu.readMemory(i.segment(), offset, 2);
        long base = tableBase(cpu, i, offset);
        cpu.state.idtLimit = limit;
        cpu.state.idtBase = base;
    }

    private static long tableBase(Processor cpu, Instruction i, long offset) {
        long address = Processor.wrapAddress(offset + 2, i.addressSize());
        if (cpu.state.in64BitMode()) {
            return cpu.readMemory(i.segment(), address, 8);
        }
        long base = cpu.readMemory(i.segment(), address, 4);
        return i.operandSize() == 2 ? base & 0xFF_FFFF : base;
    }

    public static void storeGdt(Processor cpu, Instruction i) {
        storeTable(cpu, i, cpu.state.gdtLimit, cpu.state.gdtBase);
    }

    public static void storeIdt(Processor cpu, Instruction i) {
        storeTable(cpu, i, cpu.state.idtLimit, cpu.state.idtBase);
    }

    private static void storeTable(Processor cpu, Instruction i, int limit, long base) {
        long offset = cpu.effectiveAddress(i);
        cpu.writeMemory(i.segment(), offset, 2, limit);
        cpu.writeMemory(i.segment(), Processor.wrapAddress(offset + 2, i.addressSize()), cpu.state.in64BitMode() ? 8 : 4, base);
    }

    public static void storeLdtr(Processor cpu, Instruction i) {
        storeSelector(cpu, i, cpu.state.ldtr.selector);
    }

    public static void storeTaskRegister(Processor cpu, Instruction i) {
        storeSelector(cpu, i, cpu.state.tr.selector);
    }

    private static void storeSelector(Processor cpu, Instruction i, int selector) {
        requireProtectedMode(cpu);
        cpu.writeRm(i, i.memory() ? 2 : Math.max(2, i.operandSize()), selector);
    }

    public static void loadLdtr(Processor cpu, Instruction i) {
        requireProtectedMode(cpu);
        cpu.requireKernel();
        int selector = (int) cpu.readRm(i, 2);
        SegmentRegister ldtr = cpu.state.ldtr;
        if ((selector & 0xFFFC) == 0) {
            ldtr.selector = selector;
            ldtr.attributes = Segment.UNUSABLE;
            return;
        }
        long descriptor = systemDescriptor(cpu, selector, Descriptors.SYSTEM_LDT);
        ldtr.loadDescriptor(selector, descriptor);
        if (cpu.state.longModeActive()) {
            ldtr.base |= Segmentation.descriptorHigh(cpu, selector) << 32;
        }
    }

    /** LTR: loads an available TSS and marks its descriptor busy. */
    public static void loadTaskRegister(Processor cpu, Instruction i) {
        requireProtectedMode(cpu);
        cpu.requireKernel();
        int selector = (int) cpu.readRm(i, 2);
        if ((selector & 0xFFFC) == 0 || (selector & 4) != 0) {
            throw CpuException.selector(Vector.GP, selector);
        }
        long descriptor = systemDescriptor(cpu, selector, Descriptors.SYSTEM_TSS_AVAILABLE);
        SegmentRegister tr = cpu.state.tr;
        tr.loadDescriptor(selector, descriptor);
        if (cpu.state.longModeActive()) {
            tr.base |= Segmentation.descriptorHigh(cpu, selector) << 32;
        }
        long busy = descriptor | ((long) (Descriptors.SYSTEM_TSS_BUSY ^ Descriptors.SYSTEM_TSS_AVAILABLE) << 40);
        cpu.writeSystem(cpu.state.gdtBase + (selector & 0xFFF8), 8, busy);
        tr.attributes = (tr.attributes & ~0xF) | Descriptors.SYSTEM_TSS_BUSY;
    }

    private static long systemDescriptor(Processor cpu, int selector, int type) {
        long descriptor = Segmentation.descriptor(cpu, selector);
        if (Descriptors.codeOrData(descriptor) || Descriptors.type(descriptor) != type) {
            throw CpuException.selector(Vector.GP, selector);
        }
        if (!Descriptors.present(descriptor)) {
            throw CpuException.selector(Vector.NP, selector);
        }
        return descriptor;
    }

    static void requireProtectedMode(Processor cpu) {
        if (!cpu.state.protectedMode()) {
            throw CpuException.invalidOpcode();
        }
    }

    // ---- fast system calls ----------------------------------------------------------------------------

    public static void syscall(Processor cpu, Instruction i) {
        CpuState s = cpu.state;
        if ((s.efer & ControlRegisters.EFER_SCE) == 0 || !s.longModeActive()) {
            throw CpuException.invalidOpcode();
        }
        int selector = (int) (s.msrs.star >>> 32) & 0xFFFC;
        s.registers[CpuState.RCX] = s.rip;
        s.registers[CpuState.R11] = s.flags.get() & ~Flags.RF;
        boolean from64 = s.in64BitMode();
        setFlat(s.segments[CpuState.CS], selector, FLAT_CODE_64);
        setFlat(s.segments[CpuState.SS], selector + 8, FLAT_DATA);
        s.flags.set(s.flags.get() & ~s.msrs.sfmask & ~Flags.RF);
        s.rip = from64 ? s.msrs.lstar : s.msrs.cstar;
    }

    public static void sysret(Processor cpu, Instruction i) {
        CpuState s = cpu.state;
        if ((s.efer & ControlRegisters.EFER_SCE) == 0 || !s.longModeActive()) {
            throw CpuException.invalidOpcode();
        }
        cpu.requireKernel();
        int base = (int) (s.msrs.star >>> 48) & 0xFFFF;
        long target = s.registers[CpuState.RCX];
        if (i.has(Instruction.REX_W)) {
            long high = target >> 47;
            if (high != 0 && high != -1) {
                throw CpuException.generalProtection();
            }
            setFlat(s.segments[CpuState.CS], (base + 16) | 3, FLAT_CODE_64 | USER);
            s.rip = target;
        } else {
            setFlat(s.segments[CpuState.CS], base | 3, FLAT_CODE_32 | USER);
            s.rip = target & 0xFFFF_FFFFL;
        }
        s.segments[CpuState.SS].selector = (base + 8) | 3;
        s.segments[CpuState.SS].attributes = FLAT_DATA | USER;
        s.flags.set(s.registers[CpuState.R11] & Flags.WRITABLE & ~Flags.RF);
    }

    private static void setFlat(SegmentRegister segment, int selector, int attributes) {
        segment.selector = selector;
        segment.base = 0;
        segment.limit = 0xFFFF_FFFF;
        segment.attributes = attributes;
    }

    public static void swapGs(Processor cpu, Instruction i) {
        cpu.requireKernel();
        SegmentRegister gs = cpu.state.segments[CpuState.GS];
        long kernel = cpu.state.msrs.kernelGsBase;
        cpu.state.msrs.kernelGsBase = gs.base;
        gs.base = kernel;
    }

    // ---- software interrupts ----------------------------------------------------------------------------

    public static void softwareInterrupt(Processor cpu, Instruction i) {
        cpu.delivery().deliverSoftware((int) i.immediate() & 0xFF);
    }

    public static void breakpoint(Processor cpu, Instruction i) {
        cpu.delivery().deliverSoftware(Vector.BP);
    }

    public static void overflowTrap(Processor cpu, Instruction i) {
        if (cpu.state.flags.overflow()) {
            cpu.delivery().deliverSoftware(Vector.OF);
        }
    }

    public static void debugTrap(Processor cpu, Instruction i) {
        cpu.delivery().deliverSoftware(Vector.DB);
    }
}
