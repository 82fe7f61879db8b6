package dev.machina.vmm.devices;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.vmm.arch.x86.acpi.PciHost;
import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.config.ConfigException;
import dev.machina.vmm.config.ConfigKey;
import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.config.MacAddress;
import dev.machina.vmm.config.NetSpec;
import dev.machina.vmm.config.VirtioDevice;
import dev.machina.vmm.devices.pci.PciBus;
import dev.machina.vmm.devices.virtio.VirtioPciTransport;
import dev.machina.vmm.devices.virtio.block.BlockDevice;
import dev.machina.vmm.devices.virtio.block.BlockStatistics;
import dev.machina.vmm.devices.virtio.console.ConsoleDevice;
import dev.machina.vmm.devices.virtio.net.NetDevice;
import dev.machina.vmm.devices.virtio.rng.EntropyDevice;
import dev.machina.vmm.devices.virtio.vsock.VsockDevice;
import dev.machina.vmm.disk.DiskImage;
import dev.machina.vmm.disk.DiskImageException;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The guest's PCI bus and the devices on it, built from the guest's configuration: the machine's
 * one place that decides which devices exist, where their registers go (BARs from the 32-bit
 * window below the IOAPIC, ECAM above it) and what ACPI says about the bus. Its inventory lists
 * every device for users and statistics.
 */
public final class DeviceManager implements AutoCloseable {
    /** BARs are placed in [0xC000_0000, 0xE000_0000), the start of the MMIO hole. */
    public static final long BAR_WINDOW_START = 0xC000_0000L;
    public static final long BAR_WINDOW_END = 0xDFFF_FFFFL;
    public static final long ECAM_BASE = 0xE000_0000L;
    /** The virtio devices guest.cfg can switch on that this manager builds. */
    public static final Set<VirtioDevice> SUPPORTED = EnumSet.of(VirtioDevice.RNG, VirtioDevice.CONSOLE, VirtioDevice.NET, VirtioDevice.VSOCK);

    private final PciBus bus;
    private final Consumer<String> log;
    private final List<VirtioPciTransport> transports = new ArrayList<>();
    private final List<DiskImage> disks = new ArrayList<>();
    private final List<NetDevice> nets = new ArrayList<>();
    private final List<DeviceEntry> inventory = new ArrayList<>();
    private final Map<String, BlockStatistics> blockStatistics = new LinkedHashMap<>();
    private long nextBar = BAR_WINDOW_START;
    private ConsoleDevice virtioConsole;
    private VsockDevice vsock;

    private DeviceManager(Guest guest, Consumer<String> log) {
        this.bus = new PciBus(guest, log);
        this.log = log;
        guest.setIoTrap(new AddressRange(PciBus.CONFIG_ADDRESS_PORT, PciBus.CONFIG_PORTS), bus.configPorts());
        guest.setMemoryTrap(new AddressRange(ECAM_BASE, PciBus.ECAM_SIZE), bus.ecam());
        inventory.add(new DeviceEntry("host bridge", "PCI 00:00.0", "PCI Express host bridge, ECAM at 0x%x".formatted(ECAM_BASE)));
    }

    /**
     * Puts the PCI bus on {@code guest} and the devices {@code config} asks for on it: a
     * virtio-blk per {@code block} entry, in order (the guest's vda, vdb...), a virtio-net per
     * {@code net} entry (or one on passt's user-mode network if {@code virtio-net} is switched on
     * without any), then virtio-rng, virtio-console and virtio-vsock if switched on. The console transmits to
     * {@code consoleOutput}; device problems go to {@code log}.
     *
     * @throws ConfigException if a disk image cannot be opened, a TAP interface had or passt
     *     started, naming the key and why
     */
    public static DeviceManager install(Guest guest, GuestConfig config, IntConsumer consoleOutput, Consumer<String> log) {
        DeviceManager devices = new DeviceManager(guest, log);
        try {
            int index = 0;
            for (BlockSpec spec : config.blocks()) {
                DiskImage disk = openDisk(config, spec);
                devices.disks.add(disk);
                String name = "virtio-blk" + index++;
                BlockDevice block = new BlockDevice(name, disk, log);
                devices.blockStatistics.put(name, block.statistics());
                devices.add(guest, name, block, "%s (%,d bytes)".formatted(spec, disk.size()));
            }
            devices.addNetworks(guest, config);
            if (config.virtioDevices().contains(VirtioDevice.RNG)) {
                devices.add(guest, "virtio-rng", new EntropyDevice(new SecureRandom()), "entropy from the host's SecureRandom");
            }
            if (config.virtioDevices().contains(VirtioDevice.CONSOLE)) {
                devices.virtioConsole = new ConsoleDevice(consoleOutput);
                devices.add(guest, "virtio-console", devices.virtioConsole, "hvc0, on the console beside the serial port");
            }
            if (config.virtioDevices().contains(VirtioDevice.VSOCK)) {
                devices.addVsock(guest, config);
            }
            return devices;
        } catch (RuntimeException e) {
            devices.close();
            throw e;
        }
    }

