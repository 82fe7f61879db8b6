package dev.machina.vmm.profile;

import dev.machina.cpu.GuestPosition;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What a {@link Sampler} saw: how many samples found a vCPU idle, and how many found it at each
 * kernel RIP and in each page of user code. Filled by the sampler's thread alone, and read once
 * it has ended.
 */
public final class Samples {
    /** User code is counted by page (its program's symbols are not known), and so are kernel addresses without a symbol. */
    static final long PAGE = 4096;

    private final Map<Long, Long> kernel = new HashMap<>();
    private final Map<Long, Long> user = new HashMap<>();
    private long idle;
    private long total;
    private final int vcpus;
    private final Duration period;
    private Duration span = Duration.ZERO;

    Samples(int vcpus, Duration period) {
        this.vcpus = vcpus;
        this.period = period;
    }

    void add(GuestPosition position) {
        total++;
        switch (position) {
            case GuestPosition.Idle() -> idle++;
            case GuestPosition.Executing executing when executing.user() ->
                    user.merge(executing.rip() & -PAGE, 1L, Long::sum);
            case GuestPosition.Executing executing -> kernel.merge(executing.rip(), 1L, Long::sum);
        }
    }

    void spanned(Duration span) {
        this.span = span;
    }

    /** Every sample taken, one per vCPU each period. */
    public long total() {
        return total;
    }

    public long idle() {
        return idle;
    }

    /** Samples at each kernel-mode RIP (CPL 0 to 2). */
    public Map<Long, Long> kernel() {
        return Map.copyOf(kernel);
    }

    /** Samples in each page of user code (CPL 3), by the page's address. */
    public Map<Long, Long> userPages() {
        return Map.copyOf(user);
    }

    public int vcpus() {
        return vcpus;
    }

    public Duration period() {
        return period;
    }

    /** From the first sample to the end of sampling. */
    public Duration span() {
        return span;
    }
}
