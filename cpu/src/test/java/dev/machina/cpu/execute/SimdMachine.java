package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;

import java.io.ByteArrayOutputStream;

/**
 * A {@link LongModeMachine} for the SSE and x87 tests: XMM registers are given values through
 * memory before the code under test (MOVDQU from {@link #INPUT}, RSI), and all sixteen, with
 * MXCSR, are stored to {@link #OUTPUT} (RDI) after it. RBX points at {@link #SCRATCH} for
 * memory operands, 16-byte aligned.
 */
final class SimdMachine implements AutoCloseable {
    static final long INPUT = LongModeMachine.DATA;
    static final long OUTPUT = LongModeMachine.DATA + 0x400;
    static final long SCRATCH = LongModeMachine.DATA + 0x1000;
    private static final int MXCSR_SLOT = 256;

    final LongModeMachine machine = new LongModeMachine();
    private int loaded;
    private boolean mxcsrGiven;

    /** XMMn holds {@code low}:{@code high} when the code starts. */
    SimdMachine xmm(int n, long low, long high) {
        machine.memory.writeLong(INPUT + 16L * n, low);
        machine.memory.writeLong(INPUT + 16L * n + 8, high);
        loaded |= 1 << n;
        return this;
    }

    /** MXCSR is {@code value} when the code starts. */
    SimdMachine mxcsr(int value) {
        machine.memory.writeInt(INPUT + MXCSR_SLOT, value);
        mxcsrGiven = true;
        return this;
    }

    SimdMachine scratch(int offset, long value) {
        machine.memory.writeLong(SCRATCH + offset, value);
        return this;
    }

    long scratch(int offset) {
        return machine.memory.readLong(SCRATCH + offset);
    }

    X86State start() {
        return machine.start().with(Register.RSI, INPUT).with(Register.RDI, OUTPUT).with(Register.RBX, SCRATCH);
    }

    /** The start state with CR0 and CR4 changed. */
    X86State withControl(long cr0Set, long cr0Clear, long cr4Set, long cr4Clear) {
        X86State s = start();
        ControlRegisters c = s.control();
        return s.withControl(new ControlRegisters((c.cr0() | cr0Set) & ~cr0Clear, c.cr2(), c.cr3(),
                (c.cr4() | cr4Set) & ~cr4Clear, c.cr8(), c.efer()));
    }

    /** Runs the code between the loads and the stores; it must complete. */
    X86State run(int... code) {
        return run(start(), code);
    }

    X86State run(X86State state, int... code) {
        return machine.completes(state, assemble(code, true));
    }

    /** Runs the loads and the code (no stores after), for code expected to fault. */
    InstructionRunner.Outcome attempt(X86State state, int... code) {
        return machine.run(state, assemble(code, false));
    }

    /** The vector of the exception {@code code} raises, after the loads. */
    int faultOf(X86State state, int... code) {
        InstructionRunner.Outcome outcome = attempt(state, code);
        if (!(outcome instanceof InstructionRunner.Faulted faulted)) {
            throw new AssertionError("expected a fault, got " + outcome);
        }
        return faulted.vector();
    }

    long low(int n) {
        return machine.memory.readLong(OUTPUT + 16L * n);
    }

    long high(int n) {
        return machine.memory.readLong(OUTPUT + 16L * n + 8);
    }

    int mxcsr() {
        return machine.memory.readInt(OUTPUT + MXCSR_SLOT);
    }

    private int[] assemble(int[] code, boolean store) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (mxcsrGiven) {
            emit(bytes, 0x0F, 0xAE, 0x96, MXCSR_SLOT & 0xFF, MXCSR_SLOT >> 8, 0, 0); // ldmxcsr [rsi+256]
        }
        for (int n = 0; n < 16; n++) {
            if ((loaded & (1 << n)) != 0) {
                vectorMove(bytes, 0x6F, n, 6); // movdqu xmmN, [rsi+16n]
            }
        }
        for (int b : code) {
            bytes.write(b);
        }
        if (store) {
            for (int n = 0; n < 16; n++) {
                vectorMove(bytes, 0x7F, n, 7); // movdqu [rdi+16n], xmmN
            }
            emit(bytes, 0x0F, 0xAE, 0x9F, MXCSR_SLOT & 0xFF, MXCSR_SLOT >> 8, 0, 0); // stmxcsr [rdi+256]
        }
        byte[] raw = bytes.toByteArray();
        int[] result = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            result[i] = raw[i] & 0xFF;
        }
        return result;
    }

    private static void vectorMove(ByteArrayOutputStream bytes, int opcode, int n, int base) {
        bytes.write(0xF3);
        if (n >= 8) {
            bytes.write(0x44);
        }
        emit(bytes, 0x0F, opcode, 0x80 | (n & 7) << 3 | base, 16 * n, 0, 0, 0);
    }

    private static void emit(ByteArrayOutputStream bytes, int... values) {
        for (int v : values) {
            bytes.write(v);
        }
    }

    @Override
    public void close() {
        machine.close();
    }
}
