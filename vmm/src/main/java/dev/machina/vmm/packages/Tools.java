package dev.machina.vmm.packages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a recipe builds with: external tools run in the package directory, each step announced to
 * {@code progress} (a failing tool's output goes into the error, not onto the terminal), and the
 * build cache that downloads shared between packages live in. It keeps the packages the recipe
 * says it used, for the build record.
 */
public final class Tools {
    private final String packageName;
    private final Path workingDirectory;
    private final Consumer<String> progress;
    private final Path cache;
    private final List<BuildRecord.Ingredient> used = new ArrayList<>();

    Tools(String packageName, Path workingDirectory, Consumer<String> progress, Path cache) {
        this.packageName = packageName;
        this.workingDirectory = workingDirectory;
        this.progress = progress;
        this.cache = cache;
    }

    /** Announces a step the recipe takes itself. */
    public void report(String step) {
        progress.accept(packageName + ": " + step);
    }

    /** A directory in the build cache for what several packages share, e.g. "debian" for downloads. */
    public Path sharedCache(String name) {
        return cache.resolve(name);
    }

    /**
     * Records that the build used {@code version} of package {@code name}, kept in {@code file} in
     * the build cache, for what the recipe calls {@code request}.
     */
    public void used(String request, String name, String version, Path file) {
        used.add(new BuildRecord.Ingredient(request, name, version, cache.relativize(file).toString()));
    }

    List<BuildRecord.Ingredient> used() {
        return List.copyOf(used);
    }

    /** Runs {@code command} as the step {@code step}. */
    public void run(String step, List<String> command) {
        report(step);
        Process process;
        try {
            process = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new PackageException(packageName + ": cannot run " + command.getFirst() + " (" + e.getMessage() + ")");
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = process.waitFor();
            if (status != 0) {
                throw new PackageException(packageName + ": " + step + " failed: " + String.join(" ", command)
                        + " exited with " + status + "\n" + output.strip());
            }
        } catch (IOException e) {
            throw new PackageException(packageName + ": " + step + ": " + e.getMessage());
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            throw new PackageException(packageName + ": " + step + " interrupted");
        }
    }
}
