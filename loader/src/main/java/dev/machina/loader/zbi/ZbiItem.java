package dev.machina.loader.zbi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.StringJoiner;

/**
 * One item of a ZBI: its type, the type-specific {@code extra} word, its flags (as in the header,
 * {@link Zbi#FLAGS_VERSION} always among them) and its payload. Items made here carry a CRC32; the
 * writer computes it.
 */
public record ZbiItem(int type, int extra, int flags, byte[] payload) {
    /** {@code extra} of a KERNEL_DRIVER item configuring an 8250 UART on I/O ports ('8250'). */
    public static final int KDRV_I8250_PIO_UART = 0x3035_3238;
    /** One E820_TABLE entry: address and size (8 bytes each), type (4 bytes), packed. */
    public static final int E820_ENTRY_SIZE = 20;

    public ZbiItem {
        payload = payload.clone();
        flags |= Zbi.FLAGS_VERSION;
    }

    /** An item of {@code type} with {@code payload}, checked by a CRC32. */
    public static ZbiItem of(int type, int extra, byte[] payload) {
        return new ZbiItem(type, extra, Zbi.FLAGS_VERSION | Zbi.FLAGS_CRC32, payload);
    }

    /** A CMDLINE item: the text and its NUL. */
    public static ZbiItem commandLine(String text) {
        return of(ZbiType.CMDLINE.code(), 0, (text + '\0').getBytes(StandardCharsets.UTF_8));
    }

    /** An ACPI_RSDP item: the RSDP's physical address. */
    public static ZbiItem acpiRsdp(long address) {
        return of(ZbiType.ACPI_RSDP.code(), 0, little(8).putLong(address).array());
    }

    /** A KERNEL_DRIVER item for an 8250 UART at I/O port {@code base} on {@code irq} ({@code dcfg_simple_pio_t}). */
    public static ZbiItem i8250Uart(int base, int irq) {
        return of(ZbiType.KERNEL_DRIVER.code(), KDRV_I8250_PIO_UART,
                little(8).putShort((short) base).putShort((short) 0).putInt(irq).array());
    }

    /** One range of an E820_TABLE: {@code type} is the E820 interface's (1 RAM, 2 reserved...). */
    public record E820Range(long address, long size, int type) {
    }

    /** An E820_TABLE item of {@code ranges}. */
    public static ZbiItem e820(List<E820Range> ranges) {
        ByteBuffer table = little(ranges.size() * E820_ENTRY_SIZE);
        for (E820Range range : ranges) {
            table.putLong(range.address()).putLong(range.size()).putInt(range.type());
        }
        return of(ZbiType.E820_TABLE.code(), 0, table.array());
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    public int length() {
        return payload.length;
    }

    public boolean hasCrc32() {
        return (flags & Zbi.FLAGS_CRC32) != 0;
    }

    /** The payload's little-endian 64-bit word at {@code offset}. */
    public long u64(int offset) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
    }

    /** The payload's little-endian 32-bit word at {@code offset}, unsigned. */
    public long u32(int offset) {
        return Integer.toUnsignedLong(ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(offset));
    }

    /**
     * The item in one line, its type's name and what its payload says for the types the x86 boot
     * passes: {@code CMDLINE "console=..."}, {@code ACPI_RSDP 0xe0000}, {@code KERNEL_DRIVER
     * I8250_PIO_UART base 0x3f8 irq 0x4}, {@code E820_TABLE [0x0+0x9fc00 type 0x1] ...}; others by
     * length. Numbers are in hex without leading zeros, so that zircon_guest, which prints the items
     * it was given in this form, can be compared with the VMM line for line.
     */
    public String describe() {
        String name = ZbiType.name(type);
        return switch (ZbiType.of(type).orElse(null)) {
            case CMDLINE -> name + " \"" + commandLineText() + "\"";
            case ACPI_RSDP, SMBIOS -> payload.length == 8 ? name + " 0x" + Long.toHexString(u64(0)) : byLength(name);
            case KERNEL_DRIVER -> extra == KDRV_I8250_PIO_UART && payload.length == 8
                    ? "%s I8250_PIO_UART base 0x%x irq 0x%x".formatted(name, u32(0) & 0xFFFF, u32(4))
                    : byLength(name + " extra 0x" + Integer.toHexString(extra));
            case E820_TABLE -> payload.length % E820_ENTRY_SIZE == 0 ? e820Entries(name) : byLength(name);
            case null, default -> byLength(name);
        };
    }

    private String commandLineText() {
        int end = 0;
        while (end < payload.length && payload[end] != 0) {
            end++;
        }
        return new String(payload, 0, end, StandardCharsets.UTF_8);
    }

    private String e820Entries(String name) {
        StringJoiner line = new StringJoiner(" ", name + " ", "");
        for (int offset = 0; offset < payload.length; offset += E820_ENTRY_SIZE) {
            line.add("[0x%x+0x%x type 0x%x]".formatted(u64(offset), u64(offset + 8), u32(offset + 16)));
        }
        return line.toString();
    }

    private String byLength(String name) {
        return name + " 0x" + Integer.toHexString(payload.length) + " bytes";
    }

    private static ByteBuffer little(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ZbiItem item && type == item.type && extra == item.extra && flags == item.flags
                && Arrays.equals(payload, item.payload);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * type + extra) + flags) + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "ZbiItem[%s extra 0x%x flags 0x%x %s]".formatted(ZbiType.name(type), extra, flags,
                payload.length <= 32 ? HexFormat.of().formatHex(payload) : payload.length + " bytes");
    }
}
