package dev.machina.vmm.arch.x86;

import java.time.Duration;

/**
 * What the platform's chipset asks of the machine: to power off, to reset, or to note that the
 * guest reached its boot-time marker ({@link BootTimer}) {@code sinceLaunch} after launch.
 */
public interface PlatformControl {
    void powerOff();

    void reset();

    void bootMarker(Duration sinceLaunch);
}
