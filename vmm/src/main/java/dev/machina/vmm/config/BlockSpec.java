package dev.machina.vmm.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A block device as {@code block} names it: {@code "path[,ro|rw|volatile][,raw|qcow]"}, read-write
 * and raw unless said otherwise.
 */
public record BlockSpec(Path path, Mode mode, Format format) {
    /** Whether the guest may write, and whether its writes reach the file. */
    public enum Mode {
        READ_ONLY("ro"), READ_WRITE("rw"), /** Writes are kept in memory and lost when the guest ends. */ VOLATILE("volatile");

        private final String spelling;

        Mode(String spelling) {
            this.spelling = spelling;
        }
    }

    public enum Format { RAW, QCOW }

    /** The spec before its path is resolved. */
    record Unresolved(String path, Mode mode, Format format) {
        BlockSpec resolve(Path resolved) {
            return new BlockSpec(resolved, mode, format);
        }
    }

    static Unresolved parse(String text) {
        String[] parts = text.split(",", -1);
        if (parts[0].isBlank() || parts.length > 3) {
            throw new IllegalArgumentException('"' + text + "\" is not a block device (use path[,ro|rw|volatile][,raw|qcow])");
        }
        Mode mode = Mode.READ_WRITE;
        Format format = Format.RAW;
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].strip().toLowerCase(Locale.ROOT);
            switch (option) {
                case "ro" -> mode = Mode.READ_ONLY;
                case "rw" -> mode = Mode.READ_WRITE;
                case "volatile" -> mode = Mode.VOLATILE;
                case "raw" -> format = Format.RAW;
                case "qcow" -> format = Format.QCOW;
                default -> throw new IllegalArgumentException('"' + text + "\": unknown block option \"" + parts[i]
                        + "\" (use ro, rw or volatile, and raw or qcow)");
            }
        }
        return new Unresolved(parts[0], mode, format);
    }

    @Override
    public String toString() {
        return path + "," + mode.spelling + "," + format.name().toLowerCase(Locale.ROOT);
    }
}
