package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.TrapHandler;

import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * The part of the PS/2 controller (i8042) a kernel needs without a keyboard: the status register,
 * the controller self-test, the command byte, and the reset line (command 0xFE pulses it and the
 * machine reboots). There are no PS/2 devices behind it.
 */
public final class I8042 {
    public static final int DATA_PORT = 0x60;
    public static final int COMMAND_PORT = 0x64;

    private static final int STATUS_OUTPUT_FULL = 0x01;
    private static final int STATUS_SYSTEM_FLAG = 0x04;
    private static final int STATUS_LAST_WAS_COMMAND = 0x08;
    /** Set when the keyboard is not inhibited by the key lock; a PC without a key lock always sets it. */
    private static final int STATUS_UNLOCKED = 0x10;

    private static final int READ_COMMAND_BYTE = 0x20;
    private static final int WRITE_COMMAND_BYTE = 0x60;
    private static final int SELF_TEST = 0xAA;
    private static final int SELF_TEST_PASSED = 0x55;
    private static final int PULSE_RESET = 0xFE;

    private final PlatformControl platform;
    private int output = -1;
    private int commandByte = 0x30; // both ports' clocks off, no interrupts
    private boolean nextDataIsCommandByte;
    private boolean lastWasCommand;

    public I8042(PlatformControl platform) {
        this.platform = platform;
    }

    /** The handler for {@link #DATA_PORT}. */
    public TrapHandler dataPort() {
        return port(this::readData, this::writeData);
    }

    /** The handler for {@link #COMMAND_PORT}: status when read, commands when written. */
    public TrapHandler commandPort() {
        return port(this::status, this::command);
    }

    private static TrapHandler port(IntSupplier reader, IntConsumer writer) {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return reader.getAsInt();
            }

            @Override
            public void write(long offset, int size, long value) {
                writer.accept((int) value & 0xFF);
            }
        };
    }

    private synchronized int status() {
        return STATUS_SYSTEM_FLAG | STATUS_UNLOCKED | (output >= 0 ? STATUS_OUTPUT_FULL : 0) | (lastWasCommand ? STATUS_LAST_WAS_COMMAND : 0);
    }

    private synchronized int readData() {
        int value = output >= 0 ? output : 0;
        output = -1;
        return value;
    }

    private synchronized void writeData(int value) {
        lastWasCommand = false;
        if (nextDataIsCommandByte) {
            commandByte = value;
            nextDataIsCommandByte = false;
        }
    }

    private void command(int value) {
        synchronized (this) {
            lastWasCommand = true;
            switch (value) {
                case READ_COMMAND_BYTE -> output = commandByte;
                case WRITE_COMMAND_BYTE -> nextDataIsCommandByte = true;
                case SELF_TEST -> output = SELF_TEST_PASSED;
                default -> {
                    // Commands for absent PS/2 devices and output-port tricks are ignored.
                }
            }
        }
        if (value == PULSE_RESET) {
            platform.reset();
        }
    }
}
