package dev.machina.vmm.arch.x86.acpi;

/**
 * What ACPI says about the PCI host bridge beyond what {@link dev.machina.vmm.devices.pci.PciBus}
 * fixes (its ports, ECAM size and INTx routing): where bus 0's ECAM is (the MCFG table, reserved as
 * a motherboard resource so that Linux trusts it), and the 32-bit memory window BARs live in.
 *
 * @param ecamBase    the ECAM of bus 0
 * @param windowStart the first address of the BAR window
 * @param windowEnd   the last address of the BAR window (inclusive)
 */
public record PciHost(long ecamBase, long windowStart, long windowEnd) {
}
