package dev.machina.vmm.arch.x86;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class AcpiPmTimerTest {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);
    private final AcpiPmTimer timer = new AcpiPmTimer(now::get);

    @Test
    void countsAtThreePointFiveSevenNineMegahertzOfHostTime() {
        assertThat(timer.read(0, 4)).isZero();
        now.addAndGet(1_000_000_000L);
        assertThat(timer.read(0, 4)).isEqualTo(3_579_545L);
        now.addAndGet(1_000L);
        assertThat(timer.read(0, 4)).as("a microsecond later: 3.58 ticks more").isEqualTo(3_579_548L);
    }

    @Test
    void wrapsAtThirtyTwoBitsAndNarrowReadsTakeTheLowBytes() {
        long wrap = (1L << 32) * 1_000_000_000L / AcpiPmTimer.FREQUENCY_HZ; // about 1200 s
        now.addAndGet(wrap + 1_000_000_000L);
        long count = timer.read(0, 4);
        assertThat(count).isBetween(3_579_540L, 3_579_550L);
        assertThat(timer.read(0, 2)).isEqualTo(count & 0xFFFF);
        assertThat(timer.read(2, 2)).isEqualTo(count >>> 16);
    }

    @Test
    void writesChangeNothing() {
        now.addAndGet(2_000_000_000L);
        timer.write(0, 4, 0);
        assertThat(timer.read(0, 4)).isEqualTo(2 * 3_579_545L);
    }
}
