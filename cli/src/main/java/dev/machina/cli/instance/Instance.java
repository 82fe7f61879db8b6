package dev.machina.cli.instance;

import java.nio.file.Path;
import java.util.Optional;

/** A running guest as the registry finds it: its id, the name it was given, and where its sockets are. */
public record Instance(String id, Optional<String> name, Path directory) {
    private static final String CONTROL_SOCKET = "control.sock";
    private static final String SERIAL_SOCKET = "serial.sock";

    /** The socket that serves the HTTP API. */
    public Path controlSocket() {
        return directory.resolve(CONTROL_SOCKET);
    }

    /** The socket clients attach to the serial console through. */
    public Path serialSocket() {
        return directory.resolve(SERIAL_SOCKET);
    }

    /** The id, and the name where there is one, as messages name the guest. */
    public String label() {
        return name.map(n -> id + " (" + n + ")").orElse(id);
    }
}
