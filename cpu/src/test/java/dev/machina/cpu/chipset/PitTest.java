package dev.machina.cpu.chipset;

import dev.machina.hypervisor.TrapHandler;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Expected times are hand-computed from 1 193 182 Hz: n ticks take ceil(n * 10^9 / 1193182) ns. */
class PitTest {
    private static final int CHANNEL0 = 0;
    private static final int CHANNEL2 = 2;
    private static final int CONTROL = 3;

    private final FakeClock clock = new FakeClock(0);
    private final AtomicInteger irqs = new AtomicInteger();
    private final AtomicInteger reprogrammings = new AtomicInteger();
    private final Pit pit = new Pit(clock, irqs::incrementAndGet, reprogrammings::incrementAndGet);
    private final TrapHandler port61 = pit.systemControlPort();

    private void load(int channel, int count) {
        pit.write(channel, 1, count & 0xFF);
        pit.write(channel, 1, count >>> 8);
    }

    private int readWord(int channel) {
        int low = (int) pit.read(channel, 1);
        return low | (int) pit.read(channel, 1) << 8;
    }

    private boolean out2() {
        return (port61.read(0, 1) & 0x20) != 0;
    }

    @Test
    void conversionsAreExact() {
        assertThat(Pit.ticksBetween(0, 1_000_000_000L)).isEqualTo(1_193_182);
        assertThat(Pit.ticksBetween(5, 10_000_000_000_005L)).as("10^4 s, past where ns * Hz overflows a long").isEqualTo(11_931_820_000L);
        assertThat(Pit.nanosFor(1)).isEqualTo(839);
        assertThat(Pit.nanosFor(1_193_182)).isEqualTo(1_000_000_000L);
    }

    @Test
    void channel2Mode0RaisesOut2AtTerminalCountAsLinuxCalibrationPolls() {
        clock.set(5_000);
        port61.write(0, 1, 0x01);                 // gate 2 on, speaker off
        pit.write(CONTROL, 1, 0xB0);              // channel 2, LSB then MSB, mode 0
        load(CHANNEL2, 11_932);
        assertThat(out2()).isFalse();
        clock.set(5_000 + 10_000_150);
        assertThat(out2()).isFalse();
        clock.set(5_000 + 10_000_151);
        assertThat(out2()).isTrue();
        port61.write(0, 1, 0xFE);
        assertThat(port61.read(0, 1) & 0xEF).as("bits 3:0 as written; OUT2 stays high").isEqualTo(0x2E);
    }

    @Test
    void countReadsDirectlyLsbThenMsb() {
        port61.write(0, 1, 0x01);
        pit.write(CONTROL, 1, 0xB0);
        load(CHANNEL2, 0xFFFF);
        clock.set(1_000_000);                     // 1193 ticks
        assertThat(pit.read(CHANNEL2, 1)).isEqualTo(0x56);
        assertThat(pit.read(CHANNEL2, 1)).isEqualTo(0xFB);
    }

    @Test
    void lowGateStopsCounting() {
        pit.write(CONTROL, 1, 0xB0);
        load(CHANNEL2, 100);
        clock.set(500);
        assertThat(readWord(CHANNEL2)).as("gate 2 starts low").isEqualTo(100);
        clock.set(1_000);
        port61.write(0, 1, 0x01);
        clock.set(1_000 + 33_524);                 // 40 ticks after the gate rose
        port61.write(0, 1, 0x00);
        clock.set(1_000_000);
        assertThat(readWord(CHANNEL2)).isEqualTo(60);
    }

    @Test
    void latchedCountIsReadLaterUnchanged() {
        pit.write(CONTROL, 1, 0x34);              // channel 0, LSB then MSB, mode 2
        load(CHANNEL0, 1000);
        clock.set(100_000);                       // 119 ticks
        pit.write(CONTROL, 1, 0x00);              // latch channel 0
        clock.set(200_000);                       // 238 ticks
        assertThat(readWord(CHANNEL0)).isEqualTo(881);
        assertThat(readWord(CHANNEL0)).as("the latch is spent").isEqualTo(762);
    }

