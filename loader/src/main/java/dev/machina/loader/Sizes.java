package dev.machina.loader;

/** Byte counts as people read them in error messages. */
final class Sizes {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    private Sizes() {
    }

    /** {@code "16 MiB"}, {@code "640 KiB"} or {@code "100 bytes"}, whichever unit divides evenly. */
    static String describe(long bytes) {
        if (bytes >= MIB && bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes >= KIB && bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return bytes + " bytes";
    }
}
