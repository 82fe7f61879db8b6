package dev.machina.cpu.fault;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.Segmentation;
import dev.machina.cpu.core.TripleFault;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.Descriptors;
import dev.machina.cpu.state.Flags;

/**
 * Delivers exceptions and interrupts through the IDT: the real-mode vector table, 32-bit
 * protected-mode gates with a stack switch from the TSS, and long mode's 16-byte gates with IST
 * and RSP0. A fault while delivering becomes #DF by the architecture's table; a fault while
 * delivering #DF is a triple fault.
 */
public final class Delivery {
    private enum Source { EXCEPTION, EXTERNAL, SOFTWARE }

    private final Processor cpu;
    private final CpuState state;

    public Delivery(Processor cpu) {
        this.cpu = cpu;
        this.state = cpu.state;
    }

    /** A fault or trap raised by the executor: RIP already points where the frame must return. */
    public void deliverException(CpuException first) {
        try {
            deliver(first.vector(), first.errorCode(), Source.EXCEPTION, first);
        } catch (CpuException second) {
            if (first.vector() == Vector.DF) {
                throw new TripleFault("exception " + second.getMessage() + " while delivering #DF");
            }
            boolean doubleFault = (Vector.contributory(first.vector()) && Vector.contributory(second.vector()))
                    || (first.vector() == Vector.PF && (second.vector() == Vector.PF || Vector.contributory(second.vector())));
            deliverException(doubleFault ? new CpuException(Vector.DF, 0) : second);
        }
    }

    /** An external interrupt or NMI, between instructions. */
    public void deliverExternal(int vector) {
        try {
            deliver(vector, CpuException.NO_ERROR_CODE, Source.EXTERNAL, null);
        } catch (CpuException fault) {
            deliverException(fault);
        }
    }

    /** INT n, INT3, INTO: a trap whose frame returns after the instruction; the gate's DPL is checked. */
    public void deliverSoftware(int vector) {
        deliver(vector, CpuException.NO_ERROR_CODE, Source.SOFTWARE, null);
        cpu.enteredSoftwareInterrupt();
    }

    private void deliver(int vector, int errorCode, Source source, CpuException cause) {
        if (cause instanceof PageFault fault) {
            state.cr2 = fault.address();
        }
        if (!state.protectedMode()) {
            deliverReal(vector);
        } else if (state.longModeActive()) {
            deliverLong(vector, errorCode, source);
        } else {
            deliverProtected(vector, errorCode, source);
        }
        cpu.setHalted(false);
    }

    private void deliverReal(int vector) {
        long entry = state.idtBase + vector * 4L;
        if (vector * 4L + 3 > state.idtLimit) {
            throw CpuException.generalProtection();
        }
        long offset = cpu.readSystem(entry, 2);
        int selector = (int) cpu.readSystem(entry + 2, 2);
        cpu.push(2, state.flags.get());
        cpu.push(2, state.segments[CpuState.CS].selector);
        cpu.push(2, state.rip);
        state.flags.put(Flags.IF | Flags.TF | Flags.AC | Flags.RF, false);
        state.segments[CpuState.CS].loadReal(selector);
        state.rip = offset;
    }

    private static int idtError(int vector, Source source) {
        return vector * 8 + 2 + (source == Source.EXTERNAL ? 1 : 0);
    }

