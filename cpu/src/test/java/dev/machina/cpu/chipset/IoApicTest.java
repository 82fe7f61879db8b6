package dev.machina.cpu.chipset;

import org.junit.jupiter.api.Test;

import static dev.machina.cpu.chipset.IoApic.*;
import static org.assertj.core.api.Assertions.assertThat;

class IoApicTest {
    private final FakeClock clock = new FakeClock(0);
    private IoApic ioApic;
    private final ApicBus bus = new ApicBus(vector -> ioApic.endOfInterrupt(vector), () -> -1);
    private final LocalApic apic0 = new LocalApic(0, new RecordingControl(), bus, new Tsc(clock, 0), clock);
    private final LocalApic apic1 = new LocalApic(1, new RecordingControl(), bus, new Tsc(clock, 0), clock);

    IoApicTest() {
        ioApic = new IoApic(bus);
    }

    private long readRegister(int index) {
        ioApic.write(REGISTER_SELECT, 4, index);
        return ioApic.read(REGISTER_WINDOW, 4);
    }

    private void writeRegister(int index, long value) {
        ioApic.write(REGISTER_SELECT, 4, index);
        ioApic.write(REGISTER_WINDOW, 4, value);
    }

    private void route(int pin, long low, int destination) {
        writeRegister(REDIRECTION_TABLE + 2 * pin + 1, (long) destination << 24);
        writeRegister(REDIRECTION_TABLE + 2 * pin, low);
    }

    private long entryLow(int pin) {
        return readRegister(REDIRECTION_TABLE + 2 * pin);
    }

    private static void endOfInterrupt(LocalApic apic) {
        apic.writeRegister(LocalApic.EOI, 0);
    }

    @Test
    void identificationRegisters() {
        assertThat(readRegister(VERSION)).isEqualTo(0x0017_0011L);
        writeRegister(ID, 0x0500_0000L);
        assertThat(readRegister(ID)).isEqualTo(0x0500_0000L);
        assertThat(readRegister(ARBITRATION)).isEqualTo(0x0500_0000L);
        assertThat(ioApic.read(REGISTER_SELECT, 4)).isEqualTo(ARBITRATION);
        assertThat(entryLow(7)).as("pins start masked").isEqualTo(0x1_0000L);
    }

    @Test
    void redirectionEntryReadsBackWithoutReadOnlyBits() {
        route(3, 0xFFFF_FFFFL, 0xAB);
        assertThat(entryLow(3)).isEqualTo(0xFFFF_FFFFL & ~(REMOTE_IRR | DELIVERY_STATUS));
        assertThat(readRegister(REDIRECTION_TABLE + 7)).isEqualTo(0xAB00_0000L);
    }

    @Test
    void edgePinDeliversOnRisingEdgesOnly() {
        route(4, 0x34, 1);
        ioApic.setLine(4, true);
        assertThat(apic1.acknowledgeInterrupt()).isEqualTo(0x34);
        endOfInterrupt(apic1);
        ioApic.setLine(4, true);
        assertThat(apic1.hasInterrupt()).as("no new edge").isFalse();
        ioApic.setLine(4, false);
        ioApic.setLine(4, true);
        assertThat(apic1.acknowledgeInterrupt()).isEqualTo(0x34);
        assertThat(apic0.hasInterrupt()).isFalse();
    }

    @Test
    void levelPinHoldsRemoteIrrUntilEoiAndRedeliversWhileAsserted() {
        route(5, LEVEL_TRIGGERED | 0x35, 0);
        ioApic.setLine(5, true);
        assertThat(entryLow(5) & REMOTE_IRR).isNotZero();
        assertThat(apic0.acknowledgeInterrupt()).isEqualTo(0x35);
        ioApic.setLine(5, true);
        assertThat(apic0.hasInterrupt()).as("Remote IRR holds further deliveries").isFalse();

        endOfInterrupt(apic0);
        assertThat(apic0.acknowledgeInterrupt()).as("still asserted after the EOI").isEqualTo(0x35);
        assertThat(entryLow(5) & REMOTE_IRR).isNotZero();

        ioApic.setLine(5, false);
        endOfInterrupt(apic0);
        assertThat(entryLow(5) & REMOTE_IRR).isZero();
        assertThat(apic0.hasInterrupt()).isFalse();
    }

    @Test
    void maskedEdgeIsLost() {
        route(6, MASKED | 0x36, 0);
        ioApic.setLine(6, true);
        route(6, 0x36, 0);
        assertThat(apic0.hasInterrupt()).isFalse();
    }

    @Test
    void maskedLevelIsDeliveredWhenUnmasked() {
        route(9, MASKED | LEVEL_TRIGGERED | 0x39, 1);
        ioApic.setLine(9, true);
        assertThat(apic1.hasInterrupt()).isFalse();
        route(9, LEVEL_TRIGGERED | 0x39, 1);
        assertThat(apic1.acknowledgeInterrupt()).isEqualTo(0x39);
    }

    @Test
    void logicalDestinationMode() {
        apic0.writeRegister(LocalApic.LDR, 0x0100_0000);
        apic1.writeRegister(LocalApic.LDR, 0x0200_0000);
        route(10, LOGICAL | 0x3A, 0x02);
        ioApic.setLine(10, true);
        assertThat(apic1.acknowledgeInterrupt()).isEqualTo(0x3A);
        assertThat(apic0.hasInterrupt()).isFalse();
    }

    @Test
    void accessesOutsideTheRegistersReadZero() {
        assertThat(ioApic.read(0x20, 4)).isZero();
        ioApic.write(REGISTER_SELECT, 4, REDIRECTION_TABLE + 2 * PINS);
        assertThat(ioApic.read(REGISTER_WINDOW, 4)).isZero();
    }
}
