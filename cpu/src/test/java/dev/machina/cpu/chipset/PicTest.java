package dev.machina.cpu.chipset;

import dev.machina.hypervisor.TrapHandler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PicTest {
    private static final int COMMAND = 0;
    private static final int DATA = 1;

    private final Pic pic = new Pic();
    private boolean intr;

    @Test
    void uninitialisedControllersMaskEverything() {
        Pic fresh = new Pic();
        fresh.connectOutput(asserted -> intr = asserted);
        fresh.setIrq(3, true);
        assertThat(intr).isFalse();
        assertThat(fresh.master().read(DATA, 1)).isEqualTo(0xFF);
    }

    @BeforeEach
    void initialiseAsLinuxDoes() {
        pic.connectOutput(asserted -> intr = asserted);
        initialise(pic.master(), 0x20, 0x04, 0x01);
        initialise(pic.slave(), 0x28, 0x02, 0x01);
    }

    private static void initialise(TrapHandler controller, int vectorBase, int icw3, int icw4) {
        controller.write(COMMAND, 1, 0x11);        // ICW1: edge, cascade, ICW4 follows
        controller.write(DATA, 1, vectorBase);     // ICW2
        controller.write(DATA, 1, icw3);           // ICW3
        controller.write(DATA, 1, icw4);           // ICW4: 8086 mode
    }

    private int readIrr(TrapHandler controller) {
        controller.write(COMMAND, 1, 0x0A);
        return (int) controller.read(COMMAND, 1);
    }

    private int readIsr(TrapHandler controller) {
        controller.write(COMMAND, 1, 0x0B);
        return (int) controller.read(COMMAND, 1);
    }

    private void pulse(int irq) {
        pic.setIrq(irq, true);
        pic.setIrq(irq, false);
    }

    @Test
    void requestIsServedAtTheProgrammedVectorUntilEoi() {
        assertThat(pic.master().read(DATA, 1)).as("ICW1 clears the mask").isZero();
        pulse(3);
        assertThat(intr).isTrue();
        assertThat(readIrr(pic.master())).isEqualTo(0x08);
        assertThat(pic.acknowledge()).isEqualTo(0x23);
        assertThat(intr).isFalse();
        assertThat(readIrr(pic.master())).isZero();
        assertThat(readIsr(pic.master())).isEqualTo(0x08);
        pic.master().write(COMMAND, 1, 0x20);      // non-specific EOI
        assertThat(readIsr(pic.master())).isZero();
    }

    @Test
    void lowerIrqNumberHasHigherPriorityAndNests() {
        pulse(5);
        pulse(1);
        assertThat(pic.acknowledge()).isEqualTo(0x21);
        assertThat(intr).as("IRQ5 waits below IRQ1 in service").isFalse();
        pic.master().write(COMMAND, 1, 0x20);
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x25);
        pulse(0);
        assertThat(intr).as("IRQ0 nests above IRQ5 in service").isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x20);
        assertThat(readIsr(pic.master())).isEqualTo(0x21);
    }

    @Test
    void maskedRequestWaitsForUnmask() {
        pic.master().write(DATA, 1, 0x08);
        pulse(3);
        assertThat(intr).isFalse();
        assertThat(readIrr(pic.master())).isEqualTo(0x08);
        pic.master().write(DATA, 1, 0x00);
        assertThat(intr).isTrue();
    }

    @Test
    void slaveIrqsCascadeThroughIrq2() {
        pulse(12);
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x2C);
        assertThat(readIsr(pic.master())).isEqualTo(0x04);
        assertThat(readIsr(pic.slave())).isEqualTo(0x10);
        pic.slave().write(COMMAND, 1, 0x20);
        pic.master().write(COMMAND, 1, 0x20);
        assertThat(readIsr(pic.master())).isZero();
        assertThat(readIsr(pic.slave())).isZero();
    }

    @Test
    void maskingTheCascadeHoldsSlaveIrqs() {
        pic.master().write(DATA, 1, 0x04);
        pulse(9);
        assertThat(intr).isFalse();
        pic.master().write(DATA, 1, 0x00);
        assertThat(pic.acknowledge()).isEqualTo(0x29);
    }

    @Test
    void autoEoiLeavesNothingInService() {
        initialise(pic.master(), 0x30, 0x04, 0x03);
        pulse(4);
        assertThat(pic.acknowledge()).isEqualTo(0x34);
        assertThat(readIsr(pic.master())).isZero();
    }

    @Test
    void spuriousAcknowledgeAnswersIrq7WithoutServingIt() {
        assertThat(pic.acknowledge()).isEqualTo(0x27);
        assertThat(readIsr(pic.master())).isZero();
    }

    @Test
    void edgeInputHeldHighRequestsOnce() {
        pic.setIrq(4, true);
        assertThat(pic.acknowledge()).isEqualTo(0x24);
        pic.master().write(COMMAND, 1, 0x20);
        assertThat(intr).isFalse();
        assertThat(readIrr(pic.master())).isZero();
    }

    @Test
    void levelInputPerElcrRequestsWhileHigh() {
        pic.elcr().write(1, 1, 0x04);              // IRQ10 level-triggered
        assertThat(pic.elcr().read(0, 2)).isEqualTo(0x0400);
        pic.setIrq(10, true);
        assertThat(pic.acknowledge()).isEqualTo(0x2A);
        pic.slave().write(COMMAND, 1, 0x20);
        pic.master().write(COMMAND, 1, 0x20);
        assertThat(intr).as("the line is still high").isTrue();
        pic.setIrq(10, false);
        assertThat(intr).isFalse();
        assertThat(readIrr(pic.slave())).isZero();
    }

    @Test
    void elcrKeepsTimerKeyboardCascadeRtcAndFpuEdgeTriggered() {
        pic.elcr().write(0, 2, 0xFFFF);
        assertThat(pic.elcr().read(0, 1)).isEqualTo(0xF8);
        assertThat(pic.elcr().read(1, 1)).isEqualTo(0xDE);
    }

    @Test
    void specificEoiEndsTheNamedIrq() {
        pulse(6);
        pic.acknowledge();
        pulse(1);
        pic.acknowledge();
        pic.master().write(COMMAND, 1, 0x66);      // specific EOI for IRQ6
        assertThat(readIsr(pic.master())).isEqualTo(0x02);
    }

    @Test
    void rotateOnEoiMakesTheServedIrqLowest() {
        pulse(3);
        pic.acknowledge();
        pic.master().write(COMMAND, 1, 0xA0);      // rotate on non-specific EOI
        pulse(1);
        pulse(4);
        assertThat(pic.acknowledge()).as("after IRQ3 rotated to lowest, IRQ4 leads").isEqualTo(0x24);
    }

    @Test
    void setPriorityNamesTheLowestIrq() {
        pic.master().write(COMMAND, 1, 0xC5);      // IRQ5 lowest: 6 is now highest
        pulse(0);
        pulse(6);
        assertThat(pic.acknowledge()).isEqualTo(0x26);
    }

    @Test
    void pollReadsTheHighestRequestAndServesIt() {
        pulse(3);
        pic.master().write(COMMAND, 1, 0x0C);
        assertThat(pic.master().read(COMMAND, 1)).isEqualTo(0x83);
        assertThat(readIsr(pic.master())).isEqualTo(0x08);
        pic.master().write(COMMAND, 1, 0x0C);
        assertThat(pic.master().read(COMMAND, 1)).as("nothing left to poll").isZero();
    }

    @Test
    void specialMaskModeLetsLowerPrioritiesThroughTheMaskedInServiceLevel() {
        pulse(1);
        pic.acknowledge();                        // IRQ1 in service
        pulse(5);
        assertThat(intr).isFalse();
        pic.master().write(COMMAND, 1, 0x68);      // set special mask
        pic.master().write(DATA, 1, 0x02);         // mask IRQ1
        assertThat(intr).isTrue();
        assertThat(pic.acknowledge()).isEqualTo(0x25);
    }
}
