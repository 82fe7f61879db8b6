package dev.machina.cpu.execute;

import dev.machina.cpu.core.Processor;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.X87Registers;
import dev.machina.cpu.state.XmmRegisters;

/**
 * The floating-point control and state instructions: FNINIT, FNCLEX, FNSTSW, FNSTCW, FLDCW,
 * FNSTENV, FLDENV, FNSAVE, FRSTOR, FXSAVE, FXRSTOR, LDMXCSR and STMXCSR. The FNSTENV/FNSAVE
 * environment is 28 or 14 bytes by operand size, in the protected-mode layout (offsets and
 * selectors) or, in real mode, the real-mode one (linear pointers split around the opcode).
 */
public final class FpuEnvironment {
    /** The size of the FXSAVE image. */
    public static final int FXSAVE_SIZE = 512;
    private static final int FXSAVE_REGISTERS = 32;
    private static final int FXSAVE_XMM = 160;

    private FpuEnvironment() {
    }

    public static void initialize(Processor cpu, Instruction i) {
        cpu.state.x87.initialize();
    }

    /** FNCLEX: the exception flags, stack fault, error summary and busy bits cleared. */
    public static void clearExceptions(Processor cpu, Instruction i) {
        cpu.state.x87.status &= ~(X87Registers.EXCEPTIONS | X87Registers.STACK_FAULT | X87Registers.ERROR_SUMMARY
                | X87Registers.BUSY);
    }

    /** FNSTSW AX. */
    public static void storeStatusToAx(Processor cpu, Instruction i) {
        cpu.state.write(CpuState.RAX, 2, cpu.state.x87.statusWord());
    }

