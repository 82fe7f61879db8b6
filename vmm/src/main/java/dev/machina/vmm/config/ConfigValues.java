package dev.machina.vmm.config;

import dev.machina.hypervisor.os.FileErrors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Settings gathered from guest.cfg and then the flags, each parsed as it arrives and remembered with
 * its source; {@link #resolve()} turns them into a {@link GuestConfig}. A later source replaces a
 * key's value, or adds to it for a repeatable key; a kernel from a later source replaces the
 * earlier one whichever protocol either names.
 */
public final class ConfigValues {
    /** Below this there is no room for the boot structures and a kernel. */
    private static final long MINIMUM_MEMORY = 2L << 20;
    /**
     * The most vCPUs: x86's xAPIC ids are 8 bits, and 255 is the broadcast id, which is also what
     * the ACPI tables (MADT) can describe without x2APIC entries.
     */
    public static final int MAXIMUM_CPUS = 255;

    private record Setting(Object value, ConfigSource source) {
    }

    private final ConfigSource primary;
    private final Map<ConfigKey, List<Setting>> settings = new EnumMap<>(ConfigKey.class);

    /** Values whose whole-configuration errors (no kernel, say) are reported against {@code primary}. */
    public ConfigValues(ConfigSource primary) {
        this.primary = primary;
    }

    /** Sets {@code key} from its text, as a flag gives it. */
    public void set(ConfigKey key, String text, ConfigSource source) {
        Object value;
        try {
            value = key.type().parse(text);
        } catch (IllegalArgumentException e) {
            throw source.error(key, e.getMessage());
        }
        put(key, value, source);
    }

    void put(ConfigKey key, Object value, ConfigSource source) {
        if (key == ConfigKey.LINUX || key == ConfigKey.ZIRCON) {
            ConfigKey other = key == ConfigKey.LINUX ? ConfigKey.ZIRCON : ConfigKey.LINUX;
            settings.computeIfPresent(other, (k, list) -> list.get(0).source().equals(source) ? list : null);
        }
        List<Setting> list = settings.computeIfAbsent(key, k -> new ArrayList<>());
        if (!key.repeatable()) {
            list.clear();
        }
        list.add(new Setting(value, source));
    }

    /**
     * The configuration these settings make, with paths resolved.
     *
     * @throws ConfigException if the kernel is missing or named twice, or a file does not exist
     */
    public GuestConfig resolve() {
        boolean linux = settings.containsKey(ConfigKey.LINUX);
        boolean zircon = settings.containsKey(ConfigKey.ZIRCON);
        if (linux == zircon) {
            throw primary.error(linux ? "has both \"linux\" and \"zircon\"; name one kernel"
                    : "needs a kernel: \"linux\" or \"zircon\"");
        }
        GuestConfig.Kernel kernel = linux
                ? new GuestConfig.Kernel.Linux(path(ConfigKey.LINUX).orElseThrow())
                : new GuestConfig.Kernel.Zircon(path(ConfigKey.ZIRCON).orElseThrow());
        // A file named again (a flag naming guest.cfg's disk to launch it volatile, say) is one disk with the later
        // options, in the earlier's place: two devices writing one file would corrupt it.
        Map<Path, BlockSpec> blocks = new LinkedHashMap<>();
        for (Setting setting : all(ConfigKey.BLOCK)) {
            BlockSpec.Unresolved block = (BlockSpec.Unresolved) setting.value();
            Path path = find(ConfigKey.BLOCK, block.path(), setting.source());
            blocks.put(sameFile(path), block.resolve(path));
        }
        String cmdline = all(ConfigKey.CMDLINE, ConfigKey.CMDLINE_ADD).stream()
                .map(setting -> ((String) setting.value()).strip())
                .filter(part -> !part.isEmpty())
                .collect(Collectors.joining(" "));
        Set<VirtioDevice> devices = EnumSet.noneOf(VirtioDevice.class);
        for (ConfigKey key : ConfigKey.values()) {
            key.device().filter(device -> value(key).map(Boolean.class::cast).orElse(false)).ifPresent(devices::add);
        }
        Map<ConfigKey, String> setBy = new EnumMap<>(ConfigKey.class);
        settings.forEach((key, list) -> setBy.put(key, list.getLast().source().where(key)));
        List<NetSpec> nets = all(ConfigKey.NET).stream().map(setting -> (NetSpec) setting.value()).toList();
        return new GuestConfig(kernel, path(ConfigKey.RAMDISK), List.copyOf(blocks.values()), nets, vsock(), cmdline, cpus(), memory(), devices,
                value(ConfigKey.BACKEND).map(String.class::cast).orElse(GuestConfig.DEFAULT_BACKEND), setBy);
    }

    private VsockSpec vsock() {
        long cid = value(ConfigKey.VSOCK_CID).map(Integer.class::cast).orElse((int) VsockSpec.DEFAULT_CID);
        if (cid < VsockSpec.FIRST_GUEST_CID) {
            throw all(ConfigKey.VSOCK_CID).get(0).source().error(ConfigKey.VSOCK_CID,
                    cid + " is reserved (0 to 2 are the hypervisor, local and host context ids); use 3 or more");
        }
        Path socket = all(ConfigKey.VSOCK_SOCKET).stream().findFirst()
                .map(setting -> setting.source().lookIn().getFirst().resolve((String) setting.value())).orElseGet(VsockSpec::defaultSocket);
        return new VsockSpec(cid, socket);
    }

    /** The vCPUs asked for, or as many as the host has up to the limit. */
    private int cpus() {
        List<Setting> cpus = all(ConfigKey.CPUS);
        if (cpus.isEmpty()) {
            return Math.min(Runtime.getRuntime().availableProcessors(), MAXIMUM_CPUS);
        }
        int count = (Integer) cpus.get(0).value();
        if (count > MAXIMUM_CPUS) {
            throw cpus.get(0).source().error(ConfigKey.CPUS, count + " vCPUs is more than x86's 8-bit APIC ids allow (at most "
                    + MAXIMUM_CPUS + ")");
        }
        return count;
    }

    private long memory() {
        List<Setting> memory = all(ConfigKey.MEMORY);
        if (memory.isEmpty()) {
            return GuestConfig.DEFAULT_MEMORY;
        }
        long bytes = (Long) memory.get(0).value();
        if (bytes < MINIMUM_MEMORY) {
            throw memory.get(0).source().error(ConfigKey.MEMORY, ByteSize.format(bytes) + " is too little memory (at least " + ByteSize.format(MINIMUM_MEMORY) + ")");
        }
        return bytes;
    }

    private Optional<Object> value(ConfigKey key) {
        List<Setting> list = all(key);
        return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0).value());
    }

    private Optional<Path> path(ConfigKey key) {
        return all(key).stream().findFirst().map(setting -> find(key, (String) setting.value(), setting.source()));
    }

    private List<Setting> all(ConfigKey... keys) {
        List<Setting> found = new ArrayList<>();
        for (ConfigKey key : keys) {
            found.addAll(settings.getOrDefault(key, List.of()));
        }
        return found;
    }

    /** The file {@code path} names, however it is spelt (relative, through a link), to know two spellings as one file. */
    private static Path sameFile(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path.toAbsolutePath().normalize();
        }
    }

    /**
     * The first candidate for {@code written} that is a readable regular file. One that exists but
     * is something else (a directory, a FIFO, a device) or cannot be read is reported as what it
     * is, not as missing.
     */
    private static Path find(ConfigKey key, String written, ConfigSource source) {
        Path path;
        List<Path> candidates;
        try {
            path = Path.of(written);
            candidates = path.isAbsolute() ? List.of(path) : source.lookIn().stream().map(dir -> dir.resolve(written)).toList();
        } catch (InvalidPathException e) {
            throw source.error(key, "\"" + written + "\" " + FileErrors.reason(e));
        }
        for (Path candidate : candidates) {
            Optional<String> problem = FileErrors.unusableAsFile(candidate);
            if (problem.isPresent()) {
                throw source.error(key, "\"" + written + "\"" + (path.isAbsolute() ? "" : " (" + candidate + ")")
                        + ": " + problem.get());
            }
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw source.error(key, "file \"" + written + "\" does not exist"
                + (path.isAbsolute() ? "" : " (looked in " + source.lookIn().stream().map(Path::toString).collect(Collectors.joining(", ")) + ")"));
    }
}
