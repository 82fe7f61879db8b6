package dev.machina.vmm.profile;

import dev.machina.cpu.GuestPosition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

class SamplerTest {
    @Test
    void samplesEveryVcpuEachPeriodUntilStopped() throws InterruptedException {
        CountDownLatch sampled = new CountDownLatch(50);
        Supplier<GuestPosition> busy = () -> {
            sampled.countDown();
            return new GuestPosition.Executing(0xffffffff81000010L, 0);
        };
        Supplier<GuestPosition> halted = () -> GuestPosition.IDLE;
        Sampler sampler = Sampler.start(List.of(busy, halted), Duration.ofNanos(100_000));
        assertThat(sampled.await(10, TimeUnit.SECONDS)).isTrue();
        Samples samples = sampler.stop();

        assertThat(samples.vcpus()).isEqualTo(2);
        assertThat(samples.total()).isGreaterThanOrEqualTo(100).isEven();
        assertThat(samples.idle()).isEqualTo(samples.total() / 2);
        assertThat(samples.kernel()).containsOnlyKeys(0xffffffff81000010L);
        assertThat(samples.userPages()).isEmpty();
        assertThat(samples.span()).isPositive();
    }
}
