package dev.machina.hypervisor.x86;

/** CR0, CR2, CR3, CR4, CR8 (the task priority) and EFER, with the bits Machina refers to by name. */
public record ControlRegisters(long cr0, long cr2, long cr3, long cr4, long cr8, long efer) {
    public static final long CR0_PE = 1L;
    public static final long CR0_MP = 1L << 1;
    public static final long CR0_EM = 1L << 2;
    public static final long CR0_TS = 1L << 3;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_NE = 1L << 5;
    public static final long CR0_WP = 1L << 16;
    public static final long CR0_AM = 1L << 18;
    public static final long CR0_NW = 1L << 29;
    public static final long CR0_CD = 1L << 30;
    public static final long CR0_PG = 1L << 31;

    public static final long CR4_VME = 1L;
    public static final long CR4_DE = 1L << 3;
    public static final long CR4_PSE = 1L << 4;
    public static final long CR4_PAE = 1L << 5;
    public static final long CR4_PGE = 1L << 7;
    public static final long CR4_OSFXSR = 1L << 9;
    public static final long CR4_OSXMMEXCPT = 1L << 10;

    public static final long EFER_SCE = 1L;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    public static final long EFER_NXE = 1L << 11;

    /** The state after RESET: real mode, caches disabled. */
    public static ControlRegisters reset() {
        return new ControlRegisters(CR0_ET | CR0_CD | CR0_NW, 0, 0, 0, 0, 0);
    }

    /** 64-bit mode with paging from the tables at {@code cr3}. */
    public static ControlRegisters longMode(long cr3) {
        return new ControlRegisters(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG, 0, cr3,
                CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT, 0, EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE);
    }

    /** 32-bit protected mode without paging (the PVH entry state). */
    public static ControlRegisters protectedMode() {
        return new ControlRegisters(CR0_PE | CR0_ET, 0, 0, 0, 0, 0);
    }

    public ControlRegisters withCr3(long value) {
        return new ControlRegisters(cr0, cr2, value, cr4, cr8, efer);
    }
}
