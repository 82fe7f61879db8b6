package dev.machina.cpu.chipset;

import java.util.function.LongSupplier;

/**
 * One vCPU's time-stamp counter: an invariant TSC ticking at {@link #FREQUENCY_HZ}, derived from
 * the host clock so that it runs on while the vCPU is halted. All vCPUs of a guest share the same
 * origin (the TSC reads 0 when the guest was created) and differ only by the offset a write of
 * IA32_TSC leaves behind, as on hardware with TSC offsetting.
 *
 * <p>2 GHz is chosen because it makes the conversion from nanoseconds exact (two ticks per
 * nanosecond), so the TSC-deadline timer fires at exactly the host time the guest asked for. The
 * CPU core advertises it in CPUID leaf 0x15 as {@link #CRYSTAL_HZ} times 2/1 (EAX=1, EBX=2,
 * ECX=1e9) and in leaf 0x16 as 2000 MHz, so a Linux guest need not calibrate. Linux also takes the
 * crystal as the local APIC timer's clock, which is why {@link LocalApic#TIMER_FREQUENCY_HZ} is
 * the same 1 GHz.
 */
public final class Tsc {
    public static final long FREQUENCY_HZ = 2_000_000_000L;
    /** The core crystal clock of CPUID leaf 0x15, of which the TSC is twice. */
    public static final long CRYSTAL_HZ = 1_000_000_000L;
    private static final long TICKS_PER_NANOSECOND = FREQUENCY_HZ / 1_000_000_000L;

    private final LongSupplier clock;
    private final long origin;
    private volatile long offset;

    /** A TSC that reads 0 at {@code origin} on {@code clock}'s ({@link System#nanoTime()}) scale. */
    public Tsc(LongSupplier clock, long origin) {
        this.clock = clock;
        this.origin = origin;
    }

    /** RDTSC. */
    public long read() {
        return ticksAt(clock.getAsLong());
    }

    /** WRMSR IA32_TSC: the counter reads {@code value} now and goes on from there. */
    public void write(long value) {
        offset = value - (clock.getAsLong() - origin) * TICKS_PER_NANOSECOND;
    }

    /**
     * IA32_TSC_ADJUST: how far writes have moved this counter from the guest-wide one. A write of
     * IA32_TSC changes it by as much as it moves the counter, as the SDM has it, and it is just
     * the offset.
     */
    public long adjustment() {
        return offset;
    }

    /** A write of IA32_TSC_ADJUST: the counter moves by the change. */
    public void adjust(long value) {
        offset = value;
    }

    /** What the counter reads at host time {@code nanoTime}. */
    public long ticksAt(long nanoTime) {
        return (nanoTime - origin) * TICKS_PER_NANOSECOND + offset;
    }

    /** The host time at which the counter reaches {@code ticks} (rounded up to whole nanoseconds). */
    public long nanoTimeAt(long ticks) {
        return origin + Math.ceilDiv(ticks - offset, TICKS_PER_NANOSECOND);
    }
}
