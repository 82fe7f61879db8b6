package dev.machina.cpu.chipset;

/**
 * What the chipset asks of a CPU core from any thread: wake it, and the INIT and STARTUP
 * inter-processor interrupts that bring secondary CPUs up. Implementations only record the
 * request and wake the core; the core acts on it on its own thread.
 */
public interface ProcessorControl {
    /** Something changed (an interrupt became ready, a timer was set): a halted core should look again. */
    void wake();

    /**
     * INIT: the core goes to the wait-for-SIPI state (the boot processor resets instead). On its own
     * thread it also resets its local APIC ({@link LocalApic#reset()}), as INIT does on hardware.
     */
    void init();

    /** STARTUP IPI: a core waiting for SIPI starts in real mode at {@code vector << 12}. */
    void startup(int vector);
}
