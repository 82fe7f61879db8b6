package dev.machina.vmm.devices;

import dev.machina.cpu.JavaHypervisorProvider;
import dev.machina.hypervisor.Guest;
import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.config.ConfigException;
import dev.machina.vmm.config.ConfigKey;
import dev.machina.vmm.config.VsockSpec;
import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.config.VirtioDevice;
import dev.machina.vmm.disk.DiskImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeviceManagerTest {
    @TempDir
    Path directory;

    private final Guest guest = new JavaHypervisorProvider().open().createGuest(16 << 20);

    @AfterEach
    void close() {
        guest.close();
    }

    @Test
    void theInventoryListsEachDeviceAtItsPciAddressInConfigurationOrder() throws Exception {
        Path first = disk("first.img");
        Path second = disk("second.img");
        try (DeviceManager devices = DeviceManager.install(guest, config(List.of(first, second), Set.of(VirtioDevice.RNG, VirtioDevice.CONSOLE)),
                value -> { }, line -> { })) {
            assertThat(devices.inventory()).extracting(DeviceEntry::name, DeviceEntry::location).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("host bridge", "PCI 00:00.0"),
                    org.assertj.core.groups.Tuple.tuple("virtio-blk0", "PCI 00:01.0"),
                    org.assertj.core.groups.Tuple.tuple("virtio-blk1", "PCI 00:02.0"),
                    org.assertj.core.groups.Tuple.tuple("virtio-rng", "PCI 00:03.0"),
                    org.assertj.core.groups.Tuple.tuple("virtio-console", "PCI 00:04.0"));
            assertThat(devices.inventory().get(1).description()).contains(first.toString(), "65,536 bytes");
            assertThat(devices.virtioConsole()).isPresent();
        }
    }

    @Test
    void aDiskThatCannotOpenIsOneErrorAndTheDisksBeforeItAreClosed() throws Exception {
        Path good = disk("good.img");
        Path missing = directory.resolve("missing.img");
        assertThatThrownBy(() -> DeviceManager.install(guest, config(List.of(good, missing), Set.of()), value -> { }, line -> { }))
                .isInstanceOf(ConfigException.class).hasMessageContaining(missing + ": no such file");
        try (DiskImage again = DiskImage.open(new BlockSpec(good, BlockSpec.Mode.READ_WRITE, BlockSpec.Format.RAW))) {
            assertThat(again.size()).as("the first disk's lock was released").isEqualTo(65_536);
        }
    }

    @Test
    void theVsockDeviceListsItsSocketWhichGoesWithTheDevices() throws Exception {
        Path socket = directory.resolve("v.sock");
        try (DeviceManager devices = DeviceManager.install(guest, vsockConfig(socket), value -> { }, line -> { })) {
            assertThat(devices.inventory().get(1).name()).isEqualTo("virtio-vsock");
            assertThat(devices.inventory().get(1).description()).contains("context id 3", socket.toString());
            assertThat(socket).exists();
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void aVsockSocketThatCannotBeMadeIsOneLineNamingTheKey() {
        Path socket = directory.resolve("no-such-directory/v.sock");
        assertThatThrownBy(() -> DeviceManager.install(guest, vsockConfig(socket), value -> { }, line -> { }))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("--vsock-socket: vsock socket " + socket + ": ")
                .hasMessageNotContaining("\n");
    }

    private GuestConfig vsockConfig(Path socket) {
        return new GuestConfig(new GuestConfig.Kernel.Linux(directory.resolve("vmlinuz")), Optional.empty(), List.of(), List.of(),
                new VsockSpec(3, socket), "", 1, 16 << 20, Set.of(VirtioDevice.VSOCK), "java", Map.of(ConfigKey.VSOCK_SOCKET, "--vsock-socket"));
    }

    private Path disk(String name) throws Exception {
        return Files.write(directory.resolve(name), new byte[65_536]);
    }

    private GuestConfig config(List<Path> disks, Set<VirtioDevice> virtio) {
        return new GuestConfig(new GuestConfig.Kernel.Linux(directory.resolve("vmlinuz")), Optional.empty(),
                disks.stream().map(path -> new BlockSpec(path, BlockSpec.Mode.READ_WRITE, BlockSpec.Format.RAW)).toList(),
                "", 1, 16 << 20, virtio, "java");
    }
}
