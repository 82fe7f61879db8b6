package dev.machina.cli;

import dev.machina.hypervisor.os.FileErrors;
import dev.machina.vmm.GuestOutcome;
import dev.machina.vmm.VirtualMachine;
import dev.machina.vmm.config.ConfigKey;
import dev.machina.vmm.config.ConfigSource;
import dev.machina.vmm.config.ConfigValues;
import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.packages.GuestPackage;
import dev.machina.vmm.profile.KernelSymbols;
import dev.machina.vmm.profile.ProfileReport;
import dev.machina.vmm.profile.Sampler;
import dev.machina.vmm.profile.Samples;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code guest launch PACKAGE|DIR [flags]}: boots the guest in the foreground with its serial
 * console on the terminal, and exits with the status that says how the guest ended.
 */
@Command(name = "launch", description = {
        "Boots a guest with its serial console on this terminal (Ctrl-A x quits).",
        "Flags override guest.cfg; --block and --cmdline-add add to its lists.",
        "Exit status: 0 powered off, 1 error or failure, 2 rebooted, 3 triple fault, 4 quit from the console."})
final class LaunchCommand implements Callable<Integer> {
    private final Environment environment;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PACKAGE|DIR",
            description = "a package under the repository's packages/, or a directory with a guest.cfg")
    private String target;

    @Option(names = "--profile", paramLabel = "FILE",
            description = "Java backend only: samples the guest's RIP every millisecond and writes where its time went to FILE at exit")
    private String profile; // a String, made a Path in call(): a name the locale cannot encode is then one line

    LaunchCommand(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws Exception {
        Path profileFile = profile == null ? null : environment.workingDirectory().resolve(profile);
        GuestPackage guestPackage = environment.packages().locate(target);
        ConfigValues values = guestPackage.readConfig();
        applyFlags(values, spec.commandLine().getParseResult());
        guestPackage.build(environment.messages()::println, false);
        GuestConfig config = values.resolve();
        GuestOutcome outcome;
        Samples samples = null;
        try (VirtualMachine machine = VirtualMachine.create(config, environment.backends(),
                environment.consoleOutput(), environment.messages()::println)) {
            Sampler sampler = profile == null ? null : Sampler.start(machine.positions(), Sampler.PERIOD);
            EscapeFilter input = new EscapeFilter(environment.consoleInput(), machine::stop,
                    () -> environment.messages().print("\r\nconsole: typing to " + machine.switchConsoleInput() + "\r\n"));
            try {
                if (environment.terminal()) {
                    environment.messages().println(EscapeFilter.HELP);
                    try (RawTerminal raw = RawTerminal.enter()) {
                        outcome = machine.run(input);
                    }
                } else {
                    outcome = machine.run(input);
                }
            } finally {
                if (sampler != null) {
                    samples = sampler.stop();
                }
            }
        }
        if (environment.terminal()) {
            environment.messages().println(); // the guest may have left the cursor mid-line
        }
        if (samples != null && config.kernel() instanceof GuestConfig.Kernel.Linux linux) {
            writeProfile(profileFile, samples, KernelSymbols.forKernel(linux.path()));
        }
        environment.messages().println("guest: " + outcome.describe());
        return outcome.exitStatus();
    }

    /** Writes the report after the guest has ended, so that reading the kernel's symbols costs it nothing. */
    private void writeProfile(Path file, Samples samples, KernelSymbols symbols) {
        try {
            Files.writeString(file, ProfileReport.format(samples, symbols, ProfileReport.TOP));
            environment.messages().printf("guest: profile of %,d samples written to %s%n", samples.total(), file);
        } catch (IOException e) {
            environment.messages().println("guest: cannot write the profile: " + FileErrors.describe(file, e));
        }
    }

    private void applyFlags(ConfigValues values, ParseResult flags) {
        ConfigSource source = ConfigSource.flags(environment.workingDirectory());
        for (ConfigKey key : ConfigKey.values()) {
            var matched = flags.matchedOption(key.flag());
            if (matched != null) {
                for (String value : matched.stringValues()) {
                    values.set(key, value, source);
                }
            }
        }
    }
}
