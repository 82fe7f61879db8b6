package dev.machina.integration;

import dev.machina.console.GuestConsole;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the integration tests launch a guest: the way a user launches it, {@code guest launch
 * PACKAGE [flags]} in a process of its own, but from the tests' class path so that it runs the
 * code under test without building the jar.
 */
final class LaunchedGuest {
    private LaunchedGuest() {
    }

    /** Starts {@code guest launch packageName flags...} from the repository at {@code repository}. */
    static GuestConsole launch(Path repository, String packageName, List<String> flags) throws IOException {
        List<String> command = guest(repository, "launch", packageName);
        command.addAll(flags);
        return GuestConsole.start(command);
    }

    /**
     * Runs {@code guest build packageName} from the repository at {@code repository} to its end,
     * so that a test's time limit for the boot does not include a first build (minutes for
     * debian_guest, more on a loaded machine).
     *
     * @throws IllegalStateException with the build's output if it fails
     */
    static void build(Path repository, String packageName) throws IOException, InterruptedException {
        Process build = new ProcessBuilder(guest(repository, "build", packageName)).redirectErrorStream(true).start();
        build.getOutputStream().close();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (build.waitFor() != 0) {
            throw new IllegalStateException("guest build " + packageName + " failed:\n" + output);
        }
    }

    private static List<String> guest(Path repository, String verb, String packageName) {
        return new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + repository.resolve("scripts/jvm.options"),
                "-Dmachina.home=" + repository,
                "-cp", System.getProperty("java.class.path"),
                "dev.machina.cli.GuestCommand", verb, packageName));
    }
}
