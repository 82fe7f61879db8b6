package dev.machina.cli.instance;

/** A request about running guests that cannot be served (a guest not found, not reachable, a bad argument), in one line for the user. */
public final class InstanceException extends RuntimeException {
    public InstanceException(String message) {
        super(message);
    }
}
