package dev.machina.vmm.arch.x86;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class BootTimerTest {
    private final AtomicLong nanos = new AtomicLong(1_000);
    private final List<Duration> reports = new ArrayList<>();
    private final BootTimer timer = new BootTimer(nanos::get, reports::add);

    @Test
    void theMagicValueReportsTheTimeSinceLaunch() {
        nanos.addAndGet(2_500_000_000L);
        timer.write(0, 1, BootTimer.MAGIC);
        assertThat(reports).containsExactly(Duration.ofMillis(2500));
    }

    @Test
    void otherValuesOffsetsAndReadsAreIgnored() {
        timer.write(0, 1, BootTimer.MAGIC + 1);
        timer.write(8, 1, BootTimer.MAGIC);
        assertThat(timer.read(0, 1)).isZero();
        assertThat(reports).isEmpty();
    }
}
