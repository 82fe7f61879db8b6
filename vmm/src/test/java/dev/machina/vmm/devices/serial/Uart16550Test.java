package dev.machina.vmm.devices.serial;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class Uart16550Test {
    private static final int DATA = 0;
    private static final int IER = 1;
    private static final int IIR = 2;
    private static final int FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private final List<Boolean> line = new ArrayList<>();
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Uart16550 uart = new Uart16550(line::add, output::write);

    private boolean asserted() {
        return !line.isEmpty() && line.getLast();
    }

    @Test
    void transmitsAtOnceAndAlwaysReportsTheTransmitterEmpty() {
        assertThat(uart.readByte(LSR) & 0x60).isEqualTo(0x60);
        for (char c : "hi\r\n".toCharArray()) {
            uart.writeByte(DATA, c);
        }
        assertThat(output.toString()).isEqualTo("hi\r\n");
        assertThat(uart.readByte(LSR) & 0x60).isEqualTo(0x60);
    }

    @Test
    void receivedBytesSetDataReadyUntilRead() throws InterruptedException {
        assertThat(uart.readByte(LSR) & 1).isZero();
        uart.receive('a');
        assertThat(uart.readByte(LSR) & 1).isEqualTo(1);
        assertThat(uart.readByte(DATA)).isEqualTo('a');
        assertThat(uart.readByte(LSR) & 1).isZero();
    }

    @Test
    void fifoHoldsSixteenBytesInOrder() throws InterruptedException {
        uart.writeByte(FCR, 0x01);
        for (int i = 0; i < 16; i++) {
            uart.receive('A' + i);
        }
        StringBuilder read = new StringBuilder();
        while ((uart.readByte(LSR) & 1) != 0) {
            read.append((char) uart.readByte(DATA));
        }
        assertThat(read).hasToString("ABCDEFGHIJKLMNOP");
    }

    @Test
    void aFullFifoHoldsTheSenderBackUntilTheGuestReads() throws Exception {
        uart.writeByte(FCR, 0x01);
        for (int i = 0; i < 16; i++) {
            uart.receive('a');
        }
        CompletableFuture<Void> seventeenth = CompletableFuture.runAsync(() -> {
            try {
                uart.receive('z');
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(seventeenth).isNotDone();
        uart.readByte(DATA);
        seventeenth.get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 15; i++) {
            assertThat(uart.readByte(DATA)).isEqualTo('a');
        }
        assertThat(uart.readByte(DATA)).isEqualTo('z');
    }

    @Test
    void clearingTheReceiveFifoDropsItsBytes() throws InterruptedException {
        uart.writeByte(FCR, 0x01);
        uart.receive('x');
        uart.writeByte(FCR, 0x03);
        assertThat(uart.readByte(LSR) & 1).isZero();
    }

    @Test
    void iirShowsFifosEnabledAs16550A() {
        assertThat(uart.readByte(IIR)).isEqualTo(0x01);
        uart.writeByte(FCR, 0x01);
        assertThat(uart.readByte(IIR)).isEqualTo(0xC1);
    }

    @Test
    void divisorLatchSharesPortsWithDataAndIer() {
        uart.writeByte(IER, 0x05);
        uart.writeByte(LCR, 0x83);
        uart.writeByte(DATA, 0x01);
        uart.writeByte(IER, 0x00);
        assertThat(uart.readByte(DATA)).isEqualTo(0x01);
        assertThat(uart.readByte(IER)).isEqualTo(0x00);
        uart.writeByte(LCR, 0x03);
        assertThat(uart.readByte(IER)).isEqualTo(0x05);
        assertThat(uart.readByte(LCR)).isEqualTo(0x03);
        assertThat(output.size()).isZero();
    }

    @Test
    void scratchRegisterKeepsWhatIsWritten() {
        uart.writeByte(SCR, 0x5A);
        assertThat(uart.readByte(SCR)).isEqualTo(0x5A);
    }

    @Test
    void receivedDataInterruptFollowsTheFifoAndOut2() throws InterruptedException {
        uart.writeByte(IER, 0x01);
        uart.receive('k');
        assertThat(line).isEmpty(); // OUT2 gates the interrupt off
        assertThat(uart.readByte(IIR)).isEqualTo(0x04);
        uart.writeByte(MCR, 0x08);
        assertThat(asserted()).isTrue();
        uart.readByte(DATA);
        assertThat(asserted()).isFalse();
        assertThat(uart.readByte(IIR)).isEqualTo(0x01);
    }

    @Test
    void belowTheTriggerLevelTheCharacterTimeoutIsReported() throws InterruptedException {
        uart.writeByte(FCR, 0x81); // FIFOs on, trigger at 8 bytes
        uart.writeByte(MCR, 0x08);
        uart.writeByte(IER, 0x01);
        for (int i = 0; i < 7; i++) {
            uart.receive('.');
        }
        assertThat(uart.readByte(IIR)).isEqualTo(0xCC);
        uart.receive('.');
        assertThat(uart.readByte(IIR)).isEqualTo(0xC4);
        assertThat(asserted()).isTrue();
    }

    @Test
    void thrEmptyInterruptIsRaisedByEnablingAndByEachWriteAndClearedByReadingIir() {
        uart.writeByte(MCR, 0x08);
        uart.writeByte(IER, 0x02);
        assertThat(asserted()).isTrue();
        assertThat(uart.readByte(IIR)).isEqualTo(0x02);
        assertThat(asserted()).isFalse();
        assertThat(uart.readByte(IIR)).isEqualTo(0x01);
        uart.writeByte(DATA, 'x');
        assertThat(asserted()).isTrue();
        assertThat(uart.readByte(IIR)).isEqualTo(0x02);
        assertThat(asserted()).isFalse();
    }

    @Test
    void receivedDataOutranksThrEmpty() throws InterruptedException {
        uart.writeByte(MCR, 0x08);
        uart.writeByte(IER, 0x03);
        uart.receive('r');
        assertThat(uart.readByte(IIR)).isEqualTo(0x04);
        uart.readByte(DATA);
        assertThat(uart.readByte(IIR)).isEqualTo(0x02);
    }

    @Test
    void loopbackReturnsWhatIsSentAndReflectsModemControl() {
        uart.writeByte(MCR, 0x10 | 0x0A); // loopback, RTS, OUT2
        assertThat(uart.readByte(MSR) & 0xF0).isEqualTo(0x90); // CTS and DCD
        uart.writeByte(DATA, 'L');
        assertThat(output.size()).isZero();
        assertThat(uart.readByte(LSR) & 1).isEqualTo(1);
        assertThat(uart.readByte(DATA)).isEqualTo('L');
        uart.writeByte(MCR, 0x00);
        assertThat(uart.readByte(MSR) & 0xF0).isEqualTo(0xB0); // a connected line: DCD, DSR, CTS
    }

    @Test
    void loopbackOverrunIsReportedOnceAndRaisesTheLineStatusInterrupt() {
        uart.writeByte(MCR, 0x18);
        uart.writeByte(IER, 0x04);
        uart.writeByte(DATA, '1');
        uart.writeByte(DATA, '2'); // without FIFOs the receiver holds one byte
        assertThat(uart.readByte(IIR)).isEqualTo(0x06);
        assertThat(asserted()).isTrue();
        assertThat(uart.readByte(LSR) & 0x02).isEqualTo(0x02);
        assertThat(uart.readByte(LSR) & 0x02).isZero();
        assertThat(asserted()).isFalse();
        assertThat(uart.readByte(DATA)).isEqualTo('1');
    }

    @Test
    void wideAccessesAreSplitIntoBytes() throws InterruptedException {
        uart.write(SCR - 1, 2, 0x7700); // MSR is read-only, SCR gets 0x77
        assertThat(uart.readByte(SCR)).isEqualTo(0x77);
        assertThat(uart.read(LCR, 2)).isEqualTo(uart.readByte(LCR) | (long) uart.readByte(MCR) << 8);
    }
}
