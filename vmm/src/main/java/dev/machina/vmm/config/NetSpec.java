package dev.machina.vmm.config;

import java.util.Optional;

/**
 * A network device as {@code net} names it: {@code "tap:IFNAME[,mac=XX:XX:XX:XX:XX:XX]"}, a TAP
 * interface of the host (made if it does not exist) and the guest's MAC address on it.
 */
public record NetSpec(String tap, Optional<MacAddress> mac) {
    /** Linux's IFNAMSIZ less the terminating NUL. */
    private static final int MAX_INTERFACE_NAME = 15;
    private static final String FORM = " (use tap:IFNAME[,mac=XX:XX:XX:XX:XX:XX])";

    static NetSpec parse(String text) {
        String[] parts = text.split(",", -1);
        if (!parts[0].startsWith("tap:")) {
            throw new IllegalArgumentException('"' + text + "\" is not a network device" + FORM);
        }
        String name = parts[0].substring("tap:".length());
        if (name.isEmpty() || name.length() > MAX_INTERFACE_NAME || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException('"' + name + "\" is not an interface name (1 to 15 letters, digits, '_', '.' or '-')");
        }
        Optional<MacAddress> mac = Optional.empty();
        for (int i = 1; i < parts.length; i++) {
            if (!parts[i].startsWith("mac=") || mac.isPresent()) {
                throw new IllegalArgumentException('"' + text + "\": unexpected option \"" + parts[i] + '"' + FORM);
            }
            mac = Optional.of(MacAddress.parse(parts[i].substring("mac=".length())));
        }
        return new NetSpec(name, mac);
    }

    @Override
    public String toString() {
        return "tap:" + tap + mac.map(address -> ",mac=" + address).orElse("");
    }
}
