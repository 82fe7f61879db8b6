package dev.machina.cli;

import dev.machina.cli.instance.InstanceException;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.os.FileErrors;
import dev.machina.loader.ImageException;
import dev.machina.vmm.config.ConfigException;
import dev.machina.vmm.packages.PackageException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.util.Optional;

/**
 * The one place a failure becomes what the user reads: a fault of the input or the host (a bad
 * configuration, package or image, a backend that cannot do what was asked, a file that cannot be
 * read, a path this host cannot name, the JVM out of heap) is one line in the user's words, with
 * no Java class name; anything else is a bug in Machina, reported as an internal error with its
 * stack trace so that it can be reported.
 */
final class ErrorLines {
    private static final String PREFIX = "guest: ";

    private ErrorLines() {
    }

    /** Prints {@code failure} to {@code messages}, as one line where it is the user's or the host's fault. */
    static void report(Throwable failure, PrintStream messages) {
        Optional<String> line = userFacing(failure);
        if (line.isPresent()) {
            messages.println(PREFIX + line.get());
        } else {
            messages.println(PREFIX + "internal error: " + failure);
            failure.printStackTrace(messages);
        }
    }

    /** The line for a fault of the input or the host; empty for a bug. */
    static Optional<String> userFacing(Throwable failure) {
        return Optional.ofNullable(switch (failure) {
            case ConfigException e -> e.getMessage();
            case InstanceException e -> e.getMessage();
            case PackageException e -> e.getMessage();
            case ImageException e -> e.getMessage();
            case HypervisorException e -> e.getMessage();
            case UncheckedIOException e -> FileErrors.describe(null, e.getCause());
            case IOException e -> FileErrors.describe(null, e);
            case InvalidPathException e -> '"' + e.getInput() + "\" " + FileErrors.reason(e);
            case OutOfMemoryError e -> "the VMM ran out of Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MiB; -Xmx in scripts/jvm.options): give the guest less memory or the JVM more heap";
            default -> null;
        });
    }
}
