package dev.machina.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.machina.cli.control.ControlClient;
import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceException;

import java.time.Duration;
import java.util.Map;

/**
 * {@code guest stop ID}: the ACPI power button, then the guest is ended where it is after a timeout. */
@Command(name = "stop", description = {
        "Presses the guest's ACPI power button and ends it where it is if it has not powered off within --timeout.",
        "A paused guest is ended at once."})
final class StopCommand extends InstanceVerb {
    /** How long the VMM has, after the guest ends, to close its devices and remove its directory. */
    private static final Duration END_GRACE = Duration.ofSeconds(10);

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "how long the guest has to power off (default ${DEFAULT-VALUE}; 0 ends it at once)")
    private long timeoutSeconds;

    StopCommand(Environment environment) {
        super(environment);
    }

    @Override
    public Integer call() throws Exception {
        Instance instance = instance();
        new ControlClient(instance).change("PUT", "/machina/stop", Map.of("grace_ms", timeoutSeconds * 1000));
        Duration wait = Duration.ofSeconds(timeoutSeconds).plus(END_GRACE);
        if (!environment.instances().awaitEnd(instance, wait)) {
            throw new InstanceException("guest " + instance.label() + " was asked to stop but its VMM still runs after " + wait.toSeconds() + " s");
        }
        return 0;
    }
}