    private void deliverLong(int vector, int errorCode, Source source) {
        if (vector * 16L + 15 > state.idtLimit) {
            throw new CpuException(Vector.GP, idtError(vector, source));
        }
        long low = cpu.readSystem(state.idtBase + vector * 16L, 8);
        long high = cpu.readSystem(state.idtBase + vector * 16L + 8, 8);
        int type = Descriptors.type(low);
        if (type != Descriptors.GATE_INTERRUPT && type != Descriptors.GATE_TRAP) {
            throw new CpuException(Vector.GP, idtError(vector, source));
        }
        checkGate(low, vector, source);
        long target = Descriptors.gateOffset(low) | (high << 32);
        int selector = Descriptors.gateSelector(low);
        int ist = (int) (low >>> 32) & 7;
        int cpl = state.cpl();
        int newCpl = Segmentation.codePrivilege(cpu, selector);
        if (newCpl > cpl) {
            throw CpuException.selector(Vector.GP, selector);
        }
        long oldSs = state.segments[CpuState.SS].selector;
        long oldRsp = state.registers[CpuState.RSP];
        long oldFlags = state.flags.get();
        long oldCs = state.segments[CpuState.CS].selector;
        long oldRip = state.rip;
        long rsp;
        if (ist != 0) {
            rsp = cpu.readSystem(state.tr.base + 0x24 + (ist - 1) * 8L, 8);
        } else if (newCpl < cpl) {
            rsp = cpu.readSystem(state.tr.base + 4 + newCpl * 8L, 8);
        } else {
            rsp = oldRsp;
        }
        Segmentation.enterCode(cpu, selector, newCpl, target);
        if (newCpl < cpl) {
            Segmentation.load(cpu, CpuState.SS, newCpl);
        }
        state.registers[CpuState.RSP] = rsp & ~15L;
        cpu.push(8, oldSs);
        cpu.push(8, oldRsp);
        cpu.push(8, oldFlags);
        cpu.push(8, oldCs);
        cpu.push(8, oldRip);
        if (errorCode != CpuException.NO_ERROR_CODE) {
            cpu.push(8, errorCode & 0xFFFF_FFFFL);
        }
        finishFlags(type == Descriptors.GATE_INTERRUPT);
        state.rip = target;
    }

    private void deliverProtected(int vector, int errorCode, Source source) {
        if (vector * 8L + 7 > state.idtLimit) {
            throw new CpuException(Vector.GP, idtError(vector, source));
        }
        long gate = cpu.readSystem(state.idtBase + vector * 8L, 8);
        int type = Descriptors.type(gate);
        boolean interrupt = type == Descriptors.GATE_INTERRUPT || type == Descriptors.GATE_INTERRUPT_16;
        boolean trap = type == Descriptors.GATE_TRAP || type == Descriptors.GATE_TRAP_16;
        if (!interrupt && !trap) {
            throw new CpuException(Vector.GP, idtError(vector, source));
        }
        checkGate(gate, vector, source);
        int size = (type & 8) != 0 ? 4 : 2;
        long target = Descriptors.gateOffset(gate);
        int selector = Descriptors.gateSelector(gate);
        int cpl = state.cpl();
        int newCpl = Segmentation.codePrivilege(cpu, selector);
        if (newCpl > cpl) {
            throw CpuException.selector(Vector.GP, selector);
        }
        long oldSs = state.segments[CpuState.SS].selector;
        long oldEsp = state.registers[CpuState.RSP];
        long oldFlags = state.flags.get();
        long oldCs = state.segments[CpuState.CS].selector;
        long oldEip = state.rip;
        if (newCpl < cpl) {
            long esp = cpu.readSystem(state.tr.base + 4 + newCpl * 8L, 4);
            int ss = (int) cpu.readSystem(state.tr.base + 8 + newCpl * 8L, 2);
            Segmentation.enterCode(cpu, selector, newCpl, target);
            Segmentation.load(cpu, CpuState.SS, ss);
            state.registers[CpuState.RSP] = esp;
            cpu.push(size, oldSs);
            cpu.push(size, oldEsp);
        } else {
            Segmentation.enterCode(cpu, selector, newCpl, target);
        }
        cpu.push(size, oldFlags);
        cpu.push(size, oldCs);
        cpu.push(size, oldEip);
        if (errorCode != CpuException.NO_ERROR_CODE) {
            cpu.push(size, errorCode);
        }
        finishFlags(interrupt);
        state.rip = target;
    }

    private void checkGate(long gate, int vector, Source source) {
        if (source == Source.SOFTWARE && Descriptors.dpl(gate) < state.cpl()) {
            throw new CpuException(Vector.GP, idtError(vector, source));
        }
        if (!Descriptors.present(gate)) {
            throw new CpuException(Vector.NP, idtError(vector, source));
        }
    }

    private void finishFlags(boolean interruptGate) {
        state.flags.put(Flags.TF | Flags.NT | Flags.RF | Flags.VM, false);
        if (interruptGate) {
            state.flags.put(Flags.IF, false);
        }
    }
}
