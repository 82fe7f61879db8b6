package dev.machina.vmm.arch.x86;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class CmosRtcTest {
    /** Wednesday, 2 December 2026, 15:04:59 UTC. */
    private final SteppedClock clock = new SteppedClock(Instant.parse("2026-12-02T15:04:59Z"));
    private final CmosRtc rtc = new CmosRtc(clock);

    @Test
    void showsTheHostTimeInBcdAnd24HoursAsFirmwareLeavesIt() {
        assertThat(read(0x00)).isEqualTo(0x59);
        assertThat(read(0x02)).isEqualTo(0x04);
        assertThat(read(0x04)).isEqualTo(0x15);
        assertThat(read(0x06)).as("day of week, Sunday = 1").isEqualTo(4);
        assertThat(read(0x07)).isEqualTo(0x02);
        assertThat(read(0x08)).isEqualTo(0x12);
        assertThat(read(0x09)).isEqualTo(0x26);
        assertThat(read(CmosRtc.CENTURY)).isEqualTo(0x20);
    }

    @Test
    void followsTheHostClock() {
        clock.advance(Duration.ofSeconds(2));
        assertThat(read(0x00)).isEqualTo(0x01);
        assertThat(read(0x02)).isEqualTo(0x05);
    }

    @Test
    void statusRegistersSayValidIdleAndNoInterrupts() {
        assertThat(read(0x0A) & 0x80).as("update in progress").isZero();
        assertThat(read(0x0C)).isZero();
        assertThat(read(0x0D)).isEqualTo(0x80);
    }

    @Test
    void binaryAnd12HourFormatsFollowStatusB() {
        write(0x0B, 0x04); // binary, 12-hour
        assertThat(read(0x00)).isEqualTo(59);
        assertThat(read(0x04)).as("3 PM").isEqualTo(0x80 | 3);
        assertThat(read(0x09)).isEqualTo(26);
    }

    @Test
    void timeSetUnderTheSetBitTakesEffectWhenItClearsAndKeepsRunning() {
        write(0x0B, 0x82); // SET, BCD, 24-hour
        write(0x09, 0x30);
        write(0x04, 0x08);
        clock.advance(Duration.ofSeconds(30));
        assertThat(read(0x00)).as("held while SET").isEqualTo(0x59);
        write(0x0B, 0x02);
        clock.advance(Duration.ofSeconds(3));
        assertThat(read(0x09)).isEqualTo(0x30);
        assertThat(read(0x04)).isEqualTo(0x08);
        assertThat(read(0x02)).isEqualTo(0x05);
        assertThat(read(0x00)).isEqualTo(0x02);
    }

    @Test
    void cmosRamKeepsWhatIsWrittenAndTheNmiBitDoesNotSelect() {
        write(0x80 | 0x40, 0xA5);
        assertThat(read(0x40)).isEqualTo(0xA5);
    }

    private int read(int register) {
        rtc.writeByte(0, register);
        return rtc.readByte(1);
    }

    private void write(int register, int value) {
        rtc.writeByte(0, register);
        rtc.writeByte(1, value);
    }

    private static final class SteppedClock extends Clock {
        private Instant now;

        SteppedClock(Instant start) {
            now = start;
        }

        void advance(Duration duration) {
            now = now.plus(duration);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
