package dev.machina.vmm.config;

import java.util.Arrays;
import java.util.Optional;

/**
 * The keys of guest.cfg, each also a {@code --key=value} flag of {@code guest launch}. A repeatable
 * key takes a list in guest.cfg, and its flags add to that list; a flag for any other key replaces
 * the file's value.
 */
public enum ConfigKey {
    LINUX("linux", ValueType.PATH, false, "Linux kernel to boot (Linux boot protocol)"),
    ZIRCON("zircon", ValueType.PATH, false, "Zircon kernel image (ZBI) to boot"),
    RAMDISK("ramdisk", ValueType.PATH, false, "initial RAM disk"),
    BLOCK("block", ValueType.BLOCK, true, "block device path[,ro|rw|volatile][,raw|qcow]; repeatable"),
    NET("net", ValueType.NET, true, "network device tap:IFNAME[,mac=XX:XX:XX:XX:XX:XX]; repeatable"),
    CMDLINE("cmdline", ValueType.TEXT, false, "kernel command line"),
    CMDLINE_ADD("cmdline-add", ValueType.TEXT, true, "text appended to the command line; repeatable"),
    CPUS("cpus", ValueType.COUNT, false, "number of vCPUs (default: host CPUs)"),
    MEMORY("memory", ValueType.SIZE, false, "guest RAM, with b, k, M or G (default: 1G)"),
    BACKEND("backend", ValueType.BACKEND, false, "hypervisor backend: auto, kvm or java (default: auto)"),
    VIRTIO_BALLOON("virtio-balloon", VirtioDevice.BALLOON),
    VIRTIO_CONSOLE("virtio-console", VirtioDevice.CONSOLE),
    VIRTIO_GPU("virtio-gpu", VirtioDevice.GPU),
    VIRTIO_NET("virtio-net", VirtioDevice.NET),
    VIRTIO_RNG("virtio-rng", VirtioDevice.RNG),
    VIRTIO_VSOCK("virtio-vsock", VirtioDevice.VSOCK),
    VSOCK_CID("vsock-cid", ValueType.COUNT, false, "the guest's vsock context id (default: 3)"),
    VSOCK_SOCKET("vsock-socket", ValueType.TEXT, false,
            "Unix socket for host programs to reach the guest's vsock ports (default: machina-vsock-PID.sock in the temporary directory)");

    private final String key;
    private final ValueType type;
    private final boolean repeatable;
    private final String description;
    private final VirtioDevice device;

    ConfigKey(String key, ValueType type, boolean repeatable, String description) {
        this.key = key;
        this.type = type;
        this.repeatable = repeatable;
        this.description = description;
        this.device = null;
    }

    ConfigKey(String key, VirtioDevice device) {
        this.key = key;
        this.type = ValueType.SWITCH;
        this.repeatable = false;
        this.description = "whether the guest gets a " + device.description();
        this.device = device;
    }

    /** The key as guest.cfg spells it; the flag is {@code --} and this. */
    public String key() {
        return key;
    }

    public String flag() {
        return "--" + key;
    }

    public boolean repeatable() {
        return repeatable;
    }

    /** Whether this key is an on/off switch, so that its flag alone means true. */
    public boolean isSwitch() {
        return type == ValueType.SWITCH;
    }

    /** One line for {@code --help}. */
    public String description() {
        return description;
    }

    /** What a value looks like. */
    public String expected() {
        return type.expected();
    }

    ValueType type() {
        return type;
    }

    /** The virtio device this key switches on, if it is such a switch. */
    Optional<VirtioDevice> device() {
        return Optional.ofNullable(device);
    }

    /** The key spelled {@code key}, if there is one. */
    public static Optional<ConfigKey> named(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }
}
