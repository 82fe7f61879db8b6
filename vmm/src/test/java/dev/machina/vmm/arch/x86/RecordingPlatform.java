package dev.machina.vmm.arch.x86;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Records what the chipset asked of the machine, in order. */
final class RecordingPlatform implements PlatformControl {
    final List<String> events = new ArrayList<>();

    @Override
    public void powerOff() {
        events.add("power off");
    }

    @Override
    public void reset() {
        events.add("reset");
    }

    @Override
    public void bootMarker(Duration sinceLaunch) {
        events.add("boot marker");
    }
}
