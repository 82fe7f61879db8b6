package dev.machina.kvm;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A KVM guest for one test: 1 MiB of RAM with a flat 32-bit GDT, an IDT the test fills, and code
 * entered in protected mode without paging, so no page tables are needed. Skips the test where
 * /dev/kvm cannot be opened.
 */
final class TinyGuest implements AutoCloseable {
    static final long RAM = 1 << 20;
    static final int GDT = 0x1000;
    static final int IDT = 0x2000;
    static final int CODE = 0x10000;
    static final int HANDLERS = 0x20000;
    static final int DATA = 0x30000;
    static final int STACK_TOP = 0x80000;
    static final int CODE_SELECTOR = 0x08;

    private static final long[] FLAT_GDT = {
            0, // null
            0x00CF_9A00_0000_FFFFL, // 0x08: code, 32-bit, 4 GiB
            0x00CF_9200_0000_FFFFL, // 0x10: data, 4 GiB
    };

    final Hypervisor hypervisor;
    final Guest guest;

    private TinyGuest(Hypervisor hypervisor, Guest guest) {
        this.hypervisor = hypervisor;
        this.guest = guest;
        for (int i = 0; i < FLAT_GDT.length; i++) {
            memory().writeLong(GDT + 8L * i, FLAT_GDT[i]);
        }
    }

    static TinyGuest create() {
        KvmProvider provider = new KvmProvider();
        var availability = provider.probe();
        assumeTrue(availability.usable(), "KVM is not usable here: " + availability.detail());
        Hypervisor hypervisor = provider.open();
        try {
            return new TinyGuest(hypervisor, hypervisor.createGuest(RAM));
        } catch (HypervisorException e) {
            hypervisor.close();
            throw e;
        }
    }

    GuestMemory memory() {
        return guest.memory();
    }

    /** Places code at {@code address}. */
    void load(int address, Code32 code) {
        byte[] bytes = code.bytes();
        memory().write(address, bytes, 0, bytes.length);
    }

    /** Points IDT vector {@code vector} at a 32-bit interrupt gate to {@code handler}. */
    void interruptGate(int vector, int handler) {
        long gate = (handler & 0xFFFFL) | (long) CODE_SELECTOR << 16 | 0x8EL << 40 | (handler & 0xFFFF_0000L) << 32;
        memory().writeLong(IDT + 8L * vector, gate);
    }

    /** Protected mode, flat segments, interrupts off, at {@code rip}, with the whole IDT. */
    static X86State protectedMode(int rip) {
        return new X86State(GeneralRegisters.reset().with(Register.RIP, rip).with(Register.RSP, STACK_TOP),
                SegmentRegisters.flat32(CODE_SELECTOR), ControlRegisters.protectedMode(),
                new DescriptorTable(GDT, 8 * FLAT_GDT.length - 1), new DescriptorTable(IDT, 8 * 256 - 1));
    }

    /** Creates vCPU {@code id} at {@code state}. */
    Vcpu vcpu(int id, X86State state) {
        Vcpu vcpu = guest.createVcpu(id);
        vcpu.writeState(state);
        return vcpu;
    }

    @Override
    public void close() {
        guest.close();
        hypervisor.close();
    }
}
