package dev.machina.cpu.chipset;

import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * The local APICs of one guest and the messages between them and the rest of the chipset: IPIs
 * from ICR writes, redirected interrupts from the IOAPIC, MSIs from devices, and the EOI and
 * ExtINT-acknowledge cycles that go back to the IOAPIC and the PIC. Any thread may send; delivery
 * only sets bits and wakes the target, so it takes no lock.
 */
public final class ApicBus {
    private static final System.Logger LOG = System.getLogger(ApicBus.class.getName());

    /** The destination that addresses every APIC, physically and logically. */
    static final int BROADCAST = 0xFF;
    private static final long MSI_ADDRESS_BASE = 0xFEE;
    private static final int MSI_DESTINATION_SHIFT = 12;
    private static final long MSI_REDIRECTION_HINT = 1 << 3;
    private static final long MSI_LOGICAL = 1 << 2;
    private static final int MSI_LEVEL = 1 << 14;
    private static final int MSI_LEVEL_TRIGGERED = 1 << 15;

    /** The ICR's destination shorthand (bits 19:18). */
    public enum Shorthand {
        NONE, SELF, ALL_INCLUDING_SELF, ALL_EXCLUDING_SELF;

        private static final Shorthand[] BY_CODE = values();

        static Shorthand decode(int icrLow) {
            return BY_CODE[(icrLow >>> 18) & 3];
        }
    }

    private final IntConsumer eoiBroadcast;
    private final IntSupplier extIntAcknowledge;
    private volatile LocalApic[] apics = {};

    /**
     * @param eoiBroadcast      receives the vector of every EOI of a level-triggered interrupt (the IOAPIC)
     * @param extIntAcknowledge answers the INTA cycle of an ExtINT interrupt with a vector (the PIC)
     */
    public ApicBus(IntConsumer eoiBroadcast, IntSupplier extIntAcknowledge) {
        this.eoiBroadcast = eoiBroadcast;
        this.extIntAcknowledge = extIntAcknowledge;
    }

    synchronized void attach(LocalApic apic) {
        LocalApic[] grown = Arrays.copyOf(apics, apics.length + 1);
        grown[apics.length] = apic;
        apics = grown;
    }

    /**
     * Delivers a message as the IOAPIC or an MSI sends it: to the APIC(s) {@code destination}
     * names physically (an APIC ID) or logically (a set matched against each LDR).
     */
    public void deliver(int destination, boolean logical, DeliveryMode mode, int vector, boolean levelTriggered) {
        send(null, Shorthand.NONE, destination, logical, mode, vector, levelTriggered);
    }

    /** Delivers a message-signalled interrupt: a write of {@code data} to {@code address} (0xFEExxxxx). */
    public void signalMsi(long address, int data) {
        if (address >>> 20 != MSI_ADDRESS_BASE) {
            LOG.log(System.Logger.Level.WARNING, "MSI to 0x{0} outside the APIC range 0xFEE00000 is dropped", Long.toHexString(address));
            return;
        }
        int destination = (int) (address >>> MSI_DESTINATION_SHIFT) & 0xFF;
        DeliveryMode mode = DeliveryMode.decode(data, 8);
        // As in KVM: the redirection hint lets the chipset pick one APIC of the set, as lowest priority does.
        if (mode == DeliveryMode.FIXED && (address & MSI_REDIRECTION_HINT) != 0) {
            mode = DeliveryMode.LOWEST_PRIORITY;
        }
        boolean levelTriggered = (data & MSI_LEVEL_TRIGGERED) != 0;
        if (levelTriggered && (data & MSI_LEVEL) == 0) {
            return;
        }
        deliver(destination, (address & MSI_LOGICAL) != 0, mode, data & 0xFF, levelTriggered);
    }

    /** An IPI from {@code source}'s ICR. */
    void sendIpi(LocalApic source, Shorthand shorthand, int destination, boolean logical, DeliveryMode mode, int vector, boolean levelTriggered) {
        send(source, shorthand, destination, logical, mode, vector, levelTriggered);
    }

    private void send(LocalApic source, Shorthand shorthand, int destination, boolean logical, DeliveryMode mode, int vector, boolean levelTriggered) {
        LocalApic lowest = null;
        for (LocalApic apic : apics) {
            boolean addressed = switch (shorthand) {
                case NONE -> apic.enabled() && (logical ? apic.matchesLogical(destination) : apic.matchesPhysical(destination));
                case SELF -> apic == source;
                case ALL_INCLUDING_SELF -> apic.enabled();
                case ALL_EXCLUDING_SELF -> apic != source && apic.enabled();
            };
            if (!addressed) {
                continue;
            }
            if (mode != DeliveryMode.LOWEST_PRIORITY) {
                apic.accept(mode, vector, levelTriggered);
            } else if (lowest == null || apic.taskPriority() < lowest.taskPriority()) {
                lowest = apic;
            }
        }
        if (lowest != null) {
            lowest.accept(mode, vector, levelTriggered);
        }
    }

    /** A local APIC ended a level-triggered interrupt: the IOAPIC may clear its Remote IRR. */
    void endOfInterrupt(int vector) {
        eoiBroadcast.accept(vector);
    }

    /** The INTA cycle of an ExtINT interrupt: the PIC names the vector. */
    int acknowledgeExtInt() {
        return extIntAcknowledge.getAsInt();
    }
}
