package dev.machina.vmm.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Where settings come from: a guest.cfg file, or the launch flags. Relative paths are looked up in
 * {@code lookIn}, in order: a package's directory and then its build output, or the working
 * directory for flags.
 */
public record ConfigSource(String name, boolean isFile, List<Path> lookIn) {
    public ConfigSource {
        lookIn = List.copyOf(lookIn);
    }

    /** A guest.cfg file, shown in messages as {@code shownAs}. */
    public static ConfigSource file(String shownAs, List<Path> lookIn) {
        return new ConfigSource(shownAs, true, lookIn);
    }

    /** The command line's flags, with paths relative to {@code workingDirectory}. */
    public static ConfigSource flags(Path workingDirectory) {
        return new ConfigSource("flags", false, List.of(workingDirectory));
    }

    /** An error about {@code key} set here. */
    ConfigException error(ConfigKey key, String problem) {
        return new ConfigException(where(key) + ": " + problem);
    }

    /** How errors name {@code key} set here: {@code pkg/guest.cfg: key "memory"}, or {@code --memory}. */
    String where(ConfigKey key) {
        return isFile ? name + ": key \"" + key.key() + "\"" : key.flag();
    }

    /** An error about the whole configuration. */
    ConfigException error(String problem) {
        return new ConfigException(name + ": " + problem);
    }
}
