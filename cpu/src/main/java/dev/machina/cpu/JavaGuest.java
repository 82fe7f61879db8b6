package dev.machina.cpu;

import dev.machina.cpu.chipset.Chipset;
import dev.machina.cpu.core.BusLock;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.translate.Translator;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.spi.AbstractGuest;
import dev.machina.hypervisor.spi.AbstractVcpu;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.x86.X86MemoryMap;


/**
 * A guest of the pure-Java backend: RAM, the decoded-code cache, the translator and the bus lock
 * its vCPUs share, the {@link Chipset} (PIC, IOAPIC, PIT, a local APIC per vCPU) and the doorbell thread
 * that writes to BELL traps go to.
 */
public final class JavaGuest extends AbstractGuest {
    private final CodeCache code;
    private final Translator translator;
    private final Doorbells doorbells = new Doorbells(name);
    private final BusLock busLock = new BusLock();
    private final Chipset chipset;

    JavaGuest(long memoryBytes) {
        super(GuestMemory.allocate(X86MemoryMap.ram(memoryBytes)));
        this.code = new CodeCache(memory.size());
        memory.observeWrites(code::written);
        this.translator = Translator.inBackground(memory.mapping(), code);
        this.chipset = new Chipset(name, traps);
    }

    @Override
    public String backend() {
        return JavaHypervisorProvider.NAME;
    }

    @Override
    protected AbstractVcpu newVcpu(int id) {
        JavaVcpu vcpu = new JavaVcpu(name, id, memory, traps, doorbells, code, translator, busLock);
        vcpu.attachChipset(chipset);
        return vcpu;
    }

    @Override
    protected void closeBackend() {
        chipset.close();
        doorbells.close();
        translator.close();
    }

    @Override
    public void setInterruptLine(int gsi, boolean asserted) {
        chipset.setInterruptLine(gsi, asserted);
    }

    @Override
    public void pulseInterruptLine(int gsi) {
        chipset.pulseInterruptLine(gsi);
    }

    @Override
    public void signalMsi(long address, int data) {
        chipset.signalMsi(address, data);
    }
}
