package dev.machina.cli;

import dev.machina.cli.control.ControlClient;
import dev.machina.cli.instance.Instance;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.util.concurrent.Callable;

/** A verb on one running guest, named by its id or name: what every such verb shares. */
abstract class InstanceVerb implements Callable<Integer> {
    protected final Environment environment;

    @Parameters(index = "0", paramLabel = "ID", description = "the guest's id or name (guest list shows them)")
    private String idOrName;

    InstanceVerb(Environment environment) {
        this.environment = environment;
    }

    /** The running guest named on the command line; a missing one is an {@link dev.machina.cli.instance.InstanceException}. */
    protected Instance instance() throws IOException {
        return environment.instances().find(idOrName);
    }

    /** A client for the named guest's control API. */
    protected ControlClient control() throws IOException {
        return new ControlClient(instance());
    }
}
