package dev.machina.cpu.core;

import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Descriptors;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.SegmentRegister;
import dev.machina.hypervisor.x86.Segment;

/**
 * Segment-register loads and the far transfers that change CS: descriptor lookup in the GDT or
 * LDT with the checks protected mode makes, real-mode loads, far JMP/CALL/RET and IRET in each
 * mode. Call gates, task gates and task switches are not supported (#GP).
 */
public final class Segmentation {
    private static final int[] DATA_SEGMENTS = {CpuState.ES, CpuState.DS, CpuState.FS, CpuState.GS};

    private Segmentation() {
    }

    /** The 8-byte descriptor {@code selector} names; #GP(selector) past the table's limit. */
    public static long descriptor(Processor cpu, int selector) {
        CpuState s = cpu.state;
        boolean local = (selector & 4) != 0;
        long base = local ? s.ldtr.base : s.gdtBase;
        int limit = local ? s.ldtr.limit : s.gdtLimit;
        int offset = selector & 0xFFF8;
        if (offset + 7 > (limit & 0xFFFF_FFFFL) || (local && !s.ldtr.usable())) {
            throw CpuException.selector(Vector.GP, selector);
        }
        return cpu.readSystem(base + offset, 8);
    }

    /** The upper half of a 16-byte system descriptor in long mode. */
    public static long descriptorHigh(Processor cpu, int selector) {
        return cpu.readSystem(cpu.state.gdtBase + (selector & 0xFFF8) + 8, 8);
    }

    /** MOV/POP to a data segment register or SS, with protected mode's checks. */
    public static void load(Processor cpu, int segment, int selector) {
        CpuState s = cpu.state;
        SegmentRegister target = s.segments[segment];
        if (!s.protectedMode()) {
            target.loadReal(selector);
            return;
        }
        if ((selector & 0xFFFC) == 0) {
            if (segment == CpuState.SS && !(s.in64BitMode() && s.cpl() < 3)) {
                throw CpuException.generalProtection();
            }
            target.selector = selector & 0xFFFF;
            target.base = 0;
            target.limit = 0;
            target.attributes = Segment.UNUSABLE | (segment == CpuState.SS ? s.cpl() << 5 : 0);
            return;
        }
        long descriptor = descriptor(cpu, selector);
        if (!Descriptors.codeOrData(descriptor)) {
            throw CpuException.selector(Vector.GP, selector);
        }
        boolean code = Descriptors.code(descriptor);
        boolean writable = (Descriptors.type(descriptor) & Segment.TYPE_DATA_WRITABLE) != 0;
        if (segment == CpuState.SS ? code || !writable : code && !writable) {
            throw CpuException.selector(Vector.GP, selector);
        }
        if (!Descriptors.present(descriptor)) {
            throw CpuException.selector(segment == CpuState.SS ? Vector.SS : Vector.NP, selector);
        }
        target.loadDescriptor(selector, descriptor);
    }

    /** Loads CS for a transfer to {@code selector} at privilege {@code cpl}. */
    private static void loadCode(Processor cpu, int selector, int cpl) {
        CpuState s = cpu.state;
        long descriptor = descriptor(cpu, selector);
        if (!Descriptors.code(descriptor)) {
            throw CpuException.selector(Vector.GP, selector);
        }
        if (!Descriptors.present(descriptor)) {
            throw CpuException.selector(Vector.NP, selector);
        }
        s.segments[CpuState.CS].loadDescriptor((selector & ~3) | cpl, descriptor);
    }

    /** Enters code at {@code selector}:{@code offset} at privilege {@code cpl} (interrupt and exception delivery). */
    public static void enterCode(Processor cpu, int selector, int cpl, long offset) {
        loadCode(cpu, selector, cpl);
        cpu.state.rip = offset;
    }

    /** The privilege level code at {@code selector} runs at (its descriptor's DPL; conforming code keeps the CPL). */
    public static int codePrivilege(Processor cpu, int selector) {
        long descriptor = descriptor(cpu, selector);
        boolean conforming = (Descriptors.type(descriptor) & 4) != 0;
        return conforming ? cpu.state.cpl() : Descriptors.dpl(descriptor);
    }

    /** JMP far (and the transfer half of CALL far): same privilege only. */
    public static void farJump(Processor cpu, int selector, long offset) {
        CpuState s = cpu.state;
        if (!s.protectedMode()) {
            s.segments[CpuState.CS].loadReal(selector);
            s.rip = offset & 0xFFFF_FFFFL;
            return;
        }
        if ((selector & 0xFFFC) == 0) {
            throw CpuException.generalProtection();
        }
        loadCode(cpu, selector, s.cpl());
        s.rip = s.in64BitMode() ? offset : offset & 0xFFFF_FFFFL;
    }

