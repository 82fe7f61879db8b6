package dev.machina.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code guest launch --detach}: runs {@code guest launch ... --background} as a VMM process of its
 * own (the same JVM, options and class path), out of the terminal's session so that closing the
 * terminal or Ctrl-C does not reach it, relays what it says until it announces the instance, prints
 * the id and returns. A VMM that fails before then has said why, and its status is returned.
 */
final class DetachedLaunch {
    /** The line a background VMM prints once its guest runs and its sockets answer, followed by the id. */
    static final String READY = "machina: running as instance ";
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private DetachedLaunch() {
    }

    static int start(List<String> launchArguments, Environment environment) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            command.add(SETSID.toString());
        }
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), GuestCommand.class.getName(), "launch"));
        command.addAll(launchArguments);
        command.add("--background");
        Process vmm = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(vmm.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith(READY)) {
                    environment.consoleOutput().write((line.substring(READY.length()) + "\n").getBytes(StandardCharsets.UTF_8));
                    environment.consoleOutput().flush();
                    return 0;
                }
                environment.messages().println(line);
            }
        }
        return vmm.waitFor();
    }
}
