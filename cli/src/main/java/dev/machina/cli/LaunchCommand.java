package dev.machina.cli;

import dev.machina.cli.control.ControlServer;
import dev.machina.cli.instance.InstanceDirectory;
import dev.machina.cli.serial.SerialHub;
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
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code guest launch PACKAGE|DIR [flags]}: boots the guest in the foreground with its serial
 * console on the terminal, and exits with the status that says how the guest ended.
 */
@Command(name = "launch", description = {
        "Boots a guest with its serial console on this terminal (Ctrl-A x quits), or with --detach in the background.",
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

    @Option(names = "--name", paramLabel = "NAME", description = "a name the other verbs can find the guest by, besides its id")
    private String name;

    @Option(names = "--detach", description = "runs the guest in the background, prints its id and returns (guest serial ID attaches to its console)")
    private boolean detach;

    @Option(names = "--background", hidden = true,
            description = "how --detach runs the VMM: no terminal; messages go to vmm.log in the instance's directory once the guest runs")
    private boolean background;

    LaunchCommand(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws Exception {
        if (detach) {
            return DetachedLaunch.start(launchArguments(), environment);
        }
        long startedMillis = System.currentTimeMillis();
        RedirectableOutput messageOutput = new RedirectableOutput(environment.messages());
        PrintStream messages = new PrintStream(messageOutput, true, StandardCharsets.UTF_8);
        Path profileFile = profile == null ? null : environment.workingDirectory().resolve(profile);
        GuestPackage guestPackage = environment.packages().locate(target);
        ConfigValues values = guestPackage.readConfig();
        applyFlags(values, spec.commandLine().getParseResult());
        guestPackage.build(messages::println, false);
        GuestConfig config = values.resolve();
        GuestOutcome outcome;
        Samples samples = null;
        try (InstanceDirectory directory = environment.instances().create(Optional.ofNullable(name));
             SerialHub serial = SerialHub.listen(directory.instance().serialSocket());
             VirtualMachine machine = VirtualMachine.create(config, environment.backends(),
                     serial.tee(background ? OutputStream.nullOutputStream() : environment.consoleOutput()), messages::println);
             ControlServer control = ControlServer.start(directory.instance().controlSocket(),
                     new RunningGuest(machine, directory.instance(), target, startedMillis))) {
            Sampler sampler = profile == null ? null : Sampler.start(machine.positions(), Sampler.PERIOD);
            try {
                serial.start(machine::type);
                if (background) {
                    messages.println(DetachedLaunch.READY + directory.instance().id());
                    messageOutput.redirect(Files.newOutputStream(directory.instance().directory().resolve("vmm.log")));
                    outcome = machine.run();
                } else {
                    messages.println("guest: instance " + directory.instance().label());
                    serial.feed(new EscapeFilter(environment.consoleInput(), machine::stop,
                            () -> messages.print("\r\nconsole: typing to " + machine.switchConsoleInput() + "\r\n")),
                            machine::type);
                    outcome = runOnTerminal(machine, messages);
                }
            } finally {
                if (sampler != null) {
                    samples = sampler.stop();
                }
            }
        }
        if (environment.terminal() && !background) {
            messages.println(); // the guest may have left the cursor mid-line
        }
        if (samples != null && config.kernel() instanceof GuestConfig.Kernel.Linux linux) {
            writeProfile(profileFile, samples, KernelSymbols.forKernel(linux.path()), messages);
        }
        messages.println("guest: " + outcome.describe());
        return outcome.exitStatus();
    }

    private GuestOutcome runOnTerminal(VirtualMachine machine, PrintStream messages) throws Exception {
        if (!environment.terminal()) {
            return machine.run();
        }
        messages.println(EscapeFilter.HELP);
        try (RawTerminal raw = RawTerminal.enter()) {
            return machine.run();
        }
    }

    /** The command line after {@code launch}, less --detach: what the background VMM is launched with. */
    private List<String> launchArguments() {
        List<String> arguments = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        int launch = arguments.indexOf("launch");
        List<String> after = new ArrayList<>(arguments.subList(launch + 1, arguments.size()));
        after.removeIf("--detach"::equals);
        return after;
    }

    /** Writes the report after the guest has ended, so that reading the kernel's symbols costs it nothing. */
    private static void writeProfile(Path file, Samples samples, KernelSymbols symbols, PrintStream messages) {
        try {
            Files.writeString(file, ProfileReport.format(samples, symbols, ProfileReport.TOP));
            messages.printf("guest: profile of %,d samples written to %s%n", samples.total(), file);
        } catch (IOException e) {
            messages.println("guest: cannot write the profile: " + FileErrors.describe(file, e));
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
