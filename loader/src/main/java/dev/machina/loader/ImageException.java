package dev.machina.loader;

import java.nio.file.Path;

/** A boot image that cannot be used: unreadable, malformed, or not fitting guest memory. */
public final class ImageException extends RuntimeException {
    private final Path file;

    public ImageException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
