package dev.machina.vmm.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as guest.cfg writes them: a whole number with an optional b, k, M or G suffix (powers of 1024). */
public final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})([bkKmMgG]?)");

    private ByteSize() {
    }

    /**
     * {@code bytes} as guest.cfg would write it, in the largest unit that divides it
     * ({@code "96M"}, {@code "1023G"}, {@code "1536k"}, {@code "100b"}), so a limit read in a
     * message can be written back as it stands.
     */
    public static String format(long bytes) {
        String[] suffixes = {"G", "M", "k"};
        for (int i = 0; i < suffixes.length; i++) {
            int shift = 30 - 10 * i;
            if (bytes != 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + suffixes[i];
            }
        }
        return bytes + "b";
    }

    /**
     * Parses {@code text}: no suffix or {@code b} is bytes, {@code k} KiB, {@code M} MiB, {@code G} GiB
     * (either case).
     *
     * @throws IllegalArgumentException saying why {@code text} is not a size
     */
    public static long parse(String text) {
        Matcher matcher = SIZE.matcher(text.strip());
        if (!matcher.matches()) {
            throw new IllegalArgumentException('"' + text + "\" is not a size (use b, k, M or G)");
        }
        int shift = switch (matcher.group(2).toLowerCase()) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        try {
            long number = Long.parseLong(matcher.group(1));
            if (number > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return number << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException('"' + text + "\" is too large a size");
        }
    }
}
