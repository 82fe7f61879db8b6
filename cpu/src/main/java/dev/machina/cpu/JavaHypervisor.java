package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;

/** Runs guests on {@link dev.machina.cpu.core.Processor}s, one host thread per vCPU. */
public final class JavaHypervisor implements Hypervisor {
    @Override
    public String name() {
        return JavaHypervisorProvider.NAME;
    }

    @Override
    public Guest createGuest(long memoryBytes) {
        return new JavaGuest(memoryBytes);
    }
}
