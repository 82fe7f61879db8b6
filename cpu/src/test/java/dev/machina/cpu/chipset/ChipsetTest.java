package dev.machina.cpu.chipset;

import dev.machina.hypervisor.spi.Traps;
import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChipsetTest {
    private final FakeClock clock = new FakeClock(0);
    private final Traps traps = new Traps();
    private Chipset chipset = new Chipset("test", traps, clock);

    @AfterEach
    void close() {
        chipset.close();
    }

    private void initialisePic() {
        traps.writePort(0x20, 1, 0x11);
        traps.writePort(0x21, 1, 0x20);
        traps.writePort(0x21, 1, 0x04);
        traps.writePort(0x21, 1, 0x01);
        traps.writePort(0xA0, 1, 0x11);
        traps.writePort(0xA1, 1, 0x28);
        traps.writePort(0xA1, 1, 0x02);
        traps.writePort(0xA1, 1, 0x01);
    }

    private void routeIoApicPin(int pin, long low, int destination) {
        long base = X86MemoryMap.IOAPIC_BASE;
        traps.writeMemory(base, 4, 0x10 + 2L * pin + 1, null);
        traps.writeMemory(base + 0x10, 4, (long) destination << 24, null);
        traps.writeMemory(base, 4, 0x10 + 2L * pin, null);
        traps.writeMemory(base + 0x10, 4, low, null);
    }

    @Test
    void devicesSitAtTheirPortsAndAddress() {
        for (int port : new int[] {0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x43, 0x61}) {
            assertThat(traps.findPort(port)).as("port 0x%x", port).isNotNull();
        }
        assertThat(traps.findPort(0x44)).isNull();
        traps.writeMemory(X86MemoryMap.IOAPIC_BASE, 4, 0x01, null);
        assertThat(traps.readMemory(X86MemoryMap.IOAPIC_BASE + 0x10, 4)).isEqualTo(0x0017_0011L);
    }

    @Test
    void theProcessorCountIsTheNumberOfLocalApics() {
        assertThat(chipset.processorCount()).isZero();
        chipset.localApic(0, new RecordingControl());
        chipset.localApic(2, new RecordingControl());
        assertThat(chipset.processorCount()).isEqualTo(2);
    }

    @Test
    void isaGsiReachesThePicThroughTheBootProcessorsLint0() {
        LocalApic bsp = chipset.localApic(0, new RecordingControl());
        initialisePic();
        chipset.pulseInterruptLine(4);
        assertThat(bsp.hasInterrupt()).isTrue();
        assertThat(bsp.acknowledgeInterrupt()).isEqualTo(0x24);
    }

    @Test
    void isaGsiReachesTheIoApicPinOfTheSameNumber() {
        LocalApic bsp = chipset.localApic(0, new RecordingControl());
        LocalApic ap = chipset.localApic(1, new RecordingControl());
        routeIoApicPin(4, 0x44, 1);
        chipset.pulseInterruptLine(4);
        assertThat(ap.acknowledgeInterrupt()).isEqualTo(0x44);
        assertThat(bsp.hasInterrupt()).as("the PIC is not initialised, so it stays quiet").isFalse();
    }

    @Test
    void pciGsiReachesOnlyTheIoApicAndIsLevelTriggered() {
        LocalApic bsp = chipset.localApic(0, new RecordingControl());
        routeIoApicPin(18, 0x8000 | 0x52, 0);
        chipset.setInterruptLine(18, true);
        assertThat(bsp.acknowledgeInterrupt()).isEqualTo(0x52);
        bsp.writeRegister(LocalApic.EOI, 0);
        assertThat(bsp.acknowledgeInterrupt()).as("still asserted after EOI").isEqualTo(0x52);
        chipset.setInterruptLine(18, false);
        bsp.writeRegister(LocalApic.EOI, 0);
        assertThat(bsp.hasInterrupt()).isFalse();
    }

    @Test
    void vcpuInterruptIsAFixedEdgeInterrupt() {
        chipset.localApic(0, new RecordingControl());
        LocalApic ap = chipset.localApic(1, new RecordingControl());
        chipset.interrupt(1, 0x61);
        assertThat(ap.acknowledgeInterrupt()).isEqualTo(0x61);
        assertThat(ap.readRegister(LocalApic.TMR + 0x30) & 2).isZero();
    }

    @Test
    void msiReachesTheNamedApic() {
        chipset.localApic(0, new RecordingControl());
        LocalApic ap = chipset.localApic(1, new RecordingControl());
        chipset.signalMsi(0xFEE0_1000L, 0x63);
        assertThat(ap.acknowledgeInterrupt()).isEqualTo(0x63);
    }

    @Test
    void apicsShareTheTscOrigin() {
        clock.set(1_000);
        LocalApic bsp = chipset.localApic(0, new RecordingControl());
        assertThat(bsp.tsc().read()).isEqualTo(2_000);
    }

    @Test
    void badArgumentsAreRefusedWithTheirValue() {
        chipset.localApic(0, new RecordingControl());
        assertThatThrownBy(() -> chipset.setInterruptLine(24, true)).hasMessageContaining("GSI 24");
        assertThatThrownBy(() -> chipset.localApic(0, new RecordingControl())).hasMessageContaining("vCPU 0");
        assertThatThrownBy(() -> chipset.interrupt(3, 0x40)).hasMessageContaining("vCPU 3");
    }

    @Test
    void pitChannel0InterruptsAHaltedCpuThroughIoApicPin2OnTheTimerThread() throws InterruptedException {
        Traps realTraps = new Traps();
        chipset.close();
        chipset = new Chipset("test", realTraps);
        CountDownLatch woken = new CountDownLatch(1);
        LocalApic bsp = chipset.localApic(0, new RecordingControl() {
            @Override
            public void wake() {
                woken.countDown();
            }
        });
        bsp.writeRegister(LocalApic.LVT_LINT0, 0x1_0700);   // the PIC path off: only the IOAPIC
        long base = X86MemoryMap.IOAPIC_BASE;
        realTraps.writeMemory(base, 4, 0x14, null);
        realTraps.writeMemory(base + 0x10, 4, 0x30, null);   // pin 2: vector 0x30, fixed, edge, to APIC 0
        realTraps.writePort(0x43, 1, 0x34);
        realTraps.writePort(0x40, 1, 1193 & 0xFF);          // a 1 ms period
        realTraps.writePort(0x40, 1, 1193 >>> 8);
        assertThat(woken.await(10, TimeUnit.SECONDS)).as("IRQ 0 within 10 s").isTrue();
        assertThat(bsp.acknowledgeInterrupt()).isEqualTo(0x30);
    }
}
