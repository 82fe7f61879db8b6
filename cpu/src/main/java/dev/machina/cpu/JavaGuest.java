package dev.machina.cpu;

import dev.machina.cpu.decode.CodeCache;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.spi.AbstractGuest;
import dev.machina.hypervisor.spi.AbstractVcpu;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.x86.X86MemoryMap;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A guest of the pure-Java backend: RAM, the decoded-code cache and the bus lock its vCPUs
 * share, and the doorbell thread that writes to BELL traps go to.
 */
public final class JavaGuest extends AbstractGuest {
    private static final String NO_CHIPSET = "chipset not yet wired";

    private final CodeCache code;
    private final Doorbells doorbells = new Doorbells(name);
    private final ReentrantLock busLock = new ReentrantLock();

    JavaGuest(long memoryBytes) {
        super(GuestMemory.allocate(X86MemoryMap.ram(memoryBytes)));
        this.code = new CodeCache(memory.size());
    }

    @Override
    public String backend() {
        return JavaHypervisorProvider.NAME;
    }

    @Override
    protected AbstractVcpu newVcpu(int id) {
        return new JavaVcpu(name, id, memory, traps, doorbells, code, busLock);
    }

    @Override
    protected void closeBackend() {
        doorbells.close();
    }

    @Override
    public void setInterruptLine(int gsi, boolean asserted) {
        throw new UnsupportedOperationException(NO_CHIPSET);
    }

    @Override
    public void pulseInterruptLine(int gsi) {
        throw new UnsupportedOperationException(NO_CHIPSET);
    }

    @Override
    public void signalMsi(long address, int data) {
        throw new UnsupportedOperationException(NO_CHIPSET);
    }
}
