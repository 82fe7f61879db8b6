package dev.machina.vmm.devices.pci;

import dev.machina.hypervisor.TrapHandler;

import java.util.Arrays;

/**
 * MSI-X for one function: the capability in its configuration space, and the vector table and
 * pending-bit array that live in one of its BARs. A vector that fires while masked (by its own
 * mask bit or the function mask) is remembered in the PBA and delivered when it is unmasked, as
 * PCI requires; vectors start masked.
 */
public final class MsiX {
    public static final int CAPABILITY_ID = 0x11;
    private static final int ENTRY_SIZE = 16;
    private static final int ENABLE = 1 << 15;
    private static final int FUNCTION_MASK = 1 << 14;
    private static final int VECTOR_MASKED = 1;

    /** Where MSI messages go: the guest's interrupt controller. */
    @FunctionalInterface
    public interface MessageSink {
        void signal(long address, int data);
    }

    private final PciFunction function;
    private final int capability;
    private final MessageSink sink;
    private final long[] addresses;
    private final int[] data;
    private final boolean[] masked;
    private final long[] pending;
    private boolean enabled;
    private boolean functionMasked;

    /**
     * Adds the capability to {@code function} for {@code vectors} vectors, its table at
     * {@code tableOffset} and its PBA at {@code pbaOffset} in BAR {@code bar}; the caller puts
     * {@link #table()} and {@link #pendingBits()} there.
     */
    public MsiX(PciFunction function, int vectors, int bar, long tableOffset, long pbaOffset, MessageSink sink) {
        if (vectors < 1 || vectors > 2048 || (tableOffset & 7) != 0 || (pbaOffset & 7) != 0) {
            throw new IllegalArgumentException("MSI-X: %d vectors, table 0x%x, PBA 0x%x".formatted(vectors, tableOffset, pbaOffset));
        }
        this.function = function;
        this.sink = sink;
        this.addresses = new long[vectors];
        this.data = new int[vectors];
        this.masked = new boolean[vectors];
        this.pending = new long[(vectors + 63) / 64];
        Arrays.fill(masked, true);
        byte[] body = new byte[10];
        PciFunction.putLittleEndian(body, 0, 2, vectors - 1);
        PciFunction.putLittleEndian(body, 2, 4, tableOffset | bar);
        PciFunction.putLittleEndian(body, 6, 4, pbaOffset | bar);
        byte[] writableBody = new byte[10];
        writableBody[1] = (byte) ((ENABLE | FUNCTION_MASK) >>> 8);
        this.capability = function.addCapability(CAPABILITY_ID, body, writableBody);
        function.watch(capability + 2, 2, this::controlWritten);
    }

    public int vectors() {
        return addresses.length;
    }

    /** The table's size in bytes, for laying out the BAR. */
    public long tableSize() {
        return (long) ENTRY_SIZE * addresses.length;
    }

    /** The PBA's size in bytes. */
    public long pendingBitsSize() {
        return 8L * pending.length;
    }

    /** Whether the guest has enabled MSI-X: the device must then not use INTx. */
    public synchronized boolean enabled() {
        return enabled;
    }

    /**
     * Raises {@code vector}: delivered now, or made pending while masked. Returns false, doing
     * nothing, while MSI-X is disabled.
     */
    public synchronized boolean signal(int vector) {
        if (!enabled) {
            return false;
        }
        if (vector < 0 || vector >= addresses.length) {
            return true; // the guest chose a vector the table does not have: nothing to raise
        }
        if (functionMasked || masked[vector]) {
            pending[vector / 64] |= 1L << vector;
        } else {
            sink.signal(addresses[vector], data[vector]);
        }
        return true;
    }

    /** The vector table, as registers in the BAR. */
    public TrapHandler table() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return readTable(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                writeTable(offset, size, value);
            }
        };
    }

    /** The pending-bit array, read-only to the guest. */
    public TrapHandler pendingBits() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return readPending(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                // Read-only: PCI leaves writes to the PBA undefined, and ignoring them is allowed.
            }
        };
    }

    private synchronized long readTable(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (long) tableByte(offset + i) << (8 * i);
        }
        return value;
    }

    private int tableByte(long offset) {
        int vector = (int) (offset / ENTRY_SIZE);
        if (vector >= addresses.length) {
            return 0;
        }
        int field = (int) (offset % ENTRY_SIZE);
        long word = switch (field / 4) {
            case 0, 1 -> addresses[vector] >>> (field / 4 * 32);
            case 2 -> data[vector];
            default -> masked[vector] ? VECTOR_MASKED : 0;
        };
        return (int) (word >>> (8 * (field % 4))) & 0xFF;
    }

    private synchronized void writeTable(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            writeTableByte(offset + i, (int) (value >>> (8 * i)) & 0xFF);
        }
        int vector = (int) (offset / ENTRY_SIZE);
        if (vector < addresses.length) {
            deliverPending(vector);
        }
    }

    private void writeTableByte(long offset, int value) {
        int vector = (int) (offset / ENTRY_SIZE);
        if (vector >= addresses.length) {
            return;
        }
        int field = (int) (offset % ENTRY_SIZE);
        int shift = 8 * (field % 4);
        switch (field / 4) {
            case 0, 1 -> {
                int bit = shift + field / 4 * 32;
                addresses[vector] = (addresses[vector] & ~(0xFFL << bit)) | ((long) value << bit);
            }
            case 2 -> data[vector] = (data[vector] & ~(0xFF << shift)) | (value << shift);
            default -> {
                if (field == 12) {
                    masked[vector] = (value & VECTOR_MASKED) != 0;
                }
            }
        }
    }

    private synchronized long readPending(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            long at = offset + i;
            if (at / 8 < pending.length) {
                value |= ((pending[(int) (at / 8)] >>> (8 * (at % 8))) & 0xFF) << (8 * i);
            }
        }
        return value;
    }

    /** The guest wrote the message control: enable and function mask change. Called with the function's lock held. */
    private synchronized void controlWritten() {
        int control = (int) function.get(capability + 2, 2);
        enabled = (control & ENABLE) != 0;
        functionMasked = (control & FUNCTION_MASK) != 0;
        for (int vector = 0; vector < addresses.length; vector++) {
            deliverPending(vector);
        }
    }

    private void deliverPending(int vector) {
        long bit = 1L << vector;
        if (enabled && !functionMasked && !masked[vector] && (pending[vector / 64] & bit) != 0) {
            pending[vector / 64] &= ~bit;
            sink.signal(addresses[vector], data[vector]);
        }
    }
}
