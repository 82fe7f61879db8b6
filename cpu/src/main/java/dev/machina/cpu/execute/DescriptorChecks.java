package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Descriptors;
import dev.machina.cpu.state.Flags;

/**
 * VERR, VERW, LAR and LSL: they look a selector's descriptor up as a segment load would, but
 * report through ZF whether the load would succeed instead of faulting. Linux runs VERW on every
 * return to user space on CPUs with the MDS bug, for its side effect of clearing CPU buffers.
 */
public final class DescriptorChecks {
    /** What {@link #lookUp} returns for a selector that names no descriptor: zero is never present. */
    private static final long NONE = 0;
    private static final int READABLE_CODE = 1 << 1;
    private static final int WRITABLE_DATA = 1 << 1;
    private static final int CONFORMING_CODE = 1 << 2;
    /** System descriptor types LAR accepts in long mode (LDT, available and busy 64-bit TSS); LSL takes the same. */
    private static final int LONG_MODE_SYSTEM_TYPES = 1 << Descriptors.SYSTEM_LDT
            | 1 << Descriptors.SYSTEM_TSS_AVAILABLE | 1 << Descriptors.SYSTEM_TSS_BUSY;
    /** In legacy protected mode LAR also accepts 16-bit TSSs (1, 3), call gates (4, 12) and task gates (5). */
    private static final int LEGACY_LAR_TYPES = LONG_MODE_SYSTEM_TYPES | 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 12;
    private static final int LEGACY_LSL_TYPES = LONG_MODE_SYSTEM_TYPES | 1 << 1 | 1 << 3;

    private DescriptorChecks() {
    }

    public static void verifyRead(Processor cpu, Instruction i) {
        SystemInstructions.requireProtectedMode(cpu);
        int selector = (int) cpu.readRm(i, 2);
        long descriptor = lookUp(cpu, selector);
        boolean readable = Descriptors.codeOrData(descriptor)
                && (!Descriptors.code(descriptor) || (Descriptors.type(descriptor) & READABLE_CODE) != 0)
                && privileged(cpu, selector, descriptor);
        setZero(cpu, readable);
    }

    public static void verifyWrite(Processor cpu, Instruction i) {
        SystemInstructions.requireProtectedMode(cpu);
        int selector = (int) cpu.readRm(i, 2);
        long descriptor = lookUp(cpu, selector);
        boolean writable = Descriptors.codeOrData(descriptor) && !Descriptors.code(descriptor)
                && (Descriptors.type(descriptor) & WRITABLE_DATA) != 0 && privileged(cpu, selector, descriptor);
        setZero(cpu, writable);
    }

    /** LAR: the descriptor's access rights (its second doubleword with base and limit bits cleared). */
    public static void loadAccessRights(Processor cpu, Instruction i) {
        SystemInstructions.requireProtectedMode(cpu);
        int selector = (int) cpu.readRm(i, 2);
        long descriptor = lookUp(cpu, selector);
        boolean valid = accessible(cpu, selector, descriptor, cpu.state.longModeActive() ? LONG_MODE_SYSTEM_TYPES : LEGACY_LAR_TYPES);
        if (valid) {
            cpu.writeReg(i, (descriptor >>> 32) & 0x00F0_FF00L);
        }
        setZero(cpu, valid);
    }

    /** LSL: the segment limit in bytes, granularity applied. */
    public static void loadSegmentLimit(Processor cpu, Instruction i) {
        SystemInstructions.requireProtectedMode(cpu);
        int selector = (int) cpu.readRm(i, 2);
        long descriptor = lookUp(cpu, selector);
        boolean valid = accessible(cpu, selector, descriptor, cpu.state.longModeActive() ? LONG_MODE_SYSTEM_TYPES : LEGACY_LSL_TYPES);
        if (valid) {
            cpu.writeReg(i, Descriptors.limit(descriptor) & 0xFFFF_FFFFL);
        }
        setZero(cpu, valid);
    }

    private static boolean accessible(Processor cpu, int selector, long descriptor, int systemTypes) {
        if (descriptor == NONE) {
            return false;
        }
        boolean typeAllowed = Descriptors.codeOrData(descriptor) || (systemTypes & 1 << Descriptors.type(descriptor)) != 0;
        return typeAllowed && privileged(cpu, selector, descriptor);
    }

    /** Conforming code is visible from any privilege; everything else needs DPL >= max(CPL, RPL). */
    private static boolean privileged(Processor cpu, int selector, long descriptor) {
        if (Descriptors.code(descriptor) && (Descriptors.type(descriptor) & CONFORMING_CODE) != 0) {
            return true;
        }
        return Descriptors.dpl(descriptor) >= Math.max(cpu.state.cpl(), selector & 3);
    }

    /** The descriptor, or {@link #NONE} for the null selector and selectors past their table's limit. */
    private static long lookUp(Processor cpu, int selector) {
        CpuState s = cpu.state;
        boolean local = (selector & 4) != 0;
        if ((selector & 0xFFFC) == 0 || (local && !s.ldtr.usable())) {
            return NONE;
        }
        int limit = local ? s.ldtr.limit : s.gdtLimit;
        if ((selector & 0xFFF8) + 7 > (limit & 0xFFFF_FFFFL)) {
            return NONE;
        }
        return cpu.readSystem((local ? s.ldtr.base : s.gdtBase) + (selector & 0xFFF8), 8);
    }

    private static void setZero(Processor cpu, boolean value) {
        cpu.state.flags.setArithmetic(Flags.ZF, value ? Flags.ZF : 0);
    }
}
