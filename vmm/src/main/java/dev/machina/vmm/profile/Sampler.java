package dev.machina.vmm.profile;

import dev.machina.cpu.GuestPosition;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A sampling profiler of the guest: a thread of its own reads every vCPU's position once a period
 * (see {@link dev.machina.cpu.JavaVcpu#position()}, which costs the vCPUs nothing) and counts
 * where they were. A wake-up late because the host was busy makes the rate lower, not the samples
 * less fair: each is still of whatever the guest was doing then.
 */
public final class Sampler {
    /** A thousand samples a second: a boot of some seconds gives thousands, at a cost of little CPU. */
    public static final Duration PERIOD = Duration.ofMillis(1);

    private final List<Supplier<GuestPosition>> vcpus;
    private final Duration period;
    private final Samples samples;
    private final Thread thread;
    private volatile boolean stopping;

    private Sampler(List<Supplier<GuestPosition>> vcpus, Duration period) {
        this.vcpus = List.copyOf(vcpus);
        this.period = period;
        this.samples = new Samples(vcpus.size(), period);
        this.thread = Thread.ofPlatform().daemon().name("guest-profiler").unstarted(this::sampleUntilStopped);
    }

    /** Starts sampling {@code vcpus}, each read by its supplier, every {@code period}. */
    public static Sampler start(List<Supplier<GuestPosition>> vcpus, Duration period) {
        Sampler sampler = new Sampler(vcpus, period);
        sampler.thread.start();
        return sampler;
    }

    /** Stops sampling; returns what was sampled. */
    public Samples stop() throws InterruptedException {
        stopping = true;
        LockSupport.unpark(thread);
        thread.join();
        return samples;
    }

    private void sampleUntilStopped() {
        long start = System.nanoTime();
        while (!stopping) {
            for (Supplier<GuestPosition> vcpu : vcpus) {
                samples.add(vcpu.get());
            }
            LockSupport.parkNanos(this, period.toNanos());
        }
        samples.spanned(Duration.ofNanos(System.nanoTime() - start));
    }
}