    @Test
    void readBackLatchesStatusAndCount() {
        pit.write(CONTROL, 1, 0x34);
        pit.write(CONTROL, 1, 0xE2);              // read back channel 0 status only
        assertThat(pit.read(CHANNEL0, 1)).as("OUT high, null count, word, mode 2").isEqualTo(0xF4);
        load(CHANNEL0, 1000);
        clock.set(100_000);
        pit.write(CONTROL, 1, 0xC2);              // status and count
        clock.set(200_000);
        assertThat(pit.read(CHANNEL0, 1)).isEqualTo(0xB4);
        assertThat(readWord(CHANNEL0)).isEqualTo(881);
    }

    @Test
    void lsbOnlyAccess() {
        pit.write(CONTROL, 1, 0x10);              // channel 0, LSB only, mode 0
        pit.write(CHANNEL0, 1, 0x50);
        clock.set(8_381);                         // 10 ticks
        assertThat(pit.read(CHANNEL0, 1)).isEqualTo(0x46);
        assertThat(pit.read(CHANNEL0, 1)).isEqualTo(0x46);
    }

    @Test
    void mode3IsASquareWaveCountingByTwo() {
        port61.write(0, 1, 0x01);
        pit.write(CONTROL, 1, 0xB6);              // channel 2, word, mode 3
        load(CHANNEL2, 100);
        clock.set(8_381);                         // 10 ticks
        assertThat(readWord(CHANNEL2)).isEqualTo(80);
        clock.set(41_904);
        assertThat(out2()).isTrue();
        clock.set(41_905);                        // 50 ticks: second half
        assertThat(out2()).isFalse();
        clock.set(83_810);                        // 100 ticks: next period
        assertThat(out2()).isTrue();
    }

    @Test
    void mode4StrobesOutLowForOneTick() {
        port61.write(0, 1, 0x01);
        pit.write(CONTROL, 1, 0xB8);              // channel 2, word, mode 4
        load(CHANNEL2, 10);
        clock.set(8_380);
        assertThat(out2()).isTrue();
        clock.set(8_381);
        assertThat(out2()).isFalse();
        clock.set(Pit.nanosFor(11));
        assertThat(out2()).isTrue();
    }

    @Test
    void mode1WaitsForTheGateTrigger() {
        pit.write(CONTROL, 1, 0xB2);              // channel 2, word, mode 1
        load(CHANNEL2, 10);
        clock.set(5_000);
        assertThat(out2()).isTrue();
        port61.write(0, 1, 0x01);                 // trigger
        clock.set(5_001);
        assertThat(out2()).isFalse();
        clock.set(5_000 + 8_381);
        assertThat(out2()).isTrue();
    }

    @Test
    void channel0Mode2InterruptsEveryPeriodCoalescingMissedOnes() {
        pit.write(CONTROL, 1, 0x34);
        load(CHANNEL0, 1193);
        assertThat(reprogrammings.get()).isEqualTo(3);
        assertThat(pit.nextDeadline()).isEqualTo(999_848);
        pit.advanceTo(999_847);
        assertThat(irqs.get()).isZero();
        pit.advanceTo(999_848);
        assertThat(irqs.get()).isEqualTo(1);
        assertThat(pit.nextDeadline()).isEqualTo(1_999_695);
        pit.advanceTo(10_000_000);                // 11931 ticks: period 10 is under way
        assertThat(irqs.get()).isEqualTo(2);
        assertThat(pit.nextDeadline()).isEqualTo(10_998_323);
    }

    @Test
    void channel0Mode0InterruptsOnce() {
        pit.write(CONTROL, 1, 0x30);
        load(CHANNEL0, 10);
        assertThat(pit.nextDeadline()).isEqualTo(8_381);
        pit.advanceTo(20_000);
        assertThat(irqs.get()).isEqualTo(1);
        assertThat(pit.nextDeadline()).isEqualTo(Long.MAX_VALUE);
        pit.advanceTo(1_000_000);
        assertThat(irqs.get()).isEqualTo(1);
    }

    @Test
    void unprogrammedChannel0NeverInterrupts() {
        assertThat(pit.nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void refreshBitToggles() {
        assertThat(port61.read(0, 1) & 0x10).isZero();
        clock.set(15_085);
        assertThat(port61.read(0, 1) & 0x10).isEqualTo(0x10);
        clock.set(30_170);
        assertThat(port61.read(0, 1) & 0x10).isZero();
    }
}
