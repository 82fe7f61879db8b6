package dev.machina.vmm.packages.debian;

/** A Debian package that cannot be found, fetched or read; the message says which and why. */
public final class DebianException extends Exception {
    public DebianException(String message) {
        super(message);
    }
}
