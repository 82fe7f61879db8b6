package dev.machina.cpu.chipset;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TscTest {
    private final FakeClock clock = new FakeClock(1_000);

    @Test
    void ticksTwicePerNanosecondFromTheOrigin() {
        Tsc tsc = new Tsc(clock, 1_000);
        assertThat(tsc.read()).isZero();
        clock.set(1_500);
        assertThat(tsc.read()).isEqualTo(1_000);
        assertThat(Tsc.FREQUENCY_HZ).isEqualTo(2_000_000_000L);
    }

    @Test
    void writeOffsetsThisCounterOnly() {
        Tsc written = new Tsc(clock, 1_000);
        Tsc other = new Tsc(clock, 1_000);
        clock.set(1_500);
        written.write(1_000_000);
        assertThat(written.read()).isEqualTo(1_000_000);
        clock.set(2_000);
        assertThat(written.read()).isEqualTo(1_001_000);
        assertThat(other.read()).isEqualTo(2_000);
    }

    @Test
    void tscAdjustFollowsWritesOfTheCounterAndMovesItWhenWritten() {
        Tsc tsc = new Tsc(clock, 1_000);
        clock.set(1_500);
        assertThat(tsc.adjustment()).isZero();
        tsc.write(1_000_000); // the counter read 1,000
        assertThat(tsc.adjustment()).as("IA32_TSC_ADJUST after a TSC write").isEqualTo(999_000);
        tsc.adjust(999_100);
        assertThat(tsc.read()).as("moved by the change of IA32_TSC_ADJUST").isEqualTo(1_000_100);
    }

    @Test
    void convertsBothWaysRoundingUpToTheNextNanosecond() {
        Tsc tsc = new Tsc(clock, 1_000);
        clock.set(1_500);
        tsc.write(1_000_000);
        assertThat(tsc.ticksAt(2_000)).isEqualTo(1_001_000);
        assertThat(tsc.nanoTimeAt(1_001_000)).isEqualTo(2_000);
        assertThat(tsc.nanoTimeAt(1_001_001)).isEqualTo(2_001);
        assertThat(tsc.nanoTimeAt(0)).as("a deadline in the past").isEqualTo(1_000 + 500 - 500_000);
    }
}
