package dev.machina.cpu.state;

/**
 * The MSRs that are plain storage on this core. EFER, FS/GS base, the TSC and the APIC MSRs live
 * where their behaviour is (the control registers, the segment cache, the clock, the chipset).
 */
public final class ModelSpecificRegisters {
    /** Power-on PAT: WB, WT, UC-, UC repeated. */
    public static final long PAT_RESET = 0x0007_0406_0007_0406L;
    /** Fast strings enabled, as firmware leaves it. */
    public static final long MISC_ENABLE_RESET = 1;
    public static final int MTRR_COUNT = 8;

    public long star;
    public long lstar;
    public long cstar;
    public long sfmask;
    public long kernelGsBase;
    public long tscAux;
    public long pat = PAT_RESET;
    public long miscEnable = MISC_ENABLE_RESET;
    public long sysenterCs;
    public long sysenterEsp;
    public long sysenterEip;
    public long mtrrDefaultType;
    /** IA32_DEBUGCTL: stored only; branch tracing and single-stepping on branches are not implemented. */
    public long debugControl;
    /** Variable-range MTRRs: base and mask interleaved, as their MSR numbers are. */
    public final long[] mtrrVariable = new long[2 * MTRR_COUNT];
    /** The eleven fixed-range MTRRs in MSR order (0x250, 0x258, 0x259, 0x268..0x26F). */
    public final long[] mtrrFixed = new long[11];
}
