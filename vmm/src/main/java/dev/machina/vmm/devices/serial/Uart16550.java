package dev.machina.vmm.devices.serial;

import dev.machina.vmm.devices.ByteRegisters;
import dev.machina.vmm.devices.ConsoleInput;
import dev.machina.vmm.devices.InterruptLine;

import java.util.function.IntConsumer;

/**
 * A 16550A UART: eight byte registers, a 16-byte receive FIFO, and the interrupt logic Linux's 8250
 * driver relies on. Transmission is instant, so the transmitter is always empty again by the time
 * the guest looks: every byte written to THR goes straight to the output and raises the THR-empty
 * interrupt anew.
 *
 * <p>A receive FIFO holding fewer bytes than the trigger level reports the character-timeout
 * interrupt at once instead of four character times later; drivers treat both alike.
 *
 * <p>The interrupt output reaches the line only while MCR's OUT2 is set, as on the PC.
 */
public final class Uart16550 implements ByteRegisters, ConsoleInput {
    /** The number of ports the registers take. */
    public static final int PORTS = 8;
    public static final int FIFO_SIZE = 16;

    private static final int DATA = 0;            // RBR, THR; DLL with DLAB
    private static final int INTERRUPT_ENABLE = 1; // IER; DLM with DLAB
    private static final int INTERRUPT_ID = 2;     // IIR when read, FCR when written
    private static final int LINE_CONTROL = 3;
    private static final int MODEM_CONTROL = 4;
    private static final int LINE_STATUS = 5;
    private static final int MODEM_STATUS = 6;
    private static final int SCRATCH = 7;

    private static final int IER_RECEIVED_DATA = 0x01;
    private static final int IER_THR_EMPTY = 0x02;
    private static final int IER_LINE_STATUS = 0x04;
    private static final int IER_MASK = 0x0F;

    private static final int IIR_NONE = 0x01;
    private static final int IIR_LINE_STATUS = 0x06;
    private static final int IIR_RECEIVED_DATA = 0x04;
    private static final int IIR_CHARACTER_TIMEOUT = 0x0C;
    private static final int IIR_THR_EMPTY = 0x02;
    private static final int IIR_FIFOS_ENABLED = 0xC0;

    private static final int FCR_ENABLE = 0x01;
    private static final int FCR_CLEAR_RECEIVE = 0x02;

    private static final int LCR_DLAB = 0x80;

    private static final int MCR_DTR = 0x01;
    private static final int MCR_RTS = 0x02;
    private static final int MCR_OUT1 = 0x04;
    private static final int MCR_OUT2 = 0x08;
    private static final int MCR_LOOPBACK = 0x10;
    private static final int MCR_MASK = 0x1F;

    private static final int LSR_DATA_READY = 0x01;
    private static final int LSR_OVERRUN = 0x02;
    private static final int LSR_THR_EMPTY = 0x20;
    private static final int LSR_TRANSMITTER_EMPTY = 0x40;

    private static final int MSR_CTS = 0x10;
    private static final int MSR_DSR = 0x20;
    private static final int MSR_RI = 0x40;
    private static final int MSR_DCD = 0x80;

    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final InterruptLine interrupt;
    private final IntConsumer output;
    private final byte[] received = new byte[FIFO_SIZE];
    private int receivedHead;
    private int receivedCount;
    private boolean fifosEnabled;
    private int triggerLevel = 1;
    private int interruptEnable;
    private int lineControl;
    private int modemControl;
    private int scratch;
    private int divisor = 12; // 9600 baud, as after a BIOS
    private boolean overrun;
    private boolean thrEmptyPending;
    private boolean interruptAsserted;

    /**
     * @param interrupt the line the UART's interrupt drives
     * @param output receives each transmitted byte (0-255) on the writing vCPU's thread
     */
    public Uart16550(InterruptLine interrupt, IntConsumer output) {
        this.interrupt = interrupt;
        this.output = output;
    }

    /**
     * Delivers a byte from the outside world, waiting while the receive FIFO (one byte when FIFOs
     * are off) is full: a paste is slowed down to the guest's pace rather than lost.
     */
    @Override
    public synchronized void receive(int value) throws InterruptedException {
        while (receivedCount >= capacity()) {
            wait();
        }
        enqueue(value);
        updateInterrupt();
    }

    @Override
    public synchronized int readByte(int offset) {
        boolean dlab = (lineControl & LCR_DLAB) != 0;
        int value = switch (offset) {
            case DATA -> dlab ? divisor & 0xFF : dequeue();
            case INTERRUPT_ENABLE -> dlab ? divisor >>> 8 : interruptEnable;
            case INTERRUPT_ID -> readInterruptId();
            case LINE_CONTROL -> lineControl;
            case MODEM_CONTROL -> modemControl;
            case LINE_STATUS -> readLineStatus();
            case MODEM_STATUS -> modemStatus();
            case SCRATCH -> scratch;
            default -> 0xFF;
        };
        updateInterrupt();
        return value;
    }

