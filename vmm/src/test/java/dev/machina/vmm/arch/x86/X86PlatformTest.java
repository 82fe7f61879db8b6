package dev.machina.vmm.arch.x86;

import dev.machina.cpu.JavaHypervisorProvider;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.vmm.arch.x86.acpi.IsaDevice;
import dev.machina.vmm.devices.DeviceEntry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class X86PlatformTest {
    @Test
    void everyPlatformDeviceIsListedWhereItIsTrapped() {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(16 << 20)) {
            X86Platform platform = X86Platform.install(guest, new RecordingPlatform(), value -> { });
            assertThat(platform.devices()).extracting(DeviceEntry::name)
                    .containsExactly("COM1", "COM2", "COM3", "COM4", "RTC", "boot marker", "PM1", "PM timer", "i8042");
            assertThat(platform.devices().getFirst()).isEqualTo(
                    new DeviceEntry("COM1", "ports 0x3f8..0x400", "16550A UART, IRQ 4, the console"));
            assertThatThrownBy(() -> guest.setIoTrap(new AddressRange(0x3F8, 8), handler()))
                    .as("COM1's ports are taken").isInstanceOf(IllegalArgumentException.class);
            assertThat(platform.acpiDevices()).as("what the DSDT describes")
                    .containsExactly(new IsaDevice("COM1", "PNP0501", 1, 0x3F8, 8, 4));
        }
    }

    private static TrapHandler handler() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
            }
        };
    }
}
