package dev.machina.cpu.chipset;

/** Reads a local APIC's IRR, ISR and TMR as the guest does, through its registers. */
final class ApicRegisters {
    private ApicRegisters() {
    }

    static boolean inIrr(LocalApic apic, int vector) {
        return bit(apic, LocalApic.IRR, vector);
    }

    static boolean inIsr(LocalApic apic, int vector) {
        return bit(apic, LocalApic.ISR, vector);
    }

    static boolean inTmr(LocalApic apic, int vector) {
        return bit(apic, LocalApic.TMR, vector);
    }

    /** Vector v is bit v % 32 of the register at {@code table + 0x10 * (v / 32)}. */
    private static boolean bit(LocalApic apic, int table, int vector) {
        return (apic.readRegister(table + 0x10 * (vector / 32)) & (1 << (vector % 32))) != 0;
    }
}
