package dev.machina.vmm.devices.pci;

import dev.machina.hypervisor.TrapHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The configuration space of one PCI function: a type 0 header with its ids, command and status,
 * up to six memory BARs and an interrupt pin, followed by a capability list. Each byte has a mask
 * of the bits the guest may write; everything else reads back as the device set it. BAR sizing
 * falls out of the masks: writing all ones to a BAR reads back the size's complement.
 *
 * <p>Accessed from vCPU threads (configuration cycles) and from the device (interrupt status,
 * capability state): every access holds this object's lock.
 */
public final class PciFunction {
    /** The extended configuration space ECAM reaches; port 0xCF8/0xCFC reaches the first 256 bytes. */
    public static final int CONFIG_SIZE = 4096;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int BAR0 = 0x10;
    public static final int BAR_COUNT = 6;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;
    /** Command register bits. */
    public static final int MEMORY_SPACE = 1 << 1;
    public static final int BUS_MASTER = 1 << 2;
    public static final int INTX_DISABLE = 1 << 10;
    /** Status register bits. */
    public static final int INTERRUPT_STATUS = 1 << 3;
    public static final int CAPABILITIES_LIST = 1 << 4;

    private static final int FIRST_CAPABILITY = 0x40;
    private static final int LEGACY_CONFIG_SIZE = 256;
    private static final int BAR_64_BIT = 0b100;
    /** The guest may write IO and memory decode, bus mastering, SERR# and INTx disable. */
    private static final int WRITABLE_COMMAND = 0x0001 | MEMORY_SPACE | BUS_MASTER | 0x0100 | INTX_DISABLE;
    private static final int INTA = 1;

    /** Told after a write to part of the configuration space, with the lock held. */
    @FunctionalInterface
    public interface WriteListener {
        void written();
    }

    private record Watch(int offset, int length, WriteListener listener) {
    }

    private record Window(int offset, int length, TrapHandler handler) {
        boolean covers(int at, int size) {
            return at >= offset && at + size <= offset + length;
        }
    }

    private final String name;
    private final byte[] space = new byte[CONFIG_SIZE];
    private final byte[] writable = new byte[CONFIG_SIZE];
    private final Bar[] bars = new Bar[BAR_COUNT];
    private final List<Watch> watches = new ArrayList<>();
    private final List<Window> windows = new ArrayList<>();
    private int capabilityEnd = FIRST_CAPABILITY;
    private int lastCapability;

    /** A function named {@code name} in logs and listings, with INTA as its interrupt pin. */
    public PciFunction(String name, PciIdentity identity) {
        this.name = name;
        put(0x00, 2, identity.vendor());
        put(0x02, 2, identity.device());
        put(0x08, 1, identity.revision());
        put(0x09, 3, identity.classCode());
        put(0x2C, 2, identity.subsystemVendor());
        put(0x2E, 2, identity.subsystem());
        put(INTERRUPT_PIN, 1, INTA);
        allowWrites(COMMAND, 2, WRITABLE_COMMAND);
        allowWrites(0x0C, 1, 0xFF);          // cache line size, which Linux writes and ignores here
        allowWrites(INTERRUPT_LINE, 1, 0xFF); // scratch for the guest, as on real hardware
    }

    public String name() {
        return name;
    }

    /** Declares BAR {@code index} (a 64-bit BAR also takes {@code index + 1}), initially at {@code address}. */
    public synchronized void setBar(int index, Bar bar, long address) {
        if (index < 0 || index >= BAR_COUNT || (bar.is64Bit() && index == BAR_COUNT - 1)
                || bars[index] != null || (index > 0 && bars[index - 1] != null && bars[index - 1].is64Bit())) {
            throw new IllegalArgumentException("%s: BAR %d is taken or out of range".formatted(name, index));
        }
        if ((address & (bar.size() - 1)) != 0) {
            throw new IllegalArgumentException("%s: BAR %d at 0x%x is not aligned to its size".formatted(name, index, address));
        }
        bars[index] = bar;
        int register = BAR0 + 4 * index;
        long mask = -bar.size();
        put(register, 4, (address & 0xFFFF_FFF0L) | (bar.is64Bit() ? BAR_64_BIT : 0));
        allowWrites(register, 4, mask & 0xFFFF_FFF0L);
        if (bar.is64Bit()) {
            put(register + 4, 4, address >>> 32);
            allowWrites(register + 4, 4, mask >>> 32);
        }
    }

    /** The BAR declared at {@code index}, if any. */
    public synchronized Optional<Bar> bar(int index) {
        return Optional.ofNullable(bars[index]);
    }