    /** RETF: pops the return address (and, to an outer ring, the stack), then an extra {@code release} bytes. */
    public static void farReturn(Processor cpu, int size, int release) {
        CpuState s = cpu.state;
        long offset = cpu.pop(size);
        int selector = (int) cpu.pop(size) & 0xFFFF;
        adjustStack(cpu, release);
        if (!s.protectedMode()) {
            s.segments[CpuState.CS].loadReal(selector);
            s.rip = offset;
            return;
        }
        int rpl = selector & 3;
        if (rpl < s.cpl()) {
            throw CpuException.selector(Vector.GP, selector);
        }
        if (rpl == s.cpl()) {
            loadCode(cpu, selector, rpl);
            s.rip = offset;
            return;
        }
        long rsp = cpu.pop(size);
        int ss = (int) cpu.pop(size) & 0xFFFF;
        loadCode(cpu, selector, rpl);
        load(cpu, CpuState.SS, ss);
        s.write(CpuState.RSP, cpu.stackAddressSize(), rsp);
        adjustStack(cpu, release);
        s.rip = offset;
        clearDataSegmentsAbove(s, rpl);
    }

    private static void adjustStack(Processor cpu, int bytes) {
        if (bytes != 0) {
            int size = cpu.stackAddressSize();
            cpu.state.write(CpuState.RSP, size, cpu.state.registers[CpuState.RSP] + bytes);
        }
    }

    /** IRET, IRETD, IRETQ in real, protected and long mode (no task return, no virtual-8086). */
    public static void interruptReturn(Processor cpu, int size) {
        CpuState s = cpu.state;
        if (s.protectedMode() && s.flags.isSet(Flags.NT) && !s.longModeActive()) {
            throw CpuException.generalProtection();
        }
        long offset = cpu.pop(size);
        int selector = (int) cpu.pop(size) & 0xFFFF;
        long flags = cpu.pop(size);
        cpu.blockNmi(false);
        if (!s.protectedMode()) {
            s.segments[CpuState.CS].loadReal(selector);
            s.rip = offset & 0xFFFF;
            setFlags(cpu, flags, size, 0);
            return;
        }
        int cpl = s.cpl();
        int rpl = selector & 3;
        if (rpl < cpl) {
            throw CpuException.selector(Vector.GP, selector);
        }
        boolean popStack = rpl != cpl || s.in64BitMode();
        long rsp = 0;
        int ss = 0;
        if (popStack) {
            rsp = cpu.pop(size);
            ss = (int) cpu.pop(size) & 0xFFFF;
        }
        loadCode(cpu, selector, rpl);
        if (popStack) {
            load(cpu, CpuState.SS, ss);
            s.registers[CpuState.RSP] = size == 8 || cpu.stackAddressSize() == 8 ? rsp : rsp & 0xFFFF_FFFFL;
        }
        s.rip = s.in64BitMode() ? offset : offset & 0xFFFF_FFFFL;
        // The privilege checks are the returning code's: an IRET from ring 0 to ring 3 restores IF.
        setFlags(cpu, flags, size, cpl);
        if (rpl > cpl) {
            clearDataSegmentsAbove(s, rpl);
        }
    }

    /**
     * Writes popped flags: IOPL only at CPL 0, IF only when CPL <= IOPL, VM never. {@code cpl} is
     * the privilege of the code that pops them, which IRET may already have left.
     */
    public static void setFlags(Processor cpu, long value, int size, int cpl) {
        CpuState s = cpu.state;
        long current = s.flags.get();
        long writable = Flags.WRITABLE & ~Flags.VIF & ~Flags.VIP;
        if (cpl != 0) {
            writable &= ~Flags.IOPL;
        }
        long iopl = (current & Flags.IOPL) >>> 12;
        if (s.protectedMode() && cpl > iopl) {
            writable &= ~Flags.IF;
        }
        if (size == 2) {
            writable &= 0xFFFF;
        }
        s.flags.set((current & ~writable) | (value & writable));
    }

    /** A return to an outer ring nulls data segments the new CPL may not use. */
    private static void clearDataSegmentsAbove(CpuState s, int cpl) {
        for (int segment : DATA_SEGMENTS) {
            SegmentRegister register = s.segments[segment];
            boolean conformingCode = (register.attributes & 0x1C) == 0x1C;
            if (register.usable() && !conformingCode && register.dpl() < cpl) {
                register.selector = 0;
                register.attributes = Segment.UNUSABLE;
            }
        }
    }
}
