package dev.machina.vmm.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A guest to run, as guest.cfg and the launch flags describe it, with every path resolved and
 * checked to exist.
 *
 * @param cmdline the whole kernel command line: {@code cmdline} followed by each {@code cmdline-add}
 * @param memoryBytes the guest's RAM
 * @param backend {@code auto}, {@code kvm} or {@code java}
 */
public record GuestConfig(Kernel kernel, Optional<Path> ramdisk, List<BlockSpec> blocks, String cmdline, int cpus,
                          long memoryBytes, Set<VirtioDevice> virtioDevices, String backend) {
    public static final long DEFAULT_MEMORY = 1L << 30;
    public static final String DEFAULT_BACKEND = "auto";

    public GuestConfig {
        blocks = List.copyOf(blocks);
        virtioDevices = Set.copyOf(virtioDevices);
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
