package dev.machina.loader.zbi;

import dev.machina.loader.ImageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ZbiTest {
    private static final Path FILE = Path.of("test.zbi");

    private static final ZbiItem COMMAND_LINE = ZbiItem.commandLine("kernel.serial=legacy");
    private static final ZbiItem RSDP = ZbiItem.acpiRsdp(0xE0000);
    private static final ZbiItem UART = ZbiItem.i8250Uart(0x3F8, 4);

    private static ByteBuffer bytes(Zbi zbi) {
        return ByteBuffer.wrap(zbi.toBytes()).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void writesTheContainerAndItemHeadersAsTheFormatLaysThemOut() {
        ByteBuffer image = bytes(new Zbi(List.of(COMMAND_LINE, RSDP)));

        // Container: BOOT, length, container magic, version flag, reserved, item magic, no CRC.
        assertThat(image.getInt(0)).isEqualTo(0x544F_4F42);
        assertThat(image.getInt(4)).isEqualTo(32 + 24 + 32 + 8);   // "kernel.serial=legacy\0" is 21 bytes, padded to 24
        assertThat(image.getInt(8)).isEqualTo(0x868C_F7E6);
        assertThat(image.getInt(12)).isEqualTo(0x0001_0000);
        assertThat(image.getInt(24)).isEqualTo(0xB578_1729);
        assertThat(image.getInt(28)).isEqualTo(0x4A87_E8D6);
        // The command line: CMDL, 21 bytes, then its padding up to the next header at 32 + 32 + 24.
        assertThat(image.getInt(32)).isEqualTo(0x4C44_4D43);
        assertThat(image.getInt(36)).isEqualTo(21);
        assertThat(image.getInt(44)).isEqualTo(0x0003_0000);   // version and CRC32
        assertThat(image.get(64 + 20)).isZero();
        assertThat(image.getInt(88)).isEqualTo(0x5044_5352);   // RSDP
        assertThat(image.getLong(88 + 32)).isEqualTo(0xE0000);
        assertThat(image.capacity()).isEqualTo(128).isEqualTo(new Zbi(List.of(COMMAND_LINE, RSDP)).size());
    }

    @Test
    void anItemsCrc32CoversItsHeaderWithTheFieldZeroAndThenItsPayload() {
        ByteBuffer image = bytes(new Zbi(List.of(RSDP)));
        byte[] header = new byte[32];
        image.get(32, header);
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(28, 0);
        CRC32 crc = new CRC32();
        crc.update(header);
        crc.update(RSDP.payload());

        assertThat(image.getInt(60)).isEqualTo((int) crc.getValue());
    }

    @Test
    void theCrc32CoversTheHeaderAsItIsReservedWordsIncluded() {
        ByteBuffer image = bytes(new Zbi(List.of(RSDP)));
        image.putInt(32 + 16, 0x55).putInt(32 + 28, 0);   // reserved0, and the crc32 field zero to compute it
        CRC32 crc = new CRC32();
        crc.update(image.array(), 32, 32);
        crc.update(RSDP.payload());
        image.putInt(32 + 28, (int) crc.getValue());

        Zbi read = Zbi.parse(FILE, image.array());

        assertThat(read.items()).containsExactly(RSDP);
        assertThat(Zbi.parse(FILE, read.toBytes())).as("written again with reserved0 zero and its CRC32 recomputed").isEqualTo(read);
    }

    @Test
    void whatIsWrittenReadsBackTheSame() {
        Zbi zbi = new Zbi(List.of(COMMAND_LINE, RSDP, UART,
                new ZbiItem(ZbiType.STORAGE_BOOTFS.code(), 5, Zbi.FLAGS_VERSION, new byte[] {1, 2, 3, 4, 5})));

        assertThat(Zbi.parse(FILE, zbi.toBytes())).isEqualTo(zbi);
    }

    @Test
    void readsAFileAndNamesAMissingOne(@TempDir Path directory) {
        Path file = directory.resolve("image.zbi");
        new Zbi(List.of(UART)).write(file);

        assertThat(Zbi.read(file).items()).containsExactly(UART);
        assertThatThrownBy(() -> Zbi.read(directory.resolve("absent.zbi")))
                .isInstanceOf(ImageException.class).hasMessage(directory.resolve("absent.zbi") + ": no such file");
    }

    @Test
    void describesTheItemsTheX86BootPasses() {
        assertThat(COMMAND_LINE.describe()).isEqualTo("CMDLINE \"kernel.serial=legacy\"");
        assertThat(RSDP.describe()).isEqualTo("ACPI_RSDP 0xe0000");
        assertThat(UART.describe()).isEqualTo("KERNEL_DRIVER I8250_PIO_UART base 0x3f8 irq 0x4");
        assertThat(ZbiItem.e820(List.of(new ZbiItem.E820Range(0, 0x9FC00, 1), new ZbiItem.E820Range(0x100000, 0x700000, 1)))
                .describe()).isEqualTo("E820_TABLE [0x0+0x9fc00 type 0x1] [0x100000+0x700000 type 0x1]");
        assertThat(ZbiItem.of(0x1234_5678, 0, new byte[3]).describe()).isEqualTo("0x12345678 0x3 bytes");
    }

    @Test
    void typesAreNamedAndParsedByNameOrNumber() {
        assertThat(ZbiType.parse("cmdline")).isEqualTo(ZbiType.CMDLINE.code());
        assertThat(ZbiType.parse("0x4c444d43")).isEqualTo(ZbiType.CMDLINE.code());
        assertThat(ZbiType.name(0x4C4E_524B)).isEqualTo("KERNEL_X64");
        assertThatThrownBy(() -> ZbiType.parse("kernel")).hasMessageStartingWith("unknown item type \"kernel\" (known: CONTAINER,");
    }

    // Malformed images, one clear error each.

    private static byte[] valid() {
        return new Zbi(List.of(COMMAND_LINE, RSDP)).toBytes();
    }

    /** {@link #valid()} with the 32-bit word at {@code offset} replaced by {@code value}. */
    private static byte[] validWith(int offset, int value) {
        byte[] image = valid();
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return image;
    }

    private static void assertRefused(byte[] image, String problem) {
        assertThatThrownBy(() -> Zbi.parse(FILE, image)).isInstanceOf(ImageException.class).hasMessage(FILE + ": " + problem);
    }

    @Test
    void refusesAFileShorterThanTheContainerHeader() {
        assertRefused(new byte[20], "truncated: 20 bytes, shorter than a ZBI's 32-byte container header");
    }

    @Test
    void refusesBadContainerMagic() {
        byte[] image = valid();
        image[8] ^= 1;
        assertRefused(image, "not a ZBI: bad magic in the container header (type 0x544f4f42, extra 0x868cf7e7, magic 0xb5781729;"
                + " a ZBI begins with type 0x544f4f42 'BOOT', extra 0x868cf7e6, magic 0xb5781729)");
    }

    @Test
    void refusesBadItemMagic() {
        assertRefused(validWith(32 + 24, 0x1234), "item 1 at offset 0x20: bad magic 0x00001234 (an item header's is 0xb5781729)");
    }

    @Test
    void refusesAContainerLongerThanTheFile() {
        byte[] image = valid();
        byte[] cut = Arrays.copyOf(image, image.length - 8);
        assertRefused(cut, "truncated: the container header says 96 bytes follow it; the file has 88");
    }

    @Test
    void refusesAnItemLengthPastTheContainersEnd() {
        assertRefused(validWith(88 + 4, 9), "item 2 at offset 0x58 (ACPI_RSDP): its length (9 bytes) runs past the container's end at 0x80");
    }

    @Test
    void refusesAMisalignedContainerLength() {
        assertRefused(validWith(4, 95), "misaligned: the container's length (95 bytes) is not a multiple of 8");
    }

    @Test
    void refusesATruncatedItemHeader() {
        assertRefused(Arrays.copyOf(validWith(4, 56 + 16), 32 + 56 + 16),
                "item 2 at offset 0x58: truncated header (16 bytes before the container's end)");
    }

    @Test
    void refusesACorruptPayloadByItsCrc32() {
        byte[] image = valid();
        image[64] ^= 0x20;
        assertThatThrownBy(() -> Zbi.parse(FILE, image)).isInstanceOf(ImageException.class)
                .hasMessageStartingWith(FILE + ": item 1 at offset 0x20 (CMDLINE): CRC32 mismatch: the header says 0x");
    }

    @Test
    void refusesAnItemWithoutTheCrc32FlagWhoseCrcFieldIsNotTheNoCrcValue() {
        byte[] image = new Zbi(List.of(new ZbiItem(ZbiType.STORAGE_RAMDISK.code(), 0, 0, new byte[8]))).toBytes();
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(60, 7);
        assertRefused(image, "item 1 at offset 0x20 (STORAGE_RAMDISK) has no CRC32 flag, so its crc32 field must be 0x4a87e8d6, not 0x00000007");
    }

    @Test
    void refusesHeadersWithoutTheVersionFlag() {
        assertRefused(validWith(12, 0), "the container header lacks the version flag (flags 0x00000000)");
        assertRefused(validWith(44, Zbi.FLAGS_CRC32), "item 1 at offset 0x20 (CMDLINE) lacks the version flag (flags 0x00020000)");
    }

    @Test
    void refusesTheCrc32FlagOnTheContainer() {
        assertRefused(validWith(12, Zbi.FLAGS_VERSION | Zbi.FLAGS_CRC32), "the container header has the CRC32 flag, which only items may have");
    }
}