    @Override
    public synchronized void writeByte(int offset, int value) {
        boolean dlab = (lineControl & LCR_DLAB) != 0;
        switch (offset) {
            case DATA -> {
                if (dlab) {
                    divisor = (divisor & 0xFF00) | value;
                } else {
                    transmit(value);
                }
            }
            case INTERRUPT_ENABLE -> {
                if (dlab) {
                    divisor = (divisor & 0xFF) | value << 8;
                } else {
                    // Enabling the THR-empty interrupt while THR is empty raises it at once.
                    if ((value & IER_THR_EMPTY) != 0 && (interruptEnable & IER_THR_EMPTY) == 0) {
                        thrEmptyPending = true;
                    }
                    interruptEnable = value & IER_MASK;
                }
            }
            case INTERRUPT_ID -> writeFifoControl(value);
            case LINE_CONTROL -> lineControl = value;
            case MODEM_CONTROL -> modemControl = value & MCR_MASK;
            case SCRATCH -> scratch = value;
            default -> {
                // LSR and MSR are read-only.
            }
        }
        updateInterrupt();
    }

    private void transmit(int value) {
        if ((modemControl & MCR_LOOPBACK) != 0) {
            if (receivedCount < capacity()) {
                enqueue(value);
            } else {
                overrun = true;
            }
        } else {
            output.accept(value);
        }
        thrEmptyPending = true;
    }

    private void writeFifoControl(int value) {
        boolean enable = (value & FCR_ENABLE) != 0;
        if (enable != fifosEnabled || (value & FCR_CLEAR_RECEIVE) != 0) {
            receivedHead = 0;
            receivedCount = 0;
            notifyAll();
        }
        fifosEnabled = enable;
        triggerLevel = enable ? TRIGGER_LEVELS[value >>> 6] : 1;
    }

    private int readInterruptId() {
        int id = pendingInterrupt();
        if (id == IIR_THR_EMPTY) {
            // Reading IIR acknowledges the THR-empty interrupt it reports.
            thrEmptyPending = false;
        }
        return id | (fifosEnabled ? IIR_FIFOS_ENABLED : 0);
    }

    private int readLineStatus() {
        int status = LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY
                | (receivedCount > 0 ? LSR_DATA_READY : 0)
                | (overrun ? LSR_OVERRUN : 0);
        overrun = false;
        return status;
    }

    private int modemStatus() {
        if ((modemControl & MCR_LOOPBACK) == 0) {
            return MSR_DCD | MSR_DSR | MSR_CTS;
        }
        return ((modemControl & MCR_RTS) != 0 ? MSR_CTS : 0)
                | ((modemControl & MCR_DTR) != 0 ? MSR_DSR : 0)
                | ((modemControl & MCR_OUT1) != 0 ? MSR_RI : 0)
                | ((modemControl & MCR_OUT2) != 0 ? MSR_DCD : 0);
    }

    /** The highest-priority pending interrupt as IIR encodes it. */
    private int pendingInterrupt() {
        if ((interruptEnable & IER_LINE_STATUS) != 0 && overrun) {
            return IIR_LINE_STATUS;
        }
        if ((interruptEnable & IER_RECEIVED_DATA) != 0 && receivedCount > 0) {
            return receivedCount >= triggerLevel ? IIR_RECEIVED_DATA : IIR_CHARACTER_TIMEOUT;
        }
        if ((interruptEnable & IER_THR_EMPTY) != 0 && thrEmptyPending) {
            return IIR_THR_EMPTY;
        }
        return IIR_NONE;
    }

    private void updateInterrupt() {
        boolean asserted = pendingInterrupt() != IIR_NONE && (modemControl & MCR_OUT2) != 0;
        if (asserted != interruptAsserted) {
            interruptAsserted = asserted;
            interrupt.set(asserted);
        }
    }

    private int capacity() {
        return fifosEnabled ? FIFO_SIZE : 1;
    }

    private void enqueue(int value) {
        received[(receivedHead + receivedCount) % FIFO_SIZE] = (byte) value;
        receivedCount++;
    }

    private int dequeue() {
        if (receivedCount == 0) {
            return 0;
        }
        int value = received[receivedHead] & 0xFF;
        receivedHead = (receivedHead + 1) % FIFO_SIZE;
        receivedCount--;
        notifyAll();
        return value;
    }
}
