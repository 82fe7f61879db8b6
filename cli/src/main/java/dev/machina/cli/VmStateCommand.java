package dev.machina.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Map;

/** {@code guest pause ID} and {@code guest resume ID}: {@code PATCH /vm} with the state each asks for. */
@Command
final class VmStateCommand extends InstanceVerb {
    private final String state;

    private VmStateCommand(Environment environment, String state) {
        super(environment);
        this.state = state;
    }

    static CommandLine pause(Environment environment) {
        return command(new VmStateCommand(environment, "Paused"), "Pauses every vCPU of a running guest; guest resume lets it run on.");
    }

    static CommandLine resume(Environment environment) {
        return command(new VmStateCommand(environment, "Resumed"), "Resumes a paused guest.");
    }

    private static CommandLine command(VmStateCommand verb, String description) {
        CommandLine command = new CommandLine(verb);
        command.getCommandSpec().usageMessage().description(description);
        return command;
    }

    @Override
    public Integer call() throws Exception {
        control().change("PATCH", "/vm", Map.of("state", state));
        return 0;
    }
}
