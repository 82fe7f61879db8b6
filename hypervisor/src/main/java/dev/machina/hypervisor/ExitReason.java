package dev.machina.hypervisor;

/**
 * The reasons a vCPU leaves guest execution, after the seed's {@code kstats -v} columns for x64
 * plus the exits a KVM host reports. Backends count what they can observe; a reason a backend never
 * observes stays at zero.
 */
public enum ExitReason {
    /** Port I/O. */
    IO,
    /** MMIO to a trapped range (EPT violation on hardware). */
    MMIO,
    /** HLT. */
    HALT,
    /** An external interrupt arrived. */
    INTERRUPT,
    /** The guest opened an interrupt window the VMM waited for. */
    INTERRUPT_WINDOW,
    /** A control-register access. */
    CONTROL_REGISTER,
    MSR_READ,
    MSR_WRITE,
    CPUID,
    /** PAUSE-loop exits. */
    PAUSE,
    VMCALL,
    XSETBV,
    /** A signal or kick brought the vCPU out (KVM_EXIT_INTR). */
    SIGNAL,
    SHUTDOWN,
    SYSTEM_EVENT,
    FAIL_ENTRY,
    INTERNAL_ERROR
}
