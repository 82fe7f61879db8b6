package dev.machina.vmm.config;

import java.util.HexFormat;

/** A unicast Ethernet address, such as {@code 52:54:00:12:34:56}, held in the low 48 bits of {@code bits}. */
public record MacAddress(long bits) {
    private static final long MULTICAST = 1L << 40;

    public MacAddress {
        if ((bits & ~0xFFFF_FFFF_FFFFL) != 0 || (bits & MULTICAST) != 0) {
            throw new IllegalArgumentException("not a unicast MAC address: " + Long.toHexString(bits));
        }
    }

    /** QEMU's locally administered prefix with {@code index} in the last byte: one address per device, the same at every launch. */
    public static MacAddress local(int index) {
        return new MacAddress(0x5254_0012_3456L + index);
    }

    /**
     * Parses six colon-separated hexadecimal bytes.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    static MacAddress parse(String text) {
        String[] parts = text.split(":", -1);
        long bits = 0;
        for (String part : parts) {
            if (parts.length != 6 || part.length() != 2 || !HexFormat.isHexDigit(part.charAt(0)) || !HexFormat.isHexDigit(part.charAt(1))) {
                throw new IllegalArgumentException('"' + text + "\" is not a MAC address (six hexadecimal bytes such as 52:54:00:12:34:56)");
            }
            bits = bits << 8 | HexFormat.fromHexDigits(part);
        }
        if ((bits & MULTICAST) != 0) {
            throw new IllegalArgumentException('"' + text + "\" is a multicast address (the first byte's lowest bit is set)");
        }
        return new MacAddress(bits);
    }

    /** Byte {@code i} (0 to 5), in the order written. */
    public int octet(int i) {
        return (int) (bits >>> (8 * (5 - i))) & 0xFF;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            text.append(i == 0 ? "" : ":").append(HexFormat.of().toHexDigits((byte) octet(i)));
        }
        return text.toString();
    }
}
