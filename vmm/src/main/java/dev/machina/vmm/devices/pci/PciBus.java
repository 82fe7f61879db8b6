package dev.machina.vmm.devices.pci;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.vmm.devices.InterruptLine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * PCI bus 0 behind a host bridge: configuration cycles through ports 0xCF8/0xCFC and through
 * ECAM, memory BARs trapped wherever the guest places them (and moved when it moves them), and
 * INTx lines routed to IOAPIC inputs the way the ACPI {@code _PRT} says ({@link #intxGsi}).
 *
 * <p>Slot 0 is the host bridge; devices take the slots after it in the order they are added.
 * Only function 0 of each slot exists.
 */
public final class PciBus {
    public static final int SLOTS = 32;
    public static final int CONFIG_ADDRESS_PORT = 0xCF8;
    /** The address latch at 0xCF8 and the data window at 0xCFC-0xCFF. */
    public static final int CONFIG_PORTS = 8;
    /** ECAM for bus 0 alone: 32 slots of 8 functions of 4 KiB. */
    public static final long ECAM_SIZE = 1 << 20;
    /** IOAPIC inputs 16-23, free of ISA interrupts, carry the PCI INTx lines. */
    public static final int FIRST_INTX_GSI = 16;
    public static final int INTX_GSIS = 8;

    private static final int CONFIG_ENABLE = 1 << 31;
    private static final int SLOT_SHIFT = 11;
    private static final PciIdentity HOST_BRIDGE = new PciIdentity(0x1B36, 0x0008, 0x1AF4, 0x1100, 0, 0x06_00_00);

    private final Guest guest;
    private final Consumer<String> log;
    private final PciFunction[] slots = new PciFunction[SLOTS];
    /** Where each BAR is trapped now, by slot and BAR index; null while unmapped. */
    private final Mapping[][] mappings = new Mapping[SLOTS][PciFunction.BAR_COUNT];
    private final int[] assertedByGsi = new int[INTX_GSIS];
    private int configAddress;

    private record Mapping(long address, List<Trap> traps) {
    }

    /** A bus on {@code guest} with its host bridge in slot 0; {@code log} hears of BARs placed where they cannot be. */
    public PciBus(Guest guest, Consumer<String> log) {
        this.guest = guest;
        this.log = log;
        add(new PciFunction("host bridge", HOST_BRIDGE));
    }

    /** Plugs {@code function} into the next free slot and returns the slot. */
    public synchronized int add(PciFunction function) {
        for (int slot = 0; slot < SLOTS; slot++) {
            if (slots[slot] == null) {
                slots[slot] = function;
                int plugged = slot;
                function.watch(PciFunction.COMMAND, 2, () -> remap(plugged));
                function.watch(PciFunction.BAR0, 4 * PciFunction.BAR_COUNT, () -> remap(plugged));
                remap(slot);
                return slot;
            }
        }
        throw new IllegalStateException("PCI bus 0 is full: %d slots".formatted(SLOTS));
    }

    /** The IOAPIC input that INTx pin {@code pin} (0 for INTA) of {@code slot} drives: the swizzle the {@code _PRT} describes. */
    public static int intxGsi(int slot, int pin) {
        return FIRST_INTX_GSI + (slot + pin) % INTX_GSIS;
    }

    /**
     * The INTA line of the function in {@code slot}: level-triggered, shared with the other
     * slots on the same IOAPIC input (the input stays asserted while any of them asserts it),
     * reflected in the function's interrupt status, and held low while the guest disables INTx.
     */
    public InterruptLine intx(int slot) {
        int gsi = intxGsi(slot, 0);
        return asserted -> {
            PciFunction function = slots[slot];
            function.setInterruptStatus(asserted);
            drive(slot, gsi, asserted && !function.intxDisabled());
        };
    }

    private synchronized void drive(int slot, int gsi, boolean asserted) {
        int index = gsi - FIRST_INTX_GSI;
        int before = assertedByGsi[index];
        assertedByGsi[index] = asserted ? before | (1 << slot) : before & ~(1 << slot);
        if ((before != 0) != (assertedByGsi[index] != 0)) {
            guest.setInterruptLine(gsi, assertedByGsi[index] != 0);
        }
    }

    /** Configuration cycles through the address latch at 0xCF8 and the data window at 0xCFC. */
    public TrapHandler configPorts() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                if (offset == 0 && size == 4) {
                    synchronized (PciBus.this) {
                        return Integer.toUnsignedLong(configAddress);
                    }
                }
                return offset >= 4 ? readLatched((int) offset - 4, size) : -1L >>> (64 - 8 * size);
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == 0 && size == 4) {
                    synchronized (PciBus.this) {
                        configAddress = (int) value;
                    }
                } else if (offset >= 4) {
                    writeLatched((int) offset - 4, size, value);
                }
            }
        };
    }

    /** Configuration cycles through ECAM: the offset is bus 0's slot, function and register. */
    public TrapHandler ecam() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                PciFunction function = functionAt(offset >>> 15, offset >>> 12 & 7);
                return function == null ? -1L >>> (64 - 8 * size) : function.read((int) (offset & 0xFFF), size);
            }

            @Override
            public void write(long offset, int size, long value) {
                PciFunction function = functionAt(offset >>> 15, offset >>> 12 & 7);
                if (function != null) {
                    function.write((int) (offset & 0xFFF), size, value);
                }
            }
        };
    }

    private long readLatched(int byteInWindow, int size) {
        int address;
        synchronized (this) {
            address = configAddress;
        }
        PciFunction function = latchedFunction(address);
        return function == null ? -1L >>> (64 - 8 * size) : function.read((address & 0xFC) + byteInWindow, size);
    }

    private void writeLatched(int byteInWindow, int size, long value) {
        int address;
        synchronized (this) {
            address = configAddress;
        }
        PciFunction function = latchedFunction(address);
        if (function != null) {
            function.write((address & 0xFC) + byteInWindow, size, value);
        }
    }

    private PciFunction latchedFunction(int address) {
        boolean bus0 = (address & 0x00FF_0000) == 0;
        return (address & CONFIG_ENABLE) != 0 && bus0 ? functionAt(address >>> SLOT_SHIFT & 0x1F, address >>> 8 & 7) : null;
    }

    private synchronized PciFunction functionAt(long slot, long function) {
        return slot < SLOTS && function == 0 ? slots[(int) slot] : null;
    }

    /**
     * Traps each BAR of {@code slot} where the function decodes it now, moving it if the guest
     * moved it. Called with the function's lock held, after a write to its command register or
     * BARs. A BAR placed over RAM, another device or off the end of the address space is left
     * unmapped, with a line in the log: the guest's mistake must not take the VMM down.
     */
    private synchronized void remap(int slot) {
        PciFunction function = slots[slot];
        for (int index = 0; index < PciFunction.BAR_COUNT; index++) {
            Bar bar = function.bar(index).orElse(null);
            if (bar == null) {
                continue;
            }
            long address = function.decodedBarAddress(index).orElse(-1L);
            if (address == 0 || (address >= 0 && address + bar.size() < address)) {
                address = -1;
            }
            Mapping current = mappings[slot][index];
            if (current != null && current.address() == address) {
                continue;
            }
            if (current != null) {
                current.traps().forEach(Trap::remove);
                mappings[slot][index] = null;
            }
            if (address >= 0) {
                map(slot, index, bar, address);
            }
        }
    }

    private void map(int slot, int index, Bar bar, long address) {
        List<Trap> traps = new ArrayList<>();
        try {
            for (Bar.Region region : bar.regions()) {
                AddressRange range = new AddressRange(address + region.offset(), region.size());
                traps.add(switch (region) {
                    case Bar.Registers registers -> guest.setMemoryTrap(range, registers.handler());
                    case Bar.Doorbells doorbells -> guest.setBellTrap(range, doorbells.handler());
                });
            }
            mappings[slot][index] = new Mapping(address, List.copyOf(traps));
        } catch (IllegalArgumentException e) {
            traps.forEach(Trap::remove);
            log.accept("PCI %02x.0 (%s): BAR %d placed at 0x%x cannot be mapped (%s); it stays unmapped"
                    .formatted(slot, slots[slot].name(), index, address, e.getMessage()));
        }
    }
}
