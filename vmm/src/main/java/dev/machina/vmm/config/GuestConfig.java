package dev.machina.vmm.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A guest to run, as guest.cfg and the launch flags describe it, with every path resolved and
 * checked to exist.
 *
 * @param setBy where each key that was set came from, as errors name it; checks that need the
 *     backend (its memory limit) report against it after resolution
 * @param nets the TAP network devices, in order (the guest's eth0, eth1...)
 * @param vsock the vsock device's context id and host socket, used with {@code virtio-vsock}
 * @param cmdline the whole kernel command line: {@code cmdline} followed by each {@code cmdline-add}
 * @param memoryBytes the guest's RAM
 * @param backend {@code auto}, {@code kvm} or {@code java}
 */
public record GuestConfig(Kernel kernel, Optional<Path> ramdisk, List<BlockSpec> blocks, List<NetSpec> nets, VsockSpec vsock,
                          String cmdline, int cpus,
                          long memoryBytes, Set<VirtioDevice> virtioDevices, String backend,
                          Map<ConfigKey, String> setBy) {
    public static final long DEFAULT_MEMORY = 1L << 30;
    public static final String DEFAULT_BACKEND = "auto";

    public GuestConfig {
        blocks = List.copyOf(blocks);
        nets = List.copyOf(nets);
        virtioDevices = Set.copyOf(virtioDevices);
        setBy = Map.copyOf(setBy);
    }

    /** A guest whose settings came from nowhere in particular (tests, tools): errors name the bare key. */
    public GuestConfig(Kernel kernel, Optional<Path> ramdisk, List<BlockSpec> blocks, String cmdline, int cpus,
                       long memoryBytes, Set<VirtioDevice> virtioDevices, String backend) {
        this(kernel, ramdisk, blocks, List.of(), new VsockSpec(VsockSpec.DEFAULT_CID, VsockSpec.defaultSocket()), cmdline, cpus, memoryBytes, virtioDevices, backend, Map.of());
    }

    /** An error about {@code key}'s value, naming where it was set (or that it is the default). */
    public ConfigException error(ConfigKey key, String problem) {
        return new ConfigException(setBy.getOrDefault(key, "the default \"" + key.key() + "\"") + ": " + problem);
    }

    /** The kernel, whose kind chooses the boot protocol. */
    public sealed interface Kernel {
        Path path();

        record Linux(Path path) implements Kernel {
        }

        record Zircon(Path path) implements Kernel {
        }
    }
}
