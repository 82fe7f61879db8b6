package dev.machina.cpu.chipset;

/**
 * What a CPU core asks of its local interrupt controller between instructions. Implemented by the
 * local APIC (which also forwards ExtINT from the PIC when LINT0 is in virtual-wire mode).
 * Called only on the vCPU's own thread; other threads raise interrupts through the APIC bus.
 */
public interface InterruptController {
    /**
     * Whether a maskable interrupt is ready: its priority is above the processor priority, or an
     * ExtINT is pending. The core takes it only when RFLAGS.IF is set and no interrupt shadow holds.
     */
    boolean hasInterrupt();

    /**
     * Takes the highest-priority ready interrupt (INTA): marks it in service and returns its
     * vector. Returns -1 if none is ready any more (a spurious acknowledge).
     */
    int acknowledgeInterrupt();

    /** Whether a non-maskable interrupt is pending. */
    boolean hasNmi();

    /** Takes the pending NMI. */
    void acknowledgeNmi();

    /**
     * The time ({@link System#nanoTime()} scale) at which this controller next needs the core's
     * attention even if nothing else happens (the APIC timer), or {@link Long#MAX_VALUE}. A halted
     * core sleeps until then or until woken.
     */
    long nextDeadline();

    /** Lets time-driven state (the APIC timer) catch up to {@code now}; may make an interrupt ready. */
    void advanceTo(long now);

    /**
     * The local APIC's registers: a 32-bit read of the 4 KiB page at {@code apicBase() & ~0xFFF},
     * {@code offset} (16-byte aligned) into it. The page is this vCPU's own, so the core routes it
     * here rather than through the guest's traps, and only while IA32_APIC_BASE bit 11 is set.
     */
    int readRegister(int offset);

    void writeRegister(int offset, int value);

    /** IA32_APIC_BASE. */
    long apicBase();

    void setApicBase(long value);

    /** IA32_TSC_DEADLINE. */
    long tscDeadline();

    void setTscDeadline(long value);
}
