package dev.machina.cpu.chipset;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.machina.cpu.chipset.ApicRegisters.*;
import static dev.machina.cpu.chipset.LocalApic.*;
import static org.assertj.core.api.Assertions.assertThat;

class LocalApicTest {
    private final FakeClock clock = new FakeClock(1_000);
    private final List<Integer> eois = new ArrayList<>();
    private final ApicBus bus = new ApicBus(eois::add, () -> 0x68);
    private final RecordingControl[] controls = {new RecordingControl(), new RecordingControl(), new RecordingControl()};
    private final LocalApic[] apics = new LocalApic[3];

    LocalApicTest() {
        for (int i = 0; i < apics.length; i++) {
            apics[i] = new LocalApic(i, controls[i], bus, new Tsc(clock, 0), clock);
            apics[i].writeRegister(SVR, SVR_ENABLE | 0xFF);
        }
    }

    private LocalApic bsp() {
        return apics[0];
    }

    private void sendIpi(LocalApic from, int destination, int icrLow) {
        from.writeRegister(ICR_HIGH, destination << 24);
        from.writeRegister(ICR_LOW, icrLow);
    }

    @Test
    void powerUpRegisters() {
        LocalApic fresh = new LocalApic(1, new RecordingControl(), bus, new Tsc(clock, 0), clock);
        assertThat(fresh.readRegister(ID)).isEqualTo(0x0100_0000);
        assertThat(fresh.readRegister(VERSION)).isEqualTo(0x0005_0014);
        assertThat(fresh.readRegister(DFR)).isEqualTo(0xFFFF_FFFF);
        assertThat(fresh.readRegister(SVR)).isEqualTo(0xFF);
        assertThat(fresh.readRegister(LVT_TIMER)).isEqualTo(0x1_0000);
        assertThat(fresh.readRegister(LVT_LINT0)).as("an AP's LINT0 is masked").isEqualTo(0x1_0000);
        assertThat(fresh.apicBase()).isEqualTo(0xFEE0_0800L);
        assertThat(bsp().apicBase()).isEqualTo(0xFEE0_0900L);
        assertThat(bsp().readRegister(LVT_LINT0)).as("the BSP starts in virtual-wire mode").isEqualTo(0x700);
    }

    @Test
    void apicBaseKeepsTheBspFlagAndDisablingResets() {
        bsp().setApicBase(0xFED0_0800L);
        assertThat(bsp().apicBase()).isEqualTo(0xFED0_0900L);
        bsp().writeRegister(TPR, 0x20);
        bsp().setApicBase(0xFED0_0000L);
        assertThat(bsp().apicBase()).isEqualTo(0xFED0_0100L);
        assertThat(bsp().readRegister(TPR)).isZero();
        assertThat(bsp().readRegister(SVR)).isEqualTo(0xFF);
    }

    @Test
    void highestPriorityClassIsTakenFirstAndBlocksLowerClassesUntilEoi() {
        LocalApic apic = bsp();
        bus.deliver(0, false, DeliveryMode.FIXED, 0x31, false);
        bus.deliver(0, false, DeliveryMode.FIXED, 0x52, false);
        assertThat(apic.hasInterrupt()).isTrue();
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x52);
        assertThat(inIsr(apic, 0x52)).isTrue();
        assertThat(inIrr(apic, 0x52)).isFalse();
        assertThat(apic.readRegister(PPR)).isEqualTo(0x50);
        assertThat(apic.hasInterrupt()).as("0x31 is in a lower class than 0x52 in service").isFalse();
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(-1);

