package dev.machina.loader;

import java.nio.file.Path;

/** A boot image (kernel, ramdisk, firmware) that cannot be used: the message names the file and the problem. */
public class ImageException extends Exception {
    private final Path file;

    public ImageException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}
