package dev.machina.vmm.arch.x86;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AcpiPm1Test {
    private final RecordingPlatform platform = new RecordingPlatform();
    private final List<String> events = platform.events;
    private final List<Boolean> sci = new java.util.ArrayList<>();
    private final AcpiPm1 pm = new AcpiPm1(platform, sci::add);
    private static final int CONTROL = AcpiPm1.CONTROL_BLOCK - AcpiPm1.BASE;

    @Test
    void sleepEnableWithS5PowersOff() {
        pm.write(CONTROL, 2, (5 << 10) | (1 << 13));
        assertThat(events).containsExactly("power off");
    }

    @Test
    void s5WrittenAsTheHighByteAlonePowersOff() {
        pm.write(CONTROL + 1, 1, ((5 << 10) | (1 << 13)) >> 8);
        assertThat(events).containsExactly("power off");
    }

    @Test
    void otherSleepStatesAndS5WithoutSleepEnableDoNothing() {
        pm.write(CONTROL, 2, (3 << 10) | (1 << 13));
        pm.write(CONTROL, 2, 5 << 10);
        assertThat(events).isEmpty();
        assertThat(pm.read(CONTROL, 2)).isEqualTo((5 << 10) | 1); // SLP_TYP kept, SCI_EN set, SLP_EN never reads back
    }

    @Test
    void statusBitsClearWhenOnesAreWrittenAndEnableKeepsItsValue() {
        pm.write(2, 2, 0x0120);
        assertThat(pm.read(2, 2)).isEqualTo(0x0120);
        assertThat(pm.read(0, 2)).isZero();
        pm.write(0, 2, 0xFFFF);
        assertThat(pm.read(0, 2)).isZero();
    }

    @Test
    void thePowerButtonRaisesTheSciOnceEnabledUntilItsStatusIsCleared() {
        pm.pressPowerButton();
        assertThat(pm.read(0, 2)).isEqualTo(AcpiPm1.PWRBTN);
        assertThat(sci).as("not enabled: the SCI stays low").doesNotContain(true);

        pm.write(2, 2, AcpiPm1.PWRBTN);
        assertThat(sci).last().isEqualTo(true);

        pm.write(0, 2, AcpiPm1.PWRBTN);
        assertThat(pm.read(0, 2)).isZero();
        assertThat(sci).last().isEqualTo(false);
        assertThat(events).isEmpty();
    }
}
