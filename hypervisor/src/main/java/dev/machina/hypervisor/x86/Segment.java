package dev.machina.hypervisor.x86;

/**
 * A segment register with its hidden part: selector, base, limit (in bytes) and the access rights
 * in the layout of the descriptor's attribute bits (VMX's format): type in bits 0-3, S in 4, DPL in
 * 5-6, P in 7, AVL in 12, L in 13, D/B in 14, G in 15, and {@link #UNUSABLE} in 16.
 */
public record Segment(int selector, long base, int limit, int accessRights) {
    public static final int UNUSABLE = 1 << 16;

    public static final int TYPE_ACCESSED = 1;
    public static final int TYPE_DATA_WRITABLE = 2;
    public static final int TYPE_CODE_READABLE = 2;
    public static final int TYPE_CODE = 8;
    public static final int TYPE_TSS_BUSY_64 = 11;
    public static final int TYPE_LDT = 2;

    private static final int S = 1 << 4;
    private static final int P = 1 << 7;
    private static final int L = 1 << 13;
    private static final int DB = 1 << 14;
    private static final int G = 1 << 15;

    /** A 64-bit code segment, ring 0. */
    public static Segment code64(int selector) {
        return new Segment(selector, 0, 0xFFFF_FFFF, TYPE_CODE | TYPE_CODE_READABLE | TYPE_ACCESSED | S | P | L | G);
    }

    /** A flat 32-bit code segment, ring 0. */
    public static Segment code32(int selector) {
        return new Segment(selector, 0, 0xFFFF_FFFF, TYPE_CODE | TYPE_CODE_READABLE | TYPE_ACCESSED | S | P | DB | G);
    }

    /** A flat writable data segment, ring 0 (also the stack segment of 64-bit mode). */
    public static Segment flatData(int selector) {
        return new Segment(selector, 0, 0xFFFF_FFFF, TYPE_DATA_WRITABLE | TYPE_ACCESSED | S | P | DB | G);
    }

    /** A real-mode segment: base = selector * 16, 64 KiB limit. */
    public static Segment realMode(int selector, boolean code) {
        int type = (code ? TYPE_CODE | TYPE_CODE_READABLE : TYPE_DATA_WRITABLE) | TYPE_ACCESSED;
        return new Segment(selector, (long) selector << 4, 0xFFFF, type | S | P);
    }

    /** A 64-bit TSS (busy), as the task register holds it. */
    public static Segment taskState(int selector, long base, int limit) {
        return new Segment(selector, base, limit, TYPE_TSS_BUSY_64 | P);
    }

    /** An unusable (null) segment. */
    public static Segment unusable() {
        return new Segment(0, 0, 0, UNUSABLE);
    }

    public int type() {
        return accessRights & 0xF;
    }

    public boolean system() {
        return (accessRights & S) == 0;
    }

    public int dpl() {
        return (accessRights >> 5) & 3;
    }

    public boolean present() {
        return (accessRights & P) != 0;
    }

    public boolean available() {
        return (accessRights & (1 << 12)) != 0;
    }

    public boolean longMode() {
        return (accessRights & L) != 0;
    }

    public boolean defaultBig() {
        return (accessRights & DB) != 0;
    }

    public boolean granular() {
        return (accessRights & G) != 0;
    }

    public boolean usable() {
        return (accessRights & UNUSABLE) == 0;
    }
}
