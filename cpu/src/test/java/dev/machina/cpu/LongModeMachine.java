package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;

import java.util.List;

/**
 * A small 64-bit test machine: 4 MiB of RAM identity-mapped with 2 MiB pages (page tables at
 * 0x1000), a GDT at 0x500 with flat code (0x8) and data (0x10) descriptors, code loaded at
 * {@link #CODE} and a stack below {@link #STACK}.
 */
public final class LongModeMachine implements AutoCloseable {
    public static final long CODE = 0x10000;
    public static final long STACK = 0x80000;
    public static final long DATA = 0x40000;
    public static final long GDT = 0x500;
    public static final long PML4 = 0x1000;

    public final GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, 4 << 20)));
    public final InstructionRunner runner;

    public LongModeMachine() {
        writePageTables(memory);
        writeGdt(memory);
        runner = new InstructionRunner(memory);
    }

    /** Writes the page tables at {@link #PML4} that identity-map the first 4 MiB with 2 MiB pages. */
    public static void writePageTables(GuestMemory memory) {
        memory.writeLong(PML4, 0x2000 | 0x7);
        memory.writeLong(0x2000, 0x3000 | 0x7);
        memory.writeLong(0x3000, 0x0 | 0x87);
        memory.writeLong(0x3008, 0x20_0000 | 0x87);
    }

    /** Writes the flat 64-bit code (0x8) and data (0x10) descriptors at {@link #GDT}. */
    public static void writeGdt(GuestMemory memory) {
        memory.writeLong(GDT + 8, 0x00AF_9B00_0000_FFFFL);
        memory.writeLong(GDT + 16, 0x00CF_9300_0000_FFFFL);
    }

    /**
     * Puts {@code code} at {@link #CODE} with the page tables and GDT, and returns vCPU 0 set to
     * enter it in long mode; the test starts it.
     */
    public static Vcpu vcpuAt(Guest guest, byte[] code) {
        GuestMemory memory = guest.memory();
        writePageTables(memory);
        writeGdt(memory);
        memory.write(CODE, code, 0, code.length);
        Vcpu vcpu = guest.createVcpu(0);
        vcpu.writeState(longMode(CODE, STACK, PML4));
        return vcpu;
    }

    /** A port or MMIO trap that reads as 0 and runs {@code action} on each write. */
    public static TrapHandler onWrite(Runnable action) {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                action.run();
            }
        };
    }

    /** 64-bit mode at {@code rip} with the {@link #writeGdt GDT} and the page tables at {@code pml4}. */
    public static X86State longMode(long rip, long rsp, long pml4) {
        return X86State.longMode(rip, rsp, pml4, 8, new DescriptorTable(GDT, 23));
    }

    /** The state at {@link #CODE} with the stack at {@link #STACK}. */
    public X86State start() {
        return longMode(CODE, STACK, PML4);
    }

    /** Writes {@code code} at {@link #CODE} and runs it until RIP passes its end. */
    public InstructionRunner.Outcome run(X86State state, int... code) {
        return run(state, 1_000_000, code);
    }

    /** Writes {@code code} at {@link #CODE} and runs at most {@code count} instructions of it, until RIP passes its end. */
    public InstructionRunner.Outcome run(X86State state, long count, int... code) {
        byte[] bytes = new byte[code.length];
        for (int i = 0; i < code.length; i++) {
            bytes[i] = (byte) code[i];
        }
        memory.write(CODE, bytes, 0, bytes.length);
        runner.forgetCode();
        return runner.run(state, count, CODE + code.length);
    }

    /** Runs {@code code} from {@link #start()} with the given registers set and expects it to complete. */
    public X86State completes(X86State state, int... code) {
        InstructionRunner.Outcome outcome = run(state, code);
        if (!(outcome instanceof InstructionRunner.Completed completed)) {
            throw new AssertionError("expected completion, got " + outcome);
        }
        return completed.state();
    }

    public static X86State with(X86State state, Register register, long value) {
        return state.with(register, value);
    }

    /** Writes {@code bytes} (each an int for readable hex) at {@code address}. */
    public void write(long address, int... bytes) {
        for (int i = 0; i < bytes.length; i++) {
            memory.writeByte(address + i, (byte) bytes[i]);
        }
    }

    /** A 64-bit interrupt gate in the IDT at {@code idt} for {@code vector} to {@code target} in code segment 0x08. */
    public void interruptGate(long idt, int vector, long target) {
        long low = (target & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((target >>> 16) & 0xFFFF) << 48;
        memory.writeLong(idt + vector * 16L, low);
        memory.writeLong(idt + vector * 16L + 8, target >>> 32);
    }

    @Override
    public void close() {
        memory.close();
    }
}
