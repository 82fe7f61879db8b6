package dev.machina.vmm.devices;

import dev.machina.hypervisor.TrapHandler;

/**
 * A device whose registers are bytes at consecutive ports. A wider access is split into byte
 * accesses, lowest address first, as the ISA bus would split it.
 */
public interface ByteRegisters extends TrapHandler {
    int readByte(int offset);

    void writeByte(int offset, int value);

    @Override
    default long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (long) (readByte((int) offset + i) & 0xFF) << (8 * i);
        }
        return value;
    }

    @Override
    default void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            writeByte((int) offset + i, (int) (value >>> (8 * i)) & 0xFF);
        }
    }
}
