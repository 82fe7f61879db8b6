package dev.machina.cpu.chipset;

import dev.machina.hypervisor.TrapHandler;

/**
 * The 82093AA I/O APIC: 24 interrupt pins, each with a redirection entry that turns the pin into a
 * message on the {@link ApicBus}. Level-triggered pins set Remote IRR when they deliver and deliver
 * again after the EOI if the line is still asserted; edge-triggered pins deliver on a rising edge.
 *
 * <p>Lines are driven by their logical state (asserted or not), as KVM's are: the polarity bit is
 * kept for the guest to read but does not invert anything. Registered at
 * {@link dev.machina.hypervisor.x86.X86MemoryMap#IOAPIC_BASE}; thread-safe.
 */
public final class IoApic implements TrapHandler {
    public static final int PINS = 24;
    /** The bytes of guest-physical space the registers are decoded in. */
    public static final long SIZE = 0x1000;

    static final long REGISTER_SELECT = 0x00;
    static final long REGISTER_WINDOW = 0x10;
    static final int ID = 0x00;
    static final int VERSION = 0x01;
    static final int ARBITRATION = 0x02;
    static final int REDIRECTION_TABLE = 0x10;
    /** Version 0x11, the highest redirection entry (23) in bits 23:16. */
    static final int VERSION_VALUE = ((PINS - 1) << 16) | 0x11;

    static final long LOGICAL = 1 << 11;
    static final long DELIVERY_STATUS = 1 << 12;
    static final long REMOTE_IRR = 1 << 14;
    static final long LEVEL_TRIGGERED = 1 << 15;
    static final long MASKED = 1 << 16;
    private static final long LOW_WRITABLE = 0xFFFF_FFFFL & ~(REMOTE_IRR | DELIVERY_STATUS);
    private static final int DESTINATION_SHIFT = 56;

    private final ApicBus bus;
    private final long[] redirection = new long[PINS];
    private int id;
    private int select;
    /** Bit n: pin n is asserted. */
    private int lines;

    public IoApic(ApicBus bus) {
        this.bus = bus;
        for (int pin = 0; pin < PINS; pin++) {
            redirection[pin] = MASKED;
        }
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset == REGISTER_SELECT) {
            return select;
        }
        if (offset == REGISTER_WINDOW) {
            return readRegister() & 0xFFFF_FFFFL;
        }
        return 0;
    }

    private long readRegister() {
        return switch (select) {
            case ID, ARBITRATION -> (long) id << 24;
            case VERSION -> VERSION_VALUE;
            default -> {
                int pin = (select - REDIRECTION_TABLE) >> 1;
                if (select < REDIRECTION_TABLE || pin >= PINS) {
                    yield 0;
                }
                yield (select & 1) == 0 ? redirection[pin] : redirection[pin] >>> 32;
            }
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (offset == REGISTER_SELECT) {
            select = (int) value & 0xFF;
        } else if (offset == REGISTER_WINDOW) {
            writeRegister(value & 0xFFFF_FFFFL);
        }
    }

    private void writeRegister(long value) {
        if (select == ID) {
            id = (int) (value >>> 24) & 0xF;
            return;
        }
        int pin = (select - REDIRECTION_TABLE) >> 1;
        if (select < REDIRECTION_TABLE || pin >= PINS) {
            return;
        }
        long entry = redirection[pin];
        if ((select & 1) != 0) {
            redirection[pin] = (entry & 0xFFFF_FFFFL) | ((value & 0xFF00_0000L) << 32);
            return;
        }
        entry = (entry & ~LOW_WRITABLE) | (value & LOW_WRITABLE);
        if ((entry & LEVEL_TRIGGERED) == 0) {
            entry &= ~REMOTE_IRR;
        }
        redirection[pin] = entry;
        // An asserted level-triggered line that is unmasked interrupts at once.
        if ((entry & LEVEL_TRIGGERED) != 0 && asserted(pin)) {
            service(pin);
        }
    }

    /** Drives pin {@code pin}. */
    public synchronized void setLine(int pin, boolean asserted) {
        boolean wasAsserted = asserted(pin);
        lines = asserted ? lines | (1 << pin) : lines & ~(1 << pin);
        boolean levelTriggered = (redirection[pin] & LEVEL_TRIGGERED) != 0;
        if (asserted && (levelTriggered || !wasAsserted)) {
            service(pin);
        }
    }

    /** A local APIC ended level-triggered {@code vector}: clear Remote IRR of the pins it came from. */
    public synchronized void endOfInterrupt(int vector) {
        for (int pin = 0; pin < PINS; pin++) {
            long entry = redirection[pin];
            if ((entry & REMOTE_IRR) != 0 && (entry & 0xFF) == vector) {
                redirection[pin] = entry & ~REMOTE_IRR;
                if (asserted(pin)) {
                    service(pin);
                }
            }
        }
    }

    private boolean asserted(int pin) {
        return (lines & (1 << pin)) != 0;
    }

    private void service(int pin) {
        long entry = redirection[pin];
        if ((entry & MASKED) != 0) {
            return; // A masked edge is lost; a masked level is serviced when unmasked.
        }
        boolean levelTriggered = (entry & LEVEL_TRIGGERED) != 0;
        if (levelTriggered) {
            if ((entry & REMOTE_IRR) != 0) {
                return;
            }
            redirection[pin] = entry | REMOTE_IRR;
        }
        bus.deliver((int) (entry >>> DESTINATION_SHIFT), (entry & LOGICAL) != 0, DeliveryMode.decode(entry, 8),
                (int) entry & 0xFF, levelTriggered);
    }
}
