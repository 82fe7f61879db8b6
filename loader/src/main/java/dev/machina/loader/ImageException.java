package dev.machina.loader;

import java.nio.file.Path;

/** A boot image that cannot be used; the message is {@code "<file>: <problem>"}. */
public final class ImageException extends RuntimeException {
    private final transient Path file;

    public ImageException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The image file at fault. */
    public Path file() {
        return file;
    }
}
