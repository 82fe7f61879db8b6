package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A disk image that cannot be opened or used: missing, unreadable, not in the format named,
 * corrupt, or using a feature Machina does not support. The message is one line,
 * {@code "<file>: <problem>"}.
 */
public final class DiskImageException extends IOException {
    private final transient Path file;

    DiskImageException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The image file at fault (for a backing file's problem, the image that names it). */
    public Path file() {
        return file;
    }
}
