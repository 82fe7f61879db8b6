package dev.machina.kvm;

import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.spi.AbstractGuest;
import dev.machina.hypervisor.spi.AbstractVcpu;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.spi.Traps;

/**
 * A guest run by KVM: a VM with the guest's RAM as memory slots, in-kernel PIC, IOAPIC, local
 * APICs and PIT; doorbells as ioeventfds and interrupt lines as irqfds, both served by one
 * {@link EventFdLoop} thread.
 */
final class KvmGuest extends AbstractGuest {
    private final KvmSystem system;
    private final KvmVm vm;
    private final EventFdLoop events;
    private final InterruptLines lines;
    private final IoeventfdBells bells;
    /** For doorbell writes KVM did not match to an ioeventfd (not at a doorbell's first byte). */
    private final Doorbells strayBells;

    KvmGuest(KvmSystem system, GuestMemory memory) {
        super(memory);
        this.system = system;
        this.vm = KvmVm.create(system, memory);
        try {
            this.events = new EventFdLoop(name + "-eventfds");
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
        this.lines = new InterruptLines(vm, events);
        this.bells = new IoeventfdBells(vm, events);
        this.strayBells = new Doorbells(name + "-stray");
    }

    @Override
    public String backend() {
        return KvmProvider.NAME;
    }

    @Override
    protected AbstractVcpu newVcpu(int id) {
        return KvmVcpu.create(name, id, system, vm, traps, strayBells);
    }

    @Override
    protected void attachBells(Traps.Registration trap) {
        bells.attach(trap);
    }

    @Override
    protected void detachBells(Traps.Registration trap) {
        bells.detach(trap);
    }

    @Override
    public void setInterruptLine(int gsi, boolean asserted) {
        lines.set(gsi, asserted);
    }

    @Override
    public void pulseInterruptLine(int gsi) {
        lines.pulse(gsi);
    }

    @Override
    public void signalMsi(long address, int data) {
        vm.signalMsi(address, data);
    }

    @Override
    protected void closeBackend() {
        for (Vcpu vcpu : vcpus()) {
            ((KvmVcpu) vcpu).close();
        }
        bells.close();
        lines.close();
        events.close();
        strayBells.close();
        vm.close();
    }
}
