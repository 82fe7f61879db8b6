package dev.machina.vmm.arch.x86.acpi;

/**
 * An ISA device the DSDT describes under {@code \_SB}: its name, PnP hardware id and instance, the
 * ports it decodes and its interrupt, so that the guest's ACPI PnP finds it rather than probing.
 */
public record IsaDevice(String name, String hardwareId, int uid, int port, int ports, int irq) {
    public IsaDevice {
        AcpiConfig.requirePort(name, port);
        if (ports < 1 || ports > 0xFF || irq < 0 || irq > 15) {
            throw new IllegalArgumentException("%s: %d ports and IRQ %d do not describe an ISA device".formatted(name, ports, irq));
        }
    }
}
