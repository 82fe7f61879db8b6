package dev.machina.vmm.arch.x86.acpi;

import java.nio.ByteBuffer;

/** The interrupt controller structures of the MADT that Machina's platform needs (ACPI 6.5, 5.2.12). */
sealed interface MadtEntry {
    /** MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3. */
    int ACTIVE_HIGH = 0b01;
    int ACTIVE_LOW = 0b11;
    int EDGE = 0b01 << 2;
    int LEVEL = 0b11 << 2;
    /** The longest structure here, the IOAPIC's. */
    int MAX_LENGTH = 12;

    /** Appends the structure (type, length, fields) to {@code out}, which is little-endian. */
    void writeTo(ByteBuffer out);

    /** A processor's local APIC; processor uid equals APIC id. */
    record LocalApic(int apicId) implements MadtEntry {
        private static final int ENABLED = 1;

        @Override
        public void writeTo(ByteBuffer out) {
            out.put((byte) 0).put((byte) 8).put((byte) apicId).put((byte) apicId).putInt(ENABLED);
        }
    }

    record IoApic(int id, long address, int gsiBase) implements MadtEntry {
        @Override
        public void writeTo(ByteBuffer out) {
            out.put((byte) 1).put((byte) 12).put((byte) id).put((byte) 0).putInt((int) address).putInt(gsiBase);
        }
    }

    /** An ISA interrupt that reaches the IOAPIC on another input or with other signalling. */
    record InterruptSourceOverride(int isaIrq, int gsi, int flags) implements MadtEntry {
        private static final int ISA_BUS = 0;

        @Override
        public void writeTo(ByteBuffer out) {
            out.put((byte) 2).put((byte) 10).put((byte) ISA_BUS).put((byte) isaIrq).putInt(gsi).putShort((short) flags);
        }
    }

    /** Which local APIC input ({@code lint}) the NMI is wired to, on every processor. */
    record LocalApicNmi(int lint, int flags) implements MadtEntry {
        private static final int ALL_PROCESSORS = 0xFF;

        @Override
        public void writeTo(ByteBuffer out) {
            out.put((byte) 4).put((byte) 6).put((byte) ALL_PROCESSORS).putShort((short) flags).put((byte) lint);
        }
    }
}
