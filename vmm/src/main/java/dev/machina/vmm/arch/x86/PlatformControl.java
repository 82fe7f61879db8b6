package dev.machina.vmm.arch.x86;

/** What the platform's chipset asks of the machine: to power off, or to reset. */
public interface PlatformControl {
    void powerOff();

    void reset();
}
