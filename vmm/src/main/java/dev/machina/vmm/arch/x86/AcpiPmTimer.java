package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.TrapHandler;

import java.util.function.LongSupplier;

/**
 * The ACPI power-management timer at {@link #PORT}, after the PM1a blocks (as on the PIIX4): a
 * free-running 32-bit counter (FADT flag TMR_VAL_EXT) at 3.579545 MHz, derived from host time, so
 * that it runs on while vCPUs are halted or slow. Linux watches the TSC against it; without it the
 * watchdog falls back to jiffies, which a software CPU delivers late, and marks the TSC unstable.
 * Reads of any width return the counter's low bytes from the first port read; writes are ignored.
 */
public final class AcpiPmTimer implements TrapHandler {
    public static final int PORT = AcpiPm1.BASE + AcpiPm1.PORTS;
    public static final int PORTS = 4;
    public static final long FREQUENCY_HZ = 3_579_545;

    private final LongSupplier nanoTime;
    private final long origin;

    /** A timer that reads 0 now on {@code nanoTime}'s clock ({@link System#nanoTime()}). */
    public AcpiPmTimer(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.origin = nanoTime.getAsLong();
    }

    /** The counter at this moment (it wraps at 2^32, about every 20 minutes). */
    public long count() {
        long elapsed = nanoTime.getAsLong() - origin;
        // elapsed × f / 1e9 without overflow for centuries of uptime: split into whole seconds.
        long seconds = elapsed / 1_000_000_000L;
        long rest = elapsed % 1_000_000_000L;
        return (seconds * FREQUENCY_HZ + rest * FREQUENCY_HZ / 1_000_000_000L) & 0xFFFF_FFFFL;
    }

    @Override
    public long read(long offset, int size) {
        long shifted = count() >>> (8 * offset);
        return size >= 8 ? shifted : shifted & ((1L << (8 * size)) - 1);
    }

    @Override
    public void write(long offset, int size, long value) {
        // The counter is read-only.
    }
}
