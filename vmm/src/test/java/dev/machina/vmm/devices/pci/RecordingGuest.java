package dev.machina.vmm.devices.pci;

import dev.machina.hypervisor.BellHandler;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/** A real guest of the Java backend whose interrupt lines and MSIs are also recorded, as "gsi=level" and "msi address data". */
public final class RecordingGuest implements Guest {
    final Guest guest;
    final List<String> interrupts = new ArrayList<>();

    public RecordingGuest(Guest guest) {
        this.guest = guest;
    }

    @Override
    public String backend() {
        return guest.backend();
    }

    @Override
    public GuestMemory memory() {
        return guest.memory();
    }

    @Override
    public Trap setMemoryTrap(AddressRange range, TrapHandler handler) {
        return guest.setMemoryTrap(range, handler);
    }

    @Override
    public Trap setIoTrap(AddressRange range, TrapHandler handler) {
        return guest.setIoTrap(range, handler);
    }

    @Override
    public Trap setBellTrap(AddressRange range, BellHandler handler) {
        return guest.setBellTrap(range, handler);
    }

    @Override
    public Vcpu createVcpu(int id) {
        return guest.createVcpu(id);
    }

    @Override
    public List<Vcpu> vcpus() {
        return guest.vcpus();
    }

    @Override
    public synchronized void setInterruptLine(int gsi, boolean asserted) {
        interrupts.add(gsi + "=" + (asserted ? 1 : 0));
    }

    @Override
    public void pulseInterruptLine(int gsi) {
        throw new UnsupportedOperationException("PCI interrupts are levels or messages");
    }

    @Override
    public synchronized void signalMsi(long address, int data) {
        interrupts.add("msi %x %x".formatted(address, data));
    }

    @Override
    public void close() {
        guest.close();
    }
}
