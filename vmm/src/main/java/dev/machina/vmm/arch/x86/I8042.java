package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.TrapHandler;

/**
 * The part of the PS/2 controller (i8042) a kernel needs without a keyboard: the status register,
 * the controller self-test, the command byte, and the reset line (command 0xFE pulses it and the
 * machine reboots). There are no PS/2 devices behind it.
 */
public final class I8042 {
    public static final int DATA_PORT = 0x60;
    public static final int COMMAND_PORT = 0x64;

    static final int STATUS_OUTPUT_FULL = 0x01;
    static final int STATUS_SYSTEM_FLAG = 0x04;
    static final int STATUS_LAST_WAS_COMMAND = 0x08;

    static final int READ_COMMAND_BYTE = 0x20;
    static final int WRITE_COMMAND_BYTE = 0x60;
    static final int SELF_TEST = 0xAA;
    static final int SELF_TEST_PASSED = 0x55;
    static final int PULSE_RESET = 0xFE;

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
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return readData();
            }

            @Override
            public void write(long offset, int size, long value) {
                writeData((int) value & 0xFF);
            }
        };
    }

    /** The handler for {@link #COMMAND_PORT}: status when read, commands when written. */
    public TrapHandler commandPort() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return status();
            }

            @Override
            public void write(long offset, int size, long value) {
                command((int) value & 0xFF);
            }
        };
    }

    synchronized int status() {
        return STATUS_SYSTEM_FLAG | (output >= 0 ? STATUS_OUTPUT_FULL : 0) | (lastWasCommand ? STATUS_LAST_WAS_COMMAND : 0);
    }

    synchronized int readData() {
        int value = output >= 0 ? output : 0;
        output = -1;
        return value;
    }

    synchronized void writeData(int value) {
        lastWasCommand = false;
        if (nextDataIsCommandByte) {
            commandByte = value;
            nextDataIsCommandByte = false;
        }
    }

    void command(int value) {
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
