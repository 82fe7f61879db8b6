package dev.machina.cli;

import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.hypervisor.Backends;
import dev.machina.vmm.packages.GuestPackages;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * What a run of the {@code guest} command works with: the console streams, where messages go,
 * the packages, the backends, and whether stdin is a terminal to put into raw mode. The real
 * process's environment in {@link GuestCommand#main}, streams and temporary directories in tests.
 *
 * @param consoleInput bytes typed to the guest's console
 * @param consoleOutput the guest's console output; nothing else is written there
 * @param messages the command's own lines (backend choice, build progress, errors, how the guest ended)
 * @param instances where running guests are registered and found
 */
public record Environment(InputStream consoleInput, OutputStream consoleOutput, PrintStream messages,
                          boolean terminal, GuestPackages packages, Backends backends, InstanceRegistry instances) {

    Path workingDirectory() {
        return packages.workingDirectory();
    }
}
