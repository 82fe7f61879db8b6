package dev.machina.vmm.devices;

/**
 * One device of the machine as a listing shows it: its name, where the guest finds it (ports, an
 * MMIO range, a PCI address) and what it is.
 */
public record DeviceEntry(String name, String location, String description) {
}
