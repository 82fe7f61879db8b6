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
        List<String> command = guestCommand(List.of(), repository, "launch", packageName);
        command.addAll(flags);
        return GuestConsole.start(command);
    }

    /**
     * As {@link #launch(Path, String, List)}, the VMM run by {@code wrapper} (such as {@code ip netns
     * exec NAME}), after building the package here: where the VMM runs there may be no way to
     * Debian's archive.
     */
    static GuestConsole launch(List<String> wrapper, Path repository, String packageName, List<String> flags)
            throws IOException, InterruptedException {
        build(repository, packageName);
        List<String> command = guestCommand(wrapper, repository, "launch", packageName);
        command.addAll(flags);
        return GuestConsole.start(command);
    }

    /**
     * Runs {@code guest build packageName} from the repository at {@code repository} to its end,
     * also so that a test's time limit for a boot does not include a first build (minutes for
     * debian_guest, more on a loaded machine).
     *
     * @throws IOException with the build's output if it fails
     */
    static void build(Path repository, String packageName) throws IOException, InterruptedException {
        Process build = new ProcessBuilder(guestCommand(List.of(), repository, "build", packageName)).redirectErrorStream(true).start();
        build.getOutputStream().close();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (build.waitFor() != 0) {
            throw new IOException("guest build " + packageName + ": " + output);
        }
    }

    /** The command line that runs {@code guest arguments...} from the tests' class path. */
    static List<String> command(Path repository, List<String> arguments) {
        return guestCommand(List.of(), repository, arguments.toArray(String[]::new));
    }

    private static List<String> guestCommand(List<String> wrapper, Path repository, String... arguments) {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + repository.resolve("scripts/jvm.options"),
                "-Dmachina.home=" + repository,
                "-cp", System.getProperty("java.class.path"),
                "dev.machina.cli.GuestCommand"));
        command.addAll(List.of(arguments));
        return command;
    }
}
