package dev.machina.cpu.state;

import java.util.Arrays;

/**
 * DR0–DR3, DR6 and DR7: four breakpoint addresses, the status a #DB handler reads and the
 * control that enables each breakpoint as an instruction, data-write, data-access or (with
 * CR4.DE) I/O breakpoint of 1, 2, 4 or 8 bytes. The matching lives here; the core asks about
 * instructions as they begin and about ports, the MMU reports the data accesses it makes on the
 * pages {@link #watches} names (which it keeps out of its TLB so that it sees every one).
 */
public final class DebugRegisters {
    /** DR6.BD: the #DB is a fault for a MOV to or from a debug register while DR7.GD was set. */
    public static final long DETECTED_ACCESS = 1L << 13;
    /** DR6.BS: the #DB is a single-step trap. */
    public static final long SINGLE_STEP = 1L << 14;
    /** DR7.GD: MOV to or from a debug register raises #DB. */
    public static final long GENERAL_DETECT = 1L << 13;

    private static final long STATUS_FIXED = 0xFFFF_0FF0L;
    private static final long STATUS_WRITABLE = 0xE00F;
    private static final long STATUS_HITS = 0xF;
    private static final long CONTROL_FIXED = 0x400;
    private static final long CONTROL_WRITABLE = 0xFFFF_23FFL;
    private static final long CONTROL_ENABLES = 0xFF;
    /** The R/W field of DR7 for each breakpoint: what it watches. */
    private static final int EXECUTE = 0;
    private static final int WRITE = 1;
    private static final int PORT = 2;
    private static final int READ_OR_WRITE = 3;
    /** LEN encodings 00, 01, 10, 11 are 1, 2, 8 and 4 bytes. */
    private static final int[] LENGTHS = {1, 2, 8, 4};

    private final long[] address = new long[4];
    private long status;
    private long control;
    /** The breakpoints the current instruction's data accesses or port accesses have hit. */
    private int hits;

    public DebugRegisters() {
        reset();
    }

    /** The power-up and INIT values: no breakpoints, DR6 with only its fixed bits. */
    public void reset() {
        Arrays.fill(address, 0);
        status = STATUS_FIXED;
        control = CONTROL_FIXED;
        hits = 0;
    }

    /** DR0–DR3, DR6 or DR7 ({@code number} 4 and 5 must already be resolved to 6 and 7). */
    public long read(int number) {
        return switch (number) {
            case 6 -> status;
            case 7 -> control;
            default -> address[number];
        };
    }

    /**
     * Writes DR0–DR3, DR6 or DR7; the reserved bits of DR6 and DR7 keep their fixed values.
     * False when the value sets bits 63:32 of DR6 or DR7, which the caller answers with #GP.
     */
    public boolean write(int number, long value) {
        switch (number) {
            case 6, 7 -> {
                if (value >>> 32 != 0) {
                    return false;
                }
                if (number == 6) {
                    status = (value & STATUS_WRITABLE) | STATUS_FIXED;
                } else {
                    control = (value & CONTROL_WRITABLE) | CONTROL_FIXED;
                }
            }
            default -> address[number] = value;
        }
        return true;
    }

    /** Whether any breakpoint is enabled, locally or globally. */
    public boolean armed() {
        return (control & CONTROL_ENABLES) != 0;
    }

    public boolean generalDetect() {
        return (control & GENERAL_DETECT) != 0;
    }

    /** DR7.GD clears as the #DB it raised is delivered, so that the handler can use the registers. */
    public void clearGeneralDetect() {
        control &= ~GENERAL_DETECT;
    }

    /** The instruction breakpoints at linear address {@code linear}, as DR6.B0–B3 bits. */
    public long instructionHits(long linear) {
        long found = 0;
        for (int n = 0; n < 4; n++) {
            if (enabled(n) && kind(n) == EXECUTE && address[n] == linear) {
                found |= 1L << n;
            }
        }
        return found;
    }

    /** Whether a data breakpoint that a {@code write} (or a read) could hit lies in the page holding {@code linear}. */
    public boolean watches(long linear, boolean write) {
        if (!armed()) {
            return false;
        }
        for (int n = 0; n < 4; n++) {
            if (watchesData(n, write) && start(n) >>> 12 == linear >>> 12) {
                return true;
            }
        }
        return false;
    }

    /** Records the data breakpoints that {@code size} bytes read or written at {@code linear} hit. */
    public void accessed(long linear, int size, boolean write) {
        if (!armed()) {
            return;
        }
        for (int n = 0; n < 4; n++) {
            if (watchesData(n, write) && overlaps(n, linear, size)) {
                hits |= 1 << n;
            }
        }
    }

    /** Records the I/O breakpoints (CR4.DE) that an access of {@code size} bytes to {@code port} hits. */
    public void accessedPort(int port, int size) {
        for (int n = 0; n < 4; n++) {
            if (enabled(n) && kind(n) == PORT && overlaps(n, port, size)) {
                hits |= 1 << n;
            }
        }
    }

    /** The breakpoints hit since the last call, as DR6.B0–B3 bits; they are forgotten. */
    public long takeHits() {
        long taken = hits;
        hits = 0;
        return taken;
    }

    /** Whether the current instruction has hit a data or I/O breakpoint so far. */
    public boolean hit() {
        return hits != 0;
    }

    /**
     * Records in DR6 the causes of the #DB about to be delivered: the breakpoints (B0–B3) and
     * BD or BS. B0–B3 name this #DB's breakpoints only; BD, BS and BT stay set until software
     * clears them.
     */
    public void report(long causes) {
        status = (status & ~STATUS_HITS) | causes;
    }

    private boolean enabled(int n) {
        return (control >>> (2 * n) & 3) != 0;
    }

    private int kind(int n) {
        return (int) (control >>> (16 + 4 * n)) & 3;
    }

    private boolean watchesData(int n, boolean write) {
        if (!enabled(n)) {
            return false;
        }
        int kind = kind(n);
        return kind == READ_OR_WRITE || (kind == WRITE && write);
    }

    private int length(int n) {
        return LENGTHS[(int) (control >>> (18 + 4 * n)) & 3];
    }

    /** The breakpoint's first byte: its address with the bits below its length ignored. */
    private long start(int n) {
        return address[n] & -length(n);
    }

    /** Whether the ranges overlap, measured as unsigned distances so that none wraps at the top of the address space. */
    private boolean overlaps(int n, long linear, int size) {
        long start = start(n);
        return Long.compareUnsigned(linear - start, length(n)) < 0 || Long.compareUnsigned(start - linear, size) < 0;
    }
}
