package dev.machina.cli;

import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.hypervisor.Backends;
import dev.machina.vmm.config.ConfigKey;
import dev.machina.vmm.packages.GuestPackages;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code guest} command. Each subcommand is a class of its own, added in {@link #commandLine};
 * {@code launch} gets one flag per {@link ConfigKey}.
 */
@Command(name = "guest", mixinStandardHelpOptions = true, version = "guest (Machina) 0.1",
        description = "Runs and builds Machina guests.",
        subcommands = CommandLine.HelpCommand.class)
public final class GuestCommand {
    /** The system property through which ./guest names the repository root. */
    static final String HOME_PROPERTY = "machina.home";

    /** Exit status for bad input (configuration, package, image) and VMM failures, as a failed guest. */
    static final int ERROR_STATUS = 1;

    public static void main(String[] args) {
        Path workingDirectory = Path.of("").toAbsolutePath();
        Path cache = GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home")));
        GuestPackages packages = new GuestPackages(
                Optional.ofNullable(System.getProperty(HOME_PROPERTY)).map(home -> Path.of(home, "packages")),
                cache, workingDirectory);
        Environment environment = new Environment(System.in, new FileOutputStream(FileDescriptor.out), System.err,
                RawTerminal.stdinIsTerminal(), packages, Backends.installed(), InstanceRegistry.forUser(System.getenv(), cache));
        int status;
        try {
            status = run(environment, args);
        } catch (OutOfMemoryError | InvalidPathException e) {
            // Errors skip picocli's handler; a path the locale cannot encode fails before it runs.
            ErrorLines.report(e, System.err);
            status = ERROR_STATUS;
        }
        System.exit(status);
    }

    /** Runs the command line {@code args}; returns the exit status. */
    public static int run(Environment environment, String... args) {
        return commandLine(environment).execute(args);
    }

    static CommandLine commandLine(Environment environment) {
        CommandLine commandLine = new CommandLine(new GuestCommand())
                .addSubcommand("launch", withConfigFlags(new CommandLine(new LaunchCommand(environment))))
                .addSubcommand("build", new BuildCommand(environment))
                .addSubcommand("zbi", ZbiCommand.commandLine(environment))
                .addSubcommand("list", new ListCommand(environment))
                .addSubcommand("serial", new SerialCommand(environment))
                .addSubcommand("stats", new StatsCommand(environment))
                .addSubcommand("dump", new DumpCommand(environment))
                .addSubcommand("pause", VmStateCommand.pause(environment))
                .addSubcommand("resume", VmStateCommand.resume(environment))
                .addSubcommand("stop", new StopCommand(environment));
        // Usage errors must not exit 2, which says the guest rebooted.
        exitOnInvalidInputWithErrorStatus(commandLine);
        commandLine.setOut(new PrintWriter(environment.messages(), true));
        commandLine.setErr(new PrintWriter(environment.messages(), true));
        commandLine.setExecutionExceptionHandler((exception, command, parseResult) -> {
            ErrorLines.report(exception, environment.messages());
            return ERROR_STATUS;
        });
        return commandLine;
    }

    private static void exitOnInvalidInputWithErrorStatus(CommandLine command) {
        command.getCommandSpec().exitCodeOnInvalidInput(ERROR_STATUS);
        command.getSubcommands().values().forEach(GuestCommand::exitOnInvalidInputWithErrorStatus);
    }

    /** Adds {@code --key=value} for every guest.cfg key; {@link LaunchCommand} reads them back by name. */
    private static CommandLine withConfigFlags(CommandLine launch) {
        for (ConfigKey key : ConfigKey.values()) {
            OptionSpec.Builder option = OptionSpec.builder(key.flag())
                    .description(key.description())
                    .paramLabel("<" + key.key() + ">");
            if (key.isSwitch()) {
                option.arity("0..1").fallbackValue("true").type(String.class).paramLabel("<true|false>");
            } else if (key.repeatable()) {
                option.arity("1").type(List.class).auxiliaryTypes(String.class);
            } else {
                option.arity("1").type(String.class);
            }
            launch.getCommandSpec().addOption(option.build());
        }
        return launch;
    }
}
