package dev.machina.vmm.devices;

/** The interrupt output of a device, wired to one of the guest's interrupt lines. */
@FunctionalInterface
public interface InterruptLine {
    void set(boolean asserted);
}