        apic.writeRegister(EOI, 0);
        assertThat(inIsr(apic, 0x52)).isFalse();
        assertThat(apic.readRegister(PPR)).isZero();
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x31);
    }

    @Test
    void sameClassDoesNotNestButHigherClassDoes() {
        LocalApic apic = bsp();
        bus.deliver(0, false, DeliveryMode.FIXED, 0x51, false);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x51);
        bus.deliver(0, false, DeliveryMode.FIXED, 0x5F, false);
        assertThat(apic.hasInterrupt()).as("0x5F is in the class of 0x51").isFalse();
        bus.deliver(0, false, DeliveryMode.FIXED, 0x62, false);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x62);

        apic.writeRegister(EOI, 0);
        assertThat(inIsr(apic, 0x62)).as("EOI ends the highest in service").isFalse();
        assertThat(inIsr(apic, 0x51)).isTrue();
        apic.writeRegister(EOI, 0);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x5F);
    }

    @Test
    void taskPriorityMasksItsClassAndBelow() {
        LocalApic apic = bsp();
        apic.writeRegister(TPR, 0x5A);
        bus.deliver(0, false, DeliveryMode.FIXED, 0x5F, false);
        assertThat(apic.hasInterrupt()).isFalse();
        assertThat(apic.readRegister(PPR)).isEqualTo(0x5A);
        bus.deliver(0, false, DeliveryMode.FIXED, 0x60, false);
        assertThat(apic.hasInterrupt()).isTrue();
        assertThat(apic.readRegister(APR)).as("APR: the IRR's class 0x60 is above the TPR").isEqualTo(0x60);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x60);
        apic.writeRegister(EOI, 0);
        apic.writeRegister(TPR, 0x40);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x5F);
    }

    @Test
    void levelTriggeredEoiIsBroadcastEdgeIsNot() {
        LocalApic apic = bsp();
        bus.deliver(0, false, DeliveryMode.FIXED, 0x41, true);
        assertThat(inTmr(apic, 0x41)).isTrue();
        apic.acknowledgeInterrupt();
        apic.writeRegister(EOI, 0);
        assertThat(eois).containsExactly(0x41);

        bus.deliver(0, false, DeliveryMode.FIXED, 0x41, false);
        assertThat(inTmr(apic, 0x41)).isFalse();
        apic.acknowledgeInterrupt();
        apic.writeRegister(EOI, 0);
        assertThat(eois).containsExactly(0x41);
    }

    @Test
    void deliveryWakesTheTarget() {
        int before = controls[2].wakes.get();
        bus.deliver(2, false, DeliveryMode.FIXED, 0x70, false);
        assertThat(controls[2].wakes.get()).isEqualTo(before + 1);
        assertThat(apics[2].hasInterrupt()).isTrue();
    }

    @Test
    void physicalIpiReachesOnlyItsDestination() {
        sendIpi(bsp(), 2, 0x45);
        assertThat(inIrr(apics[2], 0x45)).isTrue();
        assertThat(inIrr(apics[1], 0x45)).isFalse();
        assertThat(inIrr(apics[0], 0x45)).isFalse();
        assertThat(bsp().readRegister(ICR_LOW) & (1 << 12)).as("delivery status: idle").isZero();
        assertThat(bsp().readRegister(ICR_HIGH)).isEqualTo(0x0200_0000);
    }

    @Test
    void physicalBroadcastReachesAll() {
        sendIpi(bsp(), 0xFF, 0x46);
        for (LocalApic apic : apics) {
            assertThat(inIrr(apic, 0x46)).isTrue();
        }
    }

    @Test
    void logicalFlatDestinationIsABitmask() {
        for (int i = 0; i < apics.length; i++) {
            apics[i].writeRegister(LDR, (1 << i) << 24 | 0xFFFF);
        }
        assertThat(apics[1].readRegister(LDR)).isEqualTo(0x0200_0000);
        sendIpi(apics[1], 0x05, 0x800 | 0x47);
        assertThat(inIrr(apics[0], 0x47)).isTrue();
        assertThat(inIrr(apics[1], 0x47)).isFalse();
        assertThat(inIrr(apics[2], 0x47)).isTrue();
    }

    @Test
    void logicalClusterDestinationNamesAClusterAndMembers() {
        int[] ldrs = {0x11, 0x12, 0x21};
        for (int i = 0; i < apics.length; i++) {
            apics[i].writeRegister(DFR, 0x0FFF_FFFF);
            apics[i].writeRegister(LDR, ldrs[i] << 24);
        }
        assertThat(apics[0].readRegister(DFR)).isEqualTo(0x0FFF_FFFF);
        sendIpi(apics[2], 0x13, 0x800 | 0x48);
        assertThat(inIrr(apics[0], 0x48)).isTrue();
        assertThat(inIrr(apics[1], 0x48)).isTrue();
        assertThat(inIrr(apics[2], 0x48)).isFalse();

        sendIpi(apics[0], 0x21, 0x800 | 0x49);
        assertThat(inIrr(apics[2], 0x49)).isTrue();
        assertThat(inIrr(apics[1], 0x49)).isFalse();
    }

    @Test
    void shorthandsIgnoreTheDestination() {
        sendIpi(apics[1], 0, 0x4_0000 | 0x51);
        assertThat(inIrr(apics[1], 0x51)).as("self").isTrue();
        assertThat(inIrr(apics[0], 0x51)).isFalse();

        sendIpi(apics[1], 0, 0x8_0000 | 0x52);
        for (LocalApic apic : apics) {
            assertThat(inIrr(apic, 0x52)).as("all including self").isTrue();
        }

        sendIpi(apics[1], 0, 0xC_0000 | 0x53);
        assertThat(inIrr(apics[0], 0x53)).as("all excluding self").isTrue();
        assertThat(inIrr(apics[1], 0x53)).isFalse();
        assertThat(inIrr(apics[2], 0x53)).isTrue();
    }

    @Test
    void lowestPriorityPicksTheApicWithTheLowestTaskPriority() {
        apics[0].writeRegister(TPR, 0x20);
        apics[1].writeRegister(TPR, 0x10);
        apics[2].writeRegister(TPR, 0x30);
        for (LocalApic apic : apics) {
            apic.writeRegister(LDR, 0xFF00_0000);
        }
        sendIpi(apics[0], 0xFF, 0x800 | 0x100 | 0x54);
        assertThat(inIrr(apics[1], 0x54)).isTrue();
        assertThat(inIrr(apics[0], 0x54)).isFalse();
        assertThat(inIrr(apics[2], 0x54)).isFalse();
    }

    @Test
    void initAndStartupReachTheProcessor() {
        sendIpi(bsp(), 1, 0x4500);                  // INIT, level assert, level-triggered
        sendIpi(bsp(), 1, 0x8500);                  // INIT level de-assert: no effect
        sendIpi(bsp(), 1, 0x0600 | 0x9A);           // STARTUP at 0x9A000
        assertThat(controls[1].inits.get()).isEqualTo(1);
        assertThat(controls[1].startups).containsExactly(0x9A);
        assertThat(controls[2].inits.get()).isZero();
        assertThat(controls[2].startups).isEmpty();
    }

    @Test
    void nmiIpiIsPendingUntilTaken() {
        sendIpi(bsp(), 2, 0x400);
        assertThat(apics[2].hasNmi()).isTrue();
        apics[2].acknowledgeNmi();
        assertThat(apics[2].hasNmi()).isFalse();
    }

    @Test
    void illegalVectorIsNotSentAndLatchedInEsr() {
        bsp().writeRegister(LVT_ERROR, 0xFE);
        sendIpi(bsp(), 1, 0x0F);
        assertThat(apics[1].hasInterrupt()).isFalse();
        assertThat(bsp().readRegister(ESR)).as("latched only by an ESR write").isZero();
        bsp().writeRegister(ESR, 0);
        assertThat(bsp().readRegister(ESR)).isEqualTo(ESR_SEND_ILLEGAL_VECTOR);
        assertThat(bsp().acknowledgeInterrupt()).as("the error LVT").isEqualTo(0xFE);
        bsp().writeRegister(ESR, 0);
        assertThat(bsp().readRegister(ESR)).isZero();
    }

    @Test
    void softwareDisableMasksTheLocalVectorTable() {
        LocalApic apic = apics[1];
        apic.writeRegister(LVT_TIMER, 0x20);
        assertThat(apic.readRegister(LVT_TIMER)).isEqualTo(0x20);
        apic.writeRegister(SVR, 0xFF);
        assertThat(apic.readRegister(LVT_TIMER)).isEqualTo(0x1_0020);
        apic.writeRegister(LVT_TIMER, 0x21);
        assertThat(apic.readRegister(LVT_TIMER)).isEqualTo(0x1_0021);
    }

    @Test
    void oneShotTimerCountsDownAndFiresOnce() {
        LocalApic apic = apics[1];
        apic.writeRegister(TIMER_DIVIDE, 0x3);       // divide by 16
        apic.writeRegister(LVT_TIMER, 0xEC);
        clock.set(10_000);
        apic.writeRegister(TIMER_INITIAL_COUNT, 1000); // 16 000 ns
        assertThat(apic.nextDeadline()).isEqualTo(26_000);
        clock.set(18_000);
        assertThat(apic.readRegister(TIMER_CURRENT_COUNT)).isEqualTo(500);
        apic.advanceTo(25_999);
        assertThat(apic.hasInterrupt()).isFalse();
        apic.advanceTo(26_000);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0xEC);
        assertThat(apic.nextDeadline()).isEqualTo(Long.MAX_VALUE);
        clock.set(30_000);
        assertThat(apic.readRegister(TIMER_CURRENT_COUNT)).isZero();
        assertThat(apic.readRegister(TIMER_INITIAL_COUNT)).isEqualTo(1000);
    }

    @Test
    void periodicTimerReloadsAndCoalescesMissedPeriods() {
        LocalApic apic = apics[1];
        apic.writeRegister(TIMER_DIVIDE, 0xB);       // divide by 1
        apic.writeRegister(LVT_TIMER, 0x2_0000 | 0xEC);
        clock.set(0);
        apic.writeRegister(TIMER_INITIAL_COUNT, 100);
        assertThat(apic.nextDeadline()).isEqualTo(100);
        clock.set(350);
        assertThat(apic.readRegister(TIMER_CURRENT_COUNT)).isEqualTo(50);
        apic.advanceTo(350);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0xEC);
        apic.writeRegister(EOI, 0);
        assertThat(apic.hasInterrupt()).as("three periods coalesced into one interrupt").isFalse();
        assertThat(apic.nextDeadline()).isEqualTo(400);
        apic.advanceTo(400);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0xEC);
        assertThat(apic.nextDeadline()).isEqualTo(500);
    }

    @Test
    void enteringTscDeadlineModeDisarmsTheCountdown() {
        LocalApic apic = apics[1];
        apic.writeRegister(LVT_TIMER, 0xEC);
        apic.writeRegister(TIMER_INITIAL_COUNT, 100);
        apic.writeRegister(LVT_TIMER, 0x2_0000 | 0xEC);
        assertThat(apic.nextDeadline()).as("one-shot to periodic runs on").isEqualTo(1_000 + 200);
        apic.writeRegister(LVT_TIMER, 0x4_0000 | 0xEC);
        assertThat(apic.nextDeadline()).isEqualTo(Long.MAX_VALUE);
        assertThat(apic.readRegister(TIMER_INITIAL_COUNT)).isZero();
    }

    @Test
    void maskedTimerRunsWithoutInterrupting() {
        LocalApic apic = apics[1];
        apic.writeRegister(LVT_TIMER, 0x1_0000 | 0xEC);
        clock.set(0);
        apic.writeRegister(TIMER_INITIAL_COUNT, 10);   // divide by 2 at reset: 20 ns
        apic.advanceTo(20);
        assertThat(apic.hasInterrupt()).isFalse();
        assertThat(apic.nextDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void tscDeadlineTimerFiresWhenTheTscReachesTheDeadline() {
        LocalApic apic = apics[1];
        apic.setTscDeadline(5_000);
        assertThat(apic.tscDeadline()).as("ignored outside TSC-deadline mode").isZero();
        apic.writeRegister(LVT_TIMER, 0x4_0000 | 0xED);
        apic.writeRegister(TIMER_INITIAL_COUNT, 50);
        assertThat(apic.nextDeadline()).as("the initial count is ignored in TSC-deadline mode").isEqualTo(Long.MAX_VALUE);
        apic.setTscDeadline(5_001);                   // 2 ticks per ns from origin 0: 2500.5 ns
        assertThat(apic.tscDeadline()).isEqualTo(5_001);
        assertThat(apic.nextDeadline()).isEqualTo(2_501);
        apic.advanceTo(2_500);
        assertThat(apic.hasInterrupt()).isFalse();
        apic.advanceTo(2_501);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0xED);
        assertThat(apic.tscDeadline()).isZero();
        assertThat(apic.nextDeadline()).isEqualTo(Long.MAX_VALUE);

        apic.setTscDeadline(9_000);
        apic.setTscDeadline(0);
        assertThat(apic.nextDeadline()).as("writing 0 disarms").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void extIntOnLint0AsksThePicForTheVectorRegardlessOfTaskPriority() {
        LocalApic apic = bsp();
        apic.writeRegister(TPR, 0xF0);
        apic.setLint0(true);
        assertThat(apic.hasInterrupt()).isTrue();
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x68);
        assertThat(apic.readRegister(ISR + 0x30)).as("the PIC keeps the in-service state").isZero();
        apic.setLint0(false);
        assertThat(apic.hasInterrupt()).isFalse();
    }

    @Test
    void maskedLint0IgnoresThePic() {
        LocalApic apic = bsp();
        apic.writeRegister(LVT_LINT0, 0x1_0700);
        apic.setLint0(true);
        assertThat(apic.hasInterrupt()).isFalse();
    }

    @Test
    void lint0InFixedModeRaisesItsVectorOnARisingEdge() {
        LocalApic apic = bsp();
        apic.writeRegister(LVT_LINT0, 0x33);
        apic.setLint0(true);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x33);
    }

    @Test
    void hardwareDisabledApicPassesThePicThrough() {
        LocalApic apic = bsp();
        apic.setApicBase(0xFEE0_0000L);
        apic.setLint0(true);
        assertThat(apic.acknowledgeInterrupt()).isEqualTo(0x68);
    }

    @Test
    void hardwareDisabledApicIgnoresMessages() {
        apics[2].setApicBase(0xFEE0_0000L);
        bus.deliver(0xFF, false, DeliveryMode.FIXED, 0x44, false);
        assertThat(apics[2].hasInterrupt()).isFalse();
        assertThat(apics[1].hasInterrupt()).isTrue();
    }

    @Test
    void initResetClearsPendingStateButKeepsTheId() {
        LocalApic apic = apics[2];
        bus.deliver(2, false, DeliveryMode.FIXED, 0x44, false);
        apic.writeRegister(TPR, 0x30);
        apic.reset();
        assertThat(apic.hasInterrupt()).isFalse();
        assertThat(apic.readRegister(TPR)).isZero();
        assertThat(apic.readRegister(ID)).isEqualTo(0x0200_0000);
    }
}
