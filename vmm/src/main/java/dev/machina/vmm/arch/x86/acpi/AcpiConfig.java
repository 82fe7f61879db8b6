package dev.machina.vmm.arch.x86.acpi;

import dev.machina.vmm.arch.x86.AcpiPm1;
import dev.machina.vmm.arch.x86.AcpiPmTimer;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the ACPI tables describe of the platform: how many vCPUs, where the PM1a register blocks
 * and the optional PM timer sit in port space, the SCI's ISA interrupt, the reset register and
 * the IOAPIC's id.
 *
 * @param cpus            vCPUs, with local APIC ids 0 to {@code cpus - 1}
 * @param pm1aEventPort   the 4-byte PM1a event block (status, then enable)
 * @param pm1aControlPort the 2-byte PM1a control block (SCI_EN, SLP_TYP, SLP_EN)
 * @param pmTimerPort     the 4-byte PM timer, when the platform has one
 * @param sciIrq          the ISA interrupt of the SCI, routed level-triggered, active high
 * @param reset           the FADT reset register
 * @param ioApicId        the IOAPIC's id, as its ID register reads after reset
 * @param isaDevices      the platform's devices the DSDT describes
 * @param pci             the PCI host bridge, when the machine has one
 */
public record AcpiConfig(int cpus, int pm1aEventPort, int pm1aControlPort, OptionalInt pmTimerPort,
                         int sciIrq, ResetRegister reset, int ioApicId, List<IsaDevice> isaDevices, Optional<PciHost> pci) {
    public static final int DEFAULT_PM1A_EVENT_PORT = AcpiPm1.EVENT_BLOCK;
    public static final int DEFAULT_PM1A_CONTROL_PORT = AcpiPm1.CONTROL_BLOCK;
    public static final int DEFAULT_SCI_IRQ = 9;
    /** Local APIC id 0xFF is the broadcast id, so xAPIC ids run 0..0xFE. */
    public static final int MAX_CPUS = 0xFF;

    public AcpiConfig {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new IllegalArgumentException("ACPI describes 1 to %d vCPUs, not %d".formatted(MAX_CPUS, cpus));
        }
        requirePort("PM1a event block", pm1aEventPort);
        requirePort("PM1a control block", pm1aControlPort);
        pmTimerPort.ifPresent(port -> requirePort("PM timer", port));
        if (sciIrq < 0 || sciIrq > 15) {
            throw new IllegalArgumentException("the SCI must be an ISA interrupt (0-15), not " + sciIrq);
        }
        if (ioApicId < 0 || ioApicId > 0xFF) {
            throw new IllegalArgumentException("IOAPIC id %d is not a byte".formatted(ioApicId));
        }
        isaDevices = List.copyOf(isaDevices);
    }

    /**
     * PM1a blocks where {@link AcpiPm1} serves them (0x600 and 0x604), the PM timer where
     * {@link AcpiPmTimer} counts (0x608), the SCI on IRQ 9, reset through the i8042 and IOAPIC id 0
     * (its reset value; IOAPIC ids and local APIC ids are separate name spaces); no ISA devices
     * and no PCI described.
     */
    public static AcpiConfig defaults(int cpus) {
        return new AcpiConfig(cpus, DEFAULT_PM1A_EVENT_PORT, DEFAULT_PM1A_CONTROL_PORT, OptionalInt.of(AcpiPmTimer.PORT),
                DEFAULT_SCI_IRQ, ResetRegister.KEYBOARD_CONTROLLER, 0, List.of(), Optional.empty());
    }

    /** The same platform with {@code devices} described in the DSDT. */
    public AcpiConfig withIsaDevices(List<IsaDevice> devices) {
        return new AcpiConfig(cpus, pm1aEventPort, pm1aControlPort, pmTimerPort, sciIrq, reset, ioApicId, devices, pci);
    }

    /** The same platform with {@code pci} as its PCI host bridge. */
    public AcpiConfig withPci(PciHost pci) {
        return new AcpiConfig(cpus, pm1aEventPort, pm1aControlPort, pmTimerPort, sciIrq, reset, ioApicId, isaDevices, Optional.of(pci));
    }

    static void requirePort(String what, int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("%s port 0x%x is outside the 64 KiB port space".formatted(what, port));
        }
    }
}
