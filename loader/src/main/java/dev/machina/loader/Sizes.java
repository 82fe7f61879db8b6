package dev.machina.loader;

import java.util.Locale;

/** Byte counts as people read them in error messages. */
public final class Sizes {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    private Sizes() {
    }

    /**
     * {@code "16 MiB"}, {@code "640 KiB"} or {@code "100 bytes"}, whichever unit divides evenly;
     * else the largest unit it reaches, to a tenth ({@code "5.3 MiB"}, {@code "1.5 KiB"}), so that a
     * small size never reads as {@code "0.0 MiB"}.
     */
    public static String describe(long bytes) {
        if (bytes >= MIB && bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes >= KIB && bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        if (bytes >= MIB) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
        }
        if (bytes >= KIB) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / (double) KIB);
        }
        return bytes == 1 ? "1 byte" : bytes + " bytes";
    }
}
