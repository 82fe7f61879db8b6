package dev.machina.vmm.packages;

import dev.machina.vmm.config.GuestConfigFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Finds guest packages: a bare name is a directory under the repository's {@code packages/}, and
 * anything else a directory relative to the working directory. Each package builds into
 * {@code <cache>/<directory name>}.
 *
 * @param packagesRoot the repository's {@code packages/} directory, if the repository is known
 * @param cache where recipes build, outside the repository
 */
public record GuestPackages(Optional<Path> packagesRoot, Path cache, Path workingDirectory) {

    /**
     * The build cache: {@code $MACHINA_CACHE}, else {@code $XDG_CACHE_HOME/machina}, else
     * {@code ~/.cache/machina}.
     */
    public static Path defaultCache(Map<String, String> environment, Path home) {
        String machina = environment.get("MACHINA_CACHE");
        if (machina != null && !machina.isBlank()) {
            return Path.of(machina);
        }
        String xdg = environment.get("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".cache")).resolve("machina");
    }

    /**
     * The package {@code nameOrDirectory} names.
     *
     * @throws PackageException if it names no directory with a guest.cfg
     */
    public GuestPackage locate(String nameOrDirectory) {
        Optional<Path> named = nameOrDirectory.contains("/") || nameOrDirectory.startsWith(".")
                ? Optional.empty()
                : packagesRoot.map(root -> root.resolve(nameOrDirectory)).filter(GuestPackages::hasConfig);
        Path directory = named.orElseGet(() -> workingDirectory.resolve(nameOrDirectory)).toAbsolutePath().normalize();
        if (!hasConfig(directory)) {
            throw new PackageException("no guest package \"" + nameOrDirectory + "\": "
                    + packagesRoot.map(root -> "not a package in " + root + " nor").orElse("not")
                    + " a directory with a " + GuestConfigFile.NAME);
        }
        String name = directory.getFileName().toString();
        Path cwd = workingDirectory.toAbsolutePath().normalize();
        Path shownAs = directory.startsWith(cwd) && !directory.equals(cwd) ? cwd.relativize(directory) : directory;
        return new GuestPackage(name, directory, cache.resolve(name), shownAs);
    }

    private static boolean hasConfig(Path directory) {
        return Files.isRegularFile(directory.resolve(GuestConfigFile.NAME));
    }
}
