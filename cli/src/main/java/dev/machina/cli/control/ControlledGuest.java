package dev.machina.cli.control;

import dev.machina.vmm.MachineStatistics;

/** What the control API can do to the guest it serves; the VMM's launch gives it one. */
public interface ControlledGuest {
    /** What {@code GET /} and {@code guest list} show. */
    GuestDescription describe();

    /** Holds every vCPU; returns once they are held. */
    void pause() throws InterruptedException;

    void resume();

    /** Asks the guest to power off (ACPI), and ends it where it was once {@code graceMillis} have passed. */
    void stop(long graceMillis);

    MachineStatistics statistics();

    /**
     * Guest-physical memory, copied.
     *
     * @throws IllegalArgumentException naming the range, if any of it is not RAM
     */
    byte[] readMemory(long address, int length);
}
