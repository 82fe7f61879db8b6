package dev.machina.cli;

import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceException;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code guest serial ID}: this terminal on a running guest's serial console, beside whoever else
 * is attached; Ctrl-A x detaches and leaves the guest running.
 */
@Command(name = "serial", description = {
        "Attaches this terminal to a running guest's serial console (several may attach at once).",
        "Ctrl-A x detaches, leaving the guest running; Ctrl-A Ctrl-A sends Ctrl-A."})
final class SerialCommand extends InstanceVerb {
    static final String HELP = "serial: Ctrl-A x detaches (the guest runs on), Ctrl-A Ctrl-A sends Ctrl-A";

    SerialCommand(Environment environment) {
        super(environment);
    }

    @Override
    public Integer call() throws Exception {
        Instance instance = instance();
        SocketChannel console;
        try {
            console = SocketChannel.open(StandardProtocolFamily.UNIX);
            console.connect(UnixDomainSocketAddress.of(instance.serialSocket()));
        } catch (IOException e) {
            throw new InstanceException("guest " + instance.label() + " does not answer on its serial socket (" + e.getMessage() + ")");
        }
        try (console) {
            environment.messages().println(HELP);
            if (!environment.terminal()) {
                return attach(instance, console);
            }
            try (RawTerminal raw = RawTerminal.enter()) {
                return attach(instance, console);
            }
        }
    }

    /** Copies typing to the console until Ctrl-A x or the guest ends, and the console's output here meanwhile. */
    private int attach(Instance instance, SocketChannel console) throws IOException {
        AtomicBoolean detached = new AtomicBoolean();
        InputStream typed = new EscapeFilter(environment.consoleInput(), () -> {
            detached.set(true);
            try {
                console.shutdownInput(); // ends the copy of the output below
            } catch (IOException e) {
                // already closed: the guest ended
            }
        }, () -> { });
        OutputStream toConsole = Channels.newOutputStream(console);
        Thread.ofPlatform().daemon().name("serial-typing").start(() -> {
            try {
                typed.transferTo(toConsole);
            } catch (IOException e) {
                // the console went away: the output copy has ended too
            }
        });
        Channels.newInputStream(console).transferTo(environment.consoleOutput());
        environment.consoleOutput().flush();
        environment.messages().println(detached.get()
                ? "\r\nserial: detached from guest " + instance.label() + "; it runs on"
                : "\r\nserial: guest " + instance.label() + " has ended");
        return 0;
    }
}