    /** Where the guest has placed BAR {@code index} (it may be mid-sizing), or empty if memory decoding is off. */
    public synchronized Optional<Long> decodedBarAddress(int index) {
        Bar bar = bars[index];
        if (bar == null || (get(COMMAND, 2) & MEMORY_SPACE) == 0) {
            return Optional.empty();
        }
        int register = BAR0 + 4 * index;
        long address = get(register, 4) & 0xFFFF_FFF0L;
        if (bar.is64Bit()) {
            address |= get(register + 4, 4) << 32;
        }
        return Optional.of(address);
    }

    /**
     * Appends a capability with {@code id}, whose bytes after the two-byte header (id and next
     * pointer) are {@code body}, the guest allowed to write the bits of {@code writableBody}.
     * Returns the capability's offset in the configuration space.
     */
    public synchronized int addCapability(int id, byte[] body, byte[] writableBody) {
        int offset = capabilityEnd;
        int length = 2 + body.length;
        if (offset + length > LEGACY_CONFIG_SIZE || writableBody.length != body.length) {
            throw new IllegalArgumentException("%s: capability 0x%x does not fit".formatted(name, id));
        }
        put(offset, 1, id);
        System.arraycopy(body, 0, space, offset + 2, body.length);
        System.arraycopy(writableBody, 0, writable, offset + 2, body.length);
        if (lastCapability == 0) {
            put(CAPABILITIES_POINTER, 1, offset);
            put(STATUS, 2, get(STATUS, 2) | CAPABILITIES_LIST);
        } else {
            put(lastCapability + 1, 1, offset);
        }
        lastCapability = offset;
        capabilityEnd = (offset + length + 3) & ~3;
        return offset;
    }

    /** Calls {@code listener} after every guest write that touches {@code [offset, offset + length)}. */
    public synchronized void watch(int offset, int length, WriteListener listener) {
        watches.add(new Watch(offset, length, listener));
    }

    /**
     * Serves configuration accesses that fall wholly inside {@code [offset, offset + length)} with
     * {@code handler} (offsets relative to the window) instead of stored bytes: registers that
     * live in configuration space but act on the device. The handler runs without this object's
     * lock. Declared while the function is built, before the guest runs.
     */
    public synchronized void window(int offset, int length, TrapHandler handler) {
        windows.add(new Window(offset, length, handler));
    }

    /** A configuration read of {@code size} bytes at {@code offset}, little-endian. */
    public long read(int offset, int size) {
        if (offset < 0 || offset + size > CONFIG_SIZE) {
            return -1L >>> (64 - 8 * size);
        }
        Window window = windowAt(offset, size);
        if (window != null) {
            return window.handler().read(offset - window.offset(), size);
        }
        return get(offset, size);
    }

    /** A configuration write: only the writable bits change, then the watchers of what it touched hear of it. */
    public void write(int offset, int size, long value) {
        if (offset < 0 || offset + size > CONFIG_SIZE) {
            return;
        }
        Window window = windowAt(offset, size);
        if (window != null) {
            window.handler().write(offset - window.offset(), size, value);
        } else {
            store(offset, size, value);
        }
    }

    private synchronized Window windowAt(int offset, int size) {
        for (Window window : windows) {
            if (window.covers(offset, size)) {
                return window;
            }
        }
        return null;
    }

    private synchronized void store(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            int mask = writable[offset + i];
            space[offset + i] = (byte) ((space[offset + i] & ~mask) | ((int) (value >>> (8 * i)) & mask));
        }
        for (Watch watch : watches) {
            if (offset < watch.offset() + watch.length() && watch.offset() < offset + size) {
                watch.listener().written();
            }
        }
    }

    /** Sets the device-owned {@code size} bytes at {@code offset}, which the guest cannot write. */
    public synchronized void set(int offset, int size, long value) {
        put(offset, size, value);
    }

    /** Reads {@code size} bytes at {@code offset}, as the device sees them. */
    public synchronized long get(int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (space[offset + i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    /** Sets or clears the status register's interrupt status, which mirrors the INTx line. */
    public synchronized void setInterruptStatus(boolean pending) {
        long status = get(STATUS, 2);
        put(STATUS, 2, pending ? status | INTERRUPT_STATUS : status & ~INTERRUPT_STATUS);
    }

    /** Whether the guest has turned the function's INTx off (it uses MSI-X, or masks it). */
    public synchronized boolean intxDisabled() {
        return (get(COMMAND, 2) & INTX_DISABLE) != 0;
    }

    private void put(int offset, int size, long value) {
        putLittleEndian(space, offset, size, value);
    }

    /** Writes the low {@code size} bytes of {@code value} into {@code target} at {@code offset}, as configuration space holds them. */
    public static void putLittleEndian(byte[] target, int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            target[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    private void allowWrites(int offset, int size, long mask) {
        putLittleEndian(writable, offset, size, mask);
    }
}
