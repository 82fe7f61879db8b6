package dev.machina.integration;

import dev.machina.console.GuestConsole;

import java.io.IOException;
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
        List<String> arguments = new ArrayList<>(List.of("launch", packageName));
        arguments.addAll(flags);
        return GuestConsole.start(command(repository, arguments));
    }

    /** The command line that runs {@code guest arguments...} from the tests' class path. */
    static List<String> command(Path repository, List<String> arguments) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + repository.resolve("scripts/jvm.options"),
                "-Dmachina.home=" + repository,
                "-cp", System.getProperty("java.class.path"),
                "dev.machina.cli.GuestCommand"));
        command.addAll(arguments);
        return command;
    }
}