    private static DiskImage openDisk(GuestConfig config, BlockSpec spec) {
        try {
            return DiskImage.open(spec);
        } catch (DiskImageException e) {
            throw config.error(ConfigKey.BLOCK, e.getMessage());
        }
    }

    private void addNetworks(Guest guest, GuestConfig config) {
        List<NetSpec> taps = config.nets();
        for (int index = 0; index < taps.size(); index++) {
            NetSpec spec = taps.get(index);
            String name = "virtio-net" + index;
            MacAddress mac = spec.mac().orElse(MacAddress.local(index));
            addNetwork(guest, name, () -> NetDevice.tap(name, spec.tap(), mac, log), config, ConfigKey.NET);
        }
        if (taps.isEmpty() && config.virtioDevices().contains(VirtioDevice.NET)) {
            addNetwork(guest, "virtio-net0", () -> NetDevice.userMode("virtio-net0", MacAddress.local(0), log), config, ConfigKey.VIRTIO_NET);
        }
    }

    @FunctionalInterface
    private interface NetOpener {
        NetDevice open() throws IOException;
    }

    private void addNetwork(Guest guest, String name, NetOpener opener, GuestConfig config, ConfigKey key) {
        NetDevice device;
        try {
            device = opener.open();
        } catch (IOException e) {
            throw config.error(key, e.getMessage());
        }
        nets.add(device);
        add(guest, name, device, device.describe());
    }

    private void addVsock(Guest guest, GuestConfig config) {
        try {
            vsock = new VsockDevice(config.vsock().cid(), config.vsock().socket(), log);
        } catch (IOException e) {
            throw config.error(ConfigKey.VSOCK_SOCKET, e.getMessage());
        }
        add(guest, "virtio-vsock", vsock, "context id %d; host programs connect to %s (CONNECT <port>), the guest reaches %s_<port>"
                .formatted(vsock.cid(), vsock.socket(), vsock.socket()));
    }

    /** The network devices, in order. */
    public List<NetDevice> networks() {
        return List.copyOf(nets);
    }

    private void add(Guest guest, String name, dev.machina.vmm.devices.virtio.VirtioDevice device, String description) {
        long bar = nextBar;
        nextBar += VirtioPciTransport.BAR_SIZE;
        if (nextBar - 1 > BAR_WINDOW_END) {
            throw new ConfigException("too many devices for the PCI memory window");
        }
        VirtioPciTransport transport = new VirtioPciTransport(name, device, guest.memory(), bus, bar, guest::signalMsi, log);
        transports.add(transport);
        inventory.add(new DeviceEntry(name, "PCI 00:%02x.0".formatted(transport.slot()), description));
    }

    /** Each virtio-blk device's counters, by device name, in slot order. */
    public Map<String, BlockStatistics> blockStatistics() {
        return Collections.unmodifiableMap(blockStatistics);
    }

    /** The virtio console, where guest.cfg asks for one. */
    public Optional<ConsoleDevice> virtioConsole() {
        return Optional.ofNullable(virtioConsole);
    }

    /** What ACPI must say about the bus. */
    public PciHost acpi() {
        return new PciHost(ECAM_BASE, BAR_WINDOW_START, BAR_WINDOW_END);
    }

    /** Every device on the bus, in slot order, the host bridge first. */
    public List<DeviceEntry> inventory() {
        return List.copyOf(inventory);
    }

    /**
     * Stops the devices' workers, then lets the networks' host sides go and flushes and closes the
     * disks: nothing the guest wrote is lost.
     */
    @Override
    public void close() {
        transports.forEach(VirtioPciTransport::close);
        nets.forEach(NetDevice::close);
        if (vsock != null) {
            vsock.close();
        }
        for (DiskImage disk : disks) {
            try {
                disk.flush();
                disk.close();
            } catch (IOException e) {
                // Nothing more can be done for this disk; the others must still be closed.
                log.accept("closing a disk: " + e.getMessage());
            }
        }
    }
}
