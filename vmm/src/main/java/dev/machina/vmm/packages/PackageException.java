package dev.machina.vmm.packages;

/** A package that cannot be found, or whose recipe cannot be read or built; the message says which and why. */
public final class PackageException extends RuntimeException {
    public PackageException(String message) {
        super(message);
    }
}
