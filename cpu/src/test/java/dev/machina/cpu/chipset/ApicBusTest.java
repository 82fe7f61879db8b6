package dev.machina.cpu.chipset;

import org.junit.jupiter.api.Test;

import static dev.machina.cpu.chipset.ApicRegisters.inIrr;
import static dev.machina.cpu.chipset.ApicRegisters.inTmr;
import static org.assertj.core.api.Assertions.assertThat;

/** MSI decoding: the address names the destination, the data the vector, mode and trigger. */
class ApicBusTest {
    private final FakeClock clock = new FakeClock(0);
    private final ApicBus bus = new ApicBus(vector -> { }, () -> -1);
    private final LocalApic[] apics = new LocalApic[3];

    ApicBusTest() {
        for (int i = 0; i < apics.length; i++) {
            apics[i] = new LocalApic(i, new RecordingControl(), bus, new Tsc(clock, 0), clock);
            apics[i].writeRegister(LocalApic.LDR, (1 << i) << 24);
        }
    }

    @Test
    void physicalFixedEdgeMsi() {
        bus.signalMsi(0xFEE0_2000L, 0x4041);
        assertThat(inIrr(apics[2], 0x41)).isTrue();
        assertThat(inTmr(apics[2], 0x41)).isFalse();
        assertThat(inIrr(apics[0], 0x41)).isFalse();
        assertThat(inIrr(apics[1], 0x41)).isFalse();
    }

    @Test
    void levelTriggerBitSetsTheTmr() {
        bus.signalMsi(0xFEE0_1000L, 0xC042);
        assertThat(inIrr(apics[1], 0x42)).isTrue();
        assertThat(inTmr(apics[1], 0x42)).isTrue();
    }

    @Test
    void logicalDestinationMatchesTheLdr() {
        bus.signalMsi(0xFEE0_6004L, 0x43);
        assertThat(inIrr(apics[0], 0x43)).isFalse();
        assertThat(inIrr(apics[1], 0x43)).isTrue();
        assertThat(inIrr(apics[2], 0x43)).isTrue();
    }

    @Test
    void redirectionHintPicksOneApicOfTheSet() {
        apics[1].writeRegister(LocalApic.TPR, 0x40);
        bus.signalMsi(0xFEE0_600CL, 0x44);
        assertThat(inIrr(apics[1], 0x44)).isFalse();
        assertThat(inIrr(apics[2], 0x44)).isTrue();
    }

    @Test
    void nmiDeliveryMode() {
        bus.signalMsi(0xFEE0_0000L, 0x400);
        assertThat(apics[0].hasNmi()).isTrue();
        assertThat(apics[0].hasInterrupt()).isFalse();
    }

    @Test
    void addressOutsideTheApicRangeIsDropped() {
        bus.signalMsi(0xFED0_0000L, 0x45);
        for (LocalApic apic : apics) {
            assertThat(apic.hasInterrupt()).isFalse();
        }
    }
}
