package dev.machina.hypervisor;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;

import java.util.List;

/**
 * A guest: its physical address space (RAM plus trapped ranges), its vCPUs and its interrupt
 * lines. The object model of the Zircon hypervisor's guest; which backend runs it is invisible
 * through this interface.
 */
public interface Guest extends AutoCloseable {
    /** Doorbells of a {@link Trap.Kind#BELL} trap are this many bytes apart. */
    int BELL_STRIDE = 4;

    /** The backend's name, as {@code --backend} spells it. */
    String backend();

    /** The guest's RAM. */
    GuestMemory memory();

    /**
     * Traps guest-physical {@code range} (outside RAM) synchronously: reads and writes there call
     * {@code handler} on the accessing vCPU's thread.
     *
     * @throws IllegalArgumentException if the range overlaps RAM or another trap
     */
    Trap setMemoryTrap(AddressRange range, TrapHandler handler);

    /**
     * Traps x86 ports {@code range} synchronously.
     *
     * @throws IllegalArgumentException if the range overlaps another trap or leaves 0..0xFFFF
     */
    Trap setIoTrap(AddressRange range, TrapHandler handler);

    /**
     * Traps guest-physical {@code range} as doorbells, {@link #BELL_STRIDE} bytes apart: a write
     * does not stop the vCPU and is delivered to {@code handler} on the doorbell thread.
     *
     * @throws IllegalArgumentException if the range overlaps RAM or another trap, or is not a whole
     *         number of doorbells
     */
    Trap setBellTrap(AddressRange range, BellHandler handler);

    /**
     * Creates vCPU {@code id} (0 is the boot processor) in the RESET state; until
     * {@link Vcpu#writeState} gives it a state, a secondary vCPU waits for INIT/SIPI.
     */
    Vcpu createVcpu(int id);

    /** The vCPUs created so far, by id. */
    List<Vcpu> vcpus();

    /** Drives interrupt line {@code gsi} (a level-triggered source holds it asserted). */
    void setInterruptLine(int gsi, boolean asserted);

    /** Raises and lowers interrupt line {@code gsi}: one edge-triggered interrupt. */
    void pulseInterruptLine(int gsi);

    /** Delivers a message-signalled interrupt as a PCI device would write it. */
    void signalMsi(long address, int data);

    /** Stops every vCPU, waits for their loops to end and releases the guest's memory. */
    @Override
    void close();
}
