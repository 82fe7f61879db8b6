package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.BellHandler;
import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The traps of one guest, by kind, and their dispatch. Registration is rare and copies the table;
 * lookup is a binary search over an immutable array and allocates nothing, so vCPU threads look up
 * without locking.
 *
 * <p>An access that no trap covers behaves as an empty bus: reads return all ones, writes vanish.
 */
public final class Traps {
    private static final System.Logger LOG = System.getLogger(Traps.class.getName());

    /** One registered trap; its handler is a {@link TrapHandler} or a {@link BellHandler}. */
    public final class Registration implements Trap {
        private final Kind kind;
        private final AddressRange range;
        private final Object handler;
        private final Consumer<Registration> onRemove;

        private Registration(Kind kind, AddressRange range, Object handler, Consumer<Registration> onRemove) {
            this.kind = kind;
            this.range = range;
            this.handler = handler;
            this.onRemove = onRemove;
        }

        private volatile boolean removed;

        @Override
        public Kind kind() {
            return kind;
        }

        @Override
        public AddressRange range() {
            return range;
        }

        public TrapHandler trapHandler() {
            return (TrapHandler) handler;
        }

        public BellHandler bellHandler() {
            return (BellHandler) handler;
        }

        @Override
        public void remove() {
            if (Traps.this.remove(this)) {
                removed = true;
                onRemove.accept(this);
            }
        }

        /** Whether the trap has been removed: a vCPU that found it just before may still ring it. */
        public boolean removed() {
            return removed;
        }

        @Override
        public String toString() {
            return kind + " trap " + range;
        }
    }

    private static final Registration[] NONE = {};

    private volatile Registration[] memory = NONE;
    private volatile Registration[] ports = NONE;

    /**
     * Adds a trap. MEM and BELL traps share the guest-physical table; IO traps have their own.
     * {@code onRemove} runs once when the trap is removed (a backend unregistering its eventfds).
     */
    public synchronized Registration add(Trap.Kind kind, AddressRange range, Object handler, Consumer<Registration> onRemove) {
        Registration[] table = kind == Trap.Kind.IO ? ports : memory;
        for (Registration existing : table) {
            if (existing.range.overlaps(range)) {
                throw new IllegalArgumentException(kind + " trap " + range + " overlaps " + existing);
            }
        }
        Registration added = new Registration(kind, range, handler, onRemove);
        Registration[] grown = Arrays.copyOf(table, table.length + 1);
        grown[table.length] = added;
        Arrays.sort(grown, (a, b) -> Long.compare(a.range.start(), b.range.start()));
        if (kind == Trap.Kind.IO) {
            ports = grown;
        } else {
            memory = grown;
        }
        return added;
    }

    private synchronized boolean remove(Registration registration) {
        Registration[] table = registration.kind == Trap.Kind.IO ? ports : memory;
        Registration[] shrunk = Arrays.stream(table).filter(r -> r != registration).toArray(Registration[]::new);
        if (shrunk.length == table.length) {
            return false;
        }
        if (registration.kind == Trap.Kind.IO) {
            ports = shrunk;
        } else {
            memory = shrunk;
        }
        return true;
    }

    /** The MEM or BELL trap covering guest-physical {@code address}, or null. */
    public Registration findMemory(long address) {
        return find(memory, address);
    }

    /** The IO trap covering {@code port}, or null. */
    public Registration findPort(int port) {
        return find(ports, port);
    }

    private static Registration find(Registration[] table, long address) {
        int low = 0;
        int high = table.length - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            Registration candidate = table[middle];
            if (address < candidate.range.start()) {
                high = middle - 1;
            } else if (address >= candidate.range.end()) {
                low = middle + 1;
            } else {
                return candidate;
            }
        }
        return null;
    }

    /** A port read by a vCPU. */
    public long readPort(int port, int size) {
        Registration trap = findPort(port);
        if (trap == null) {
            logUnclaimed("read of port", port, size);
            return mask(size);
        }
        return trap.trapHandler().read(port - trap.range.start(), size) & mask(size);
    }

    /** A port write by a vCPU. */
    public void writePort(int port, int size, long value) {
        Registration trap = findPort(port);
        if (trap == null) {
            logUnclaimed("port write", port, size);
            return;
        }
        trap.trapHandler().write(port - trap.range.start(), size, value & mask(size));
    }

    /**
     * A guest-physical read outside RAM by a vCPU. Reads of a doorbell range return zero: doorbells
     * are write-only.
     */
    public long readMemory(long address, int size) {
        Registration trap = findMemory(address);
        if (trap == null) {
            logUnclaimed("read of address", address, size);
            return mask(size);
        }
        if (trap.kind == Trap.Kind.BELL) {
            return 0;
        }
        return trap.trapHandler().read(address - trap.range.start(), size) & mask(size);
    }

    /**
     * A guest-physical write outside RAM by a vCPU. A write to a doorbell range goes to
     * {@code bells}, which delivers it on the doorbell thread.
     */
    public void writeMemory(long address, int size, long value, Doorbells bells) {
        Registration trap = findMemory(address);
        if (trap == null) {
            logUnclaimed("write to", address, size);
            return;
        }
        if (trap.kind == Trap.Kind.BELL) {
            bells.ring(trap, address - trap.range.start());
            return;
        }
        trap.trapHandler().write(address - trap.range.start(), size, value & mask(size));
    }

    /** Guests probe absent devices all the time, so the message is only formatted when someone reads it. */
    private static void logUnclaimed(String access, long address, int size) {
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "unclaimed {0} 0x{1} size {2}", access, Long.toHexString(address), size);
        }
    }

    /** All ones in the low {@code size} bytes. */
    public static long mask(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }
}