    /** FNSTSW m16. */
    public static void storeStatus(Processor cpu, Instruction i) {
        cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 2, cpu.state.x87.statusWord());
    }

    public static void storeControl(Processor cpu, Instruction i) {
        cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 2, cpu.state.x87.control);
    }

    /** FLDCW: an exception flagged and now unmasked becomes pending. */
    public static void loadControl(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        f.setControlWord((int) cpu.readMemory(i.segment(), cpu.effectiveAddress(i), 2));
        updateErrorSummary(f);
    }

    private static void updateErrorSummary(X87Registers f) {
        if ((f.status & ~f.control & X87Registers.EXCEPTIONS) != 0) {
            f.status |= X87Registers.ERROR_SUMMARY | X87Registers.BUSY;
        } else {
            f.status &= ~(X87Registers.ERROR_SUMMARY | X87Registers.BUSY);
        }
    }

    // ---- FNSTENV, FLDENV, FNSAVE, FRSTOR ----------------------------------------------------------

    /** FNSTENV: stores the environment, then masks every exception. */
    public static void storeEnvironment(Processor cpu, Instruction i) {
        long offset = cpu.effectiveAddress(i);
        cpu.requireWritable(i.segment(), offset, environmentSize(i));
        writeEnvironment(cpu, i, offset);
        cpu.state.x87.control |= X87Registers.EXCEPTIONS;
    }

    public static void loadEnvironment(Processor cpu, Instruction i) {
        readEnvironment(cpu, i, cpu.effectiveAddress(i));
        updateErrorSummary(cpu.state.x87);
    }

    /** FNSAVE: the environment and the eight registers in stack order, then FNINIT. */
    public static void saveX87State(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long offset = cpu.effectiveAddress(i);
        int size = environmentSize(i);
        cpu.requireWritable(i.segment(), offset, size + 80);
        writeEnvironment(cpu, i, offset);
        for (int st = 0; st < 8; st++) {
            int r = f.physical(st);
            put(cpu, i, offset, size + 10 * st, 8, f.significand[r]);
            put(cpu, i, offset, size + 10 * st + 8, 2, f.signExponent[r]);
        }
        f.initialize();
    }

    public static void restoreX87State(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        long offset = cpu.effectiveAddress(i);
        int size = environmentSize(i);
        readEnvironment(cpu, i, offset);
        for (int st = 0; st < 8; st++) {
            int r = f.physical(st);
            f.significand[r] = get(cpu, i, offset, size + 10 * st, 8);
            f.signExponent[r] = (int) get(cpu, i, offset, size + 10 * st + 8, 2);
        }
        updateErrorSummary(f);
    }

    private static int environmentSize(Instruction i) {
        return i.operandSize() == 2 ? 14 : 28;
    }

    /**
     * The environment: control, status and full tag words, then the instruction pointer and
     * opcode, then the operand pointer. In protected mode the pointers are offsets with their
     * selectors, in real mode linear addresses whose high bits share a field with the opcode;
     * 16-bit fields in the 14-byte form, 32-bit (reserved halves all ones, as hardware writes)
     * in the 28-byte one.
     */
    private static void writeEnvironment(Processor cpu, Instruction i, long offset) {
        X87Registers f = cpu.state.x87;
        boolean small = i.operandSize() == 2;
        int step = small ? 2 : 4;
        long reserved = small ? 0 : 0xFFFF_0000L;
        put(cpu, i, offset, 0, step, reserved | f.control);
        put(cpu, i, offset, step, step, reserved | f.statusWord());
        put(cpu, i, offset, 2 * step, step, reserved | f.fullTagWord());
        if (!cpu.state.protectedMode()) {
            long instruction = linear(f.lastCodeSelector, f.lastInstruction);
            long operand = linear(f.lastDataSelector, f.lastOperand);
            long high = small ? 0xF : 0xFFFF;
            put(cpu, i, offset, 3 * step, step, reserved | (instruction & 0xFFFF));
            put(cpu, i, offset, 4 * step, step, (instruction >>> 16 & high) << 12 | (f.lastOpcode & 0x7FF));
            put(cpu, i, offset, 5 * step, step, reserved | (operand & 0xFFFF));
            put(cpu, i, offset, 6 * step, step, (operand >>> 16 & high) << 12);
        } else if (small) {
            put(cpu, i, offset, 6, 2, f.lastInstruction);
            put(cpu, i, offset, 8, 2, f.lastCodeSelector);
            put(cpu, i, offset, 10, 2, f.lastOperand);
            put(cpu, i, offset, 12, 2, f.lastDataSelector);
        } else {
            put(cpu, i, offset, 12, 4, f.lastInstruction);
            put(cpu, i, offset, 16, 4, f.lastCodeSelector | (long) (f.lastOpcode & 0x7FF) << 16);
            put(cpu, i, offset, 20, 4, f.lastOperand);
            put(cpu, i, offset, 24, 4, 0xFFFF_0000L | f.lastDataSelector);
        }
    }

    /** A real-mode pointer as the FPU keeps it: the linear address of selector:offset. */
    private static long linear(int selector, long offset) {
        return ((long) selector << 4) + offset & 0xFFFF_FFFFL;
    }

    private static void readEnvironment(Processor cpu, Instruction i, long offset) {
        X87Registers f = cpu.state.x87;
        boolean small = i.operandSize() == 2;
        int step = small ? 2 : 4;
        int control = (int) get(cpu, i, offset, 0, 2);
        int status = (int) get(cpu, i, offset, step, 2);
        int tags = (int) get(cpu, i, offset, 2 * step, 2);
        long instruction = get(cpu, i, offset, 3 * step, step);
        long opcodeField = get(cpu, i, offset, 4 * step, step);
        long operand = get(cpu, i, offset, 5 * step, step);
        long dataField = get(cpu, i, offset, 6 * step, step);
        f.setControlWord(control);
        f.setStatusWord(status);
        f.setFullTagWord(tags);
        if (!cpu.state.protectedMode()) {
            long high = small ? 0xF : 0xFFFF;
            f.lastInstruction = (instruction & 0xFFFF) | (opcodeField >>> 12 & high) << 16;
            f.lastOpcode = (int) opcodeField & 0x7FF;
            f.lastOperand = (operand & 0xFFFF) | (dataField >>> 12 & high) << 16;
            f.lastCodeSelector = 0;
            f.lastDataSelector = 0;
            return;
        }
        f.lastInstruction = instruction;
        f.lastCodeSelector = (int) opcodeField & 0xFFFF;
        if (!small) {
            f.lastOpcode = (int) (opcodeField >>> 16) & 0x7FF;
        }
        f.lastOperand = operand;
        f.lastDataSelector = (int) dataField & 0xFFFF;
    }

    private static void put(Processor cpu, Instruction i, long base, int offset, int size, long value) {
        cpu.writeMemory(i.segment(), Processor.wrapAddress(base + offset, i.addressSize()), size, value);
    }

    private static long get(Processor cpu, Instruction i, long base, int offset, int size) {
        return cpu.readMemory(i.segment(), Processor.wrapAddress(base + offset, i.addressSize()), size);
    }

    // ---- FXSAVE, FXRSTOR ----------------------------------------------------------------------------

    /**
     * FXSAVE: the 512-byte image (16-byte alignment is checked before it runs). With REX.W the
     * instruction and operand pointers are 64-bit; otherwise they are 32-bit offsets with their
     * selectors. XMM8-15 are saved in 64-bit mode only. The reserved and software bytes after
     * the XMM registers are left as they were.
     */
    public static void saveFullState(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        XmmRegisters x = cpu.state.sse;
        long offset = cpu.effectiveAddress(i);
        cpu.requireWritable(i.segment(), offset, FXSAVE_SIZE);
        put(cpu, i, offset, 0, 2, f.control);
        put(cpu, i, offset, 2, 2, f.statusWord());
        put(cpu, i, offset, 4, 2, f.valid);
        put(cpu, i, offset, 6, 2, f.lastOpcode);
        if (i.has(Instruction.REX_W)) {
            put(cpu, i, offset, 8, 8, f.lastInstruction);
            put(cpu, i, offset, 16, 8, f.lastOperand);
        } else {
            put(cpu, i, offset, 8, 4, f.lastInstruction);
            put(cpu, i, offset, 12, 4, f.lastCodeSelector);
            put(cpu, i, offset, 16, 4, f.lastOperand);
            put(cpu, i, offset, 20, 4, f.lastDataSelector);
        }
        put(cpu, i, offset, 24, 4, x.mxcsr);
        put(cpu, i, offset, 28, 4, XmmRegisters.MXCSR_MASK);
        for (int st = 0; st < 8; st++) {
            int r = f.physical(st);
            int slot = FXSAVE_REGISTERS + 16 * st;
            put(cpu, i, offset, slot, 8, f.significand[r]);
            put(cpu, i, offset, slot + 8, 8, f.signExponent[r]);
        }
        int registers = cpu.state.in64BitMode() ? 16 : 8;
        for (int n = 0; n < registers; n++) {
            put(cpu, i, offset, FXSAVE_XMM + 16 * n, 8, x.low(n));
            put(cpu, i, offset, FXSAVE_XMM + 16 * n + 8, 8, x.high(n));
        }
    }

    /** FXRSTOR: the image back; an MXCSR with bits outside MXCSR_MASK raises #GP(0) before anything changes. */
    public static void restoreFullState(Processor cpu, Instruction i) {
        X87Registers f = cpu.state.x87;
        XmmRegisters x = cpu.state.sse;
        long offset = cpu.effectiveAddress(i);
        int mxcsr = (int) get(cpu, i, offset, 24, 4);
        if ((mxcsr & ~XmmRegisters.MXCSR_MASK) != 0) {
            throw CpuException.generalProtection();
        }
        int registers = cpu.state.in64BitMode() ? 16 : 8;
        // Read everything before changing anything, so a fault part-way leaves the state whole.
        get(cpu, i, offset, FXSAVE_XMM + 16 * registers - 1, 1);
        f.setControlWord((int) get(cpu, i, offset, 0, 2));
        f.setStatusWord((int) get(cpu, i, offset, 2, 2));
        f.valid = (int) get(cpu, i, offset, 4, 1);
        f.lastOpcode = (int) get(cpu, i, offset, 6, 2) & 0x7FF;
        if (i.has(Instruction.REX_W)) {
            f.lastInstruction = get(cpu, i, offset, 8, 8);
            f.lastOperand = get(cpu, i, offset, 16, 8);
        } else {
            f.lastInstruction = get(cpu, i, offset, 8, 4);
            f.lastCodeSelector = (int) get(cpu, i, offset, 12, 2);
            f.lastOperand = get(cpu, i, offset, 16, 4);
            f.lastDataSelector = (int) get(cpu, i, offset, 20, 2);
        }
        x.mxcsr = mxcsr;
        for (int st = 0; st < 8; st++) {
            int r = f.physical(st);
            int slot = FXSAVE_REGISTERS + 16 * st;
            f.significand[r] = get(cpu, i, offset, slot, 8);
            f.signExponent[r] = (int) get(cpu, i, offset, slot + 8, 2);
        }
        for (int n = 0; n < registers; n++) {
            x.set(n, get(cpu, i, offset, FXSAVE_XMM + 16 * n, 8), get(cpu, i, offset, FXSAVE_XMM + 16 * n + 8, 8));
        }
    }

    // ---- MXCSR ----------------------------------------------------------------------------------------

    /** LDMXCSR: reserved bits set raise #GP(0). */
    public static void loadMxcsr(Processor cpu, Instruction i) {
        int value = (int) cpu.readMemory(i.segment(), cpu.effectiveAddress(i), 4);
        if ((value & ~XmmRegisters.MXCSR_MASK) != 0) {
            throw CpuException.generalProtection();
        }
        cpu.state.sse.mxcsr = value;
    }

    public static void storeMxcsr(Processor cpu, Instruction i) {
        cpu.writeMemory(i.segment(), cpu.effectiveAddress(i), 4, cpu.state.sse.mxcsr);
    }
}
