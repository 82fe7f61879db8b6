package dev.machina.hypervisor;

import dev.machina.hypervisor.memory.AddressRange;

/** A registered trap; {@link #remove()} takes it out again (a PCI BAR that moves, a device unplugged). */
public interface Trap {
    enum Kind {
        /** Synchronous guest-physical memory (MMIO). */
        MEM,
        /** Synchronous x86 port I/O. */
        IO,
        /** Asynchronous guest-physical doorbell. */
        BELL
    }

    Kind kind();

    AddressRange range();

    void remove();
}
