package dev.machina.vmm.packages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a recipe's external tools in the package directory, announcing each step to
 * {@code progress}; a failing tool's output goes into the error, not onto the terminal.
 */
public final class Tools {
    private final String packageName;
    private final Path workingDirectory;
    private final Consumer<String> progress;

    Tools(String packageName, Path workingDirectory, Consumer<String> progress) {
        this.packageName = packageName;
        this.workingDirectory = workingDirectory;
        this.progress = progress;
    }

    /** Runs {@code command} as the step {@code step}. */
    public void run(String step, List<String> command) {
        progress.accept(packageName + ": " + step);
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
