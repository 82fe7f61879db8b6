package dev.machina.cli;

import dev.machina.cli.instance.InstanceException;

import java.util.HexFormat;

/** Memory as {@code hexdump -C} shows it: the address, 16 bytes in hex, and the printable ones as ASCII. */
final class HexDump {
    private static final int LINE = 16;

    private HexDump() {
    }

    static String format(long address, byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (int offset = 0; offset < bytes.length; offset += LINE) {
            text.append(String.format("%016x  ", address + offset));
            StringBuilder ascii = new StringBuilder();
            for (int i = 0; i < LINE; i++) {
                if (offset + i < bytes.length) {
                    int value = bytes[offset + i] & 0xFF;
                    text.append(HexFormat.of().toHexDigits((byte) value)).append(' ');
                    ascii.append(value >= 0x20 && value < 0x7F ? (char) value : '.');
                } else {
                    text.append("   ");
                }
                if (i == LINE / 2 - 1) {
                    text.append(' ');
                }
            }
            text.append(" |").append(ascii).append("|\n");
        }
        return text.toString();
    }

    /** {@code value} in hexadecimal, with or without 0x; {@code what} names it in the error. */
    static long parseHex(String what, String value) {
        String digits = value.startsWith("0x") || value.startsWith("0X") ? value.substring(2) : value;
        try {
            return Long.parseUnsignedLong(digits, 16);
        } catch (NumberFormatException e) {
            throw new InstanceException(what + ": \"" + value + "\" is not a hexadecimal number");
        }
    }
}
