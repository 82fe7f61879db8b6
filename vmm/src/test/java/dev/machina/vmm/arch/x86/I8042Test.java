package dev.machina.vmm.arch.x86;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class I8042Test {
    private final RecordingPlatform platform = new RecordingPlatform();
    private final List<String> events = platform.events;
    private final I8042 controller = new I8042(platform);

    @Test
    void command0xFEResetsTheMachine() {
        controller.commandPort().write(0, 1, 0xFE);
        assertThat(events).containsExactly("reset");
    }

    @Test
    void selfTestAnswers0x55ThroughTheOutputBuffer() {
        assertThat(controller.commandPort().read(0, 1) & 1).isZero();
        controller.commandPort().write(0, 1, 0xAA);
        assertThat(controller.commandPort().read(0, 1) & 1).isEqualTo(1);
        assertThat(controller.dataPort().read(0, 1)).isEqualTo(0x55);
        assertThat(controller.commandPort().read(0, 1) & 1).isZero();
        assertThat(events).isEmpty();
    }

    @Test
    void commandByteIsWrittenAndReadBack() {
        controller.commandPort().write(0, 1, 0x60);
        controller.dataPort().write(0, 1, 0x47);
        controller.commandPort().write(0, 1, 0x20);
        assertThat(controller.dataPort().read(0, 1)).isEqualTo(0x47);
    }

    @Test
    void statusSaysNoKeyLockIsEngaged() {
        assertThat(controller.commandPort().read(0, 1) & 0x10).isEqualTo(0x10);
    }
}
