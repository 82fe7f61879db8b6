package dev.machina.hypervisor.x86;

/** Model-specific register indices Machina reads or writes by name. */
public final class Msr {
    public static final int IA32_TSC = 0x10;
    public static final int IA32_TSC_ADJUST = 0x3B;
    public static final int IA32_APIC_BASE = 0x1B;
    public static final int IA32_MISC_ENABLE = 0x1A0;
    public static final int IA32_PAT = 0x277;
    public static final int IA32_TSC_DEADLINE = 0x6E0;
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int EFER = 0xC000_0080;
    public static final int STAR = 0xC000_0081;
    public static final int LSTAR = 0xC000_0082;
    public static final int CSTAR = 0xC000_0083;
    public static final int SFMASK = 0xC000_0084;
    public static final int FS_BASE = 0xC000_0100;
    public static final int GS_BASE = 0xC000_0101;
    public static final int KERNEL_GS_BASE = 0xC000_0102;
    public static final int TSC_AUX = 0xC000_0103;

    private Msr() {
    }
}
