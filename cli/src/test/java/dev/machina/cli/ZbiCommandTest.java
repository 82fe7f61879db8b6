package dev.machina.cli;

import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.hypervisor.Backends;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.loader.zbi.ZbiType;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code guest zbi list, create, extract} through the command's entry point, in a working directory of its own. */
class ZbiCommandTest {
    @TempDir
    Path workingDirectory;
    @TempDir
    Path cache;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final ByteArrayOutputStream messages = new ByteArrayOutputStream();

    private int guest(String... args) {
        return GuestCommand.run(new Environment(InputStream.nullInputStream(), output,
                new PrintStream(messages, true, StandardCharsets.UTF_8), false,
                new GuestPackages(Optional.empty(), cache, workingDirectory), Backends.installed(),
                new InstanceRegistry(cache.resolve("run"))), args);
    }

    private String output() {
        return output.toString(StandardCharsets.UTF_8);
    }

    private String messages() {
        return messages.toString(StandardCharsets.UTF_8);
    }

    /** A kernel image: the KERNEL_X64 item of 4 bytes of code entered at its first. */
    private Path kernelImage() {
        ZbiItem kernel = ZbiItem.of(ZbiType.KERNEL_X64.code(), 0, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(0x100050).putLong(0x3000).array());
        Path file = workingDirectory.resolve("kernel.zbi");
        new Zbi(List.of(kernel)).write(file);
        return file;
    }

    @Test
    void createsAnImageFromAKernelFilesAndCommandLinesAndListsIt() throws Exception {
        kernelImage();
        Files.write(workingDirectory.resolve("bootfs.img"), new byte[] {1, 2, 3, 4, 5});

        assertThat(guest("zbi", "create", "-o", "image.zbi", "kernel.zbi", "storage_bootfs=bootfs.img", "0xabcd1234=bootfs.img",
                "--cmdline=a=1", "--cmdline", "b")).as(messages()).isZero();

        assertThat(messages()).isEqualTo("image.zbi: 5 items, 248 bytes\n");
        List<ZbiItem> items = Zbi.read(workingDirectory.resolve("image.zbi")).items();
        assertThat(items).extracting(ZbiItem::type).containsExactly(ZbiType.KERNEL_X64.code(), ZbiType.STORAGE_BOOTFS.code(),
                0xABCD_1234, ZbiType.CMDLINE.code(), ZbiType.CMDLINE.code());
        assertThat(items.get(1).payload()).containsExactly(1, 2, 3, 4, 5);

        assertThat(guest("zbi", "list", "image.zbi")).isZero();
        assertThat(output()).isEqualTo("""
                image.zbi: 5 items, 248 bytes
                0x00000020  crc32  KERNEL_X64 0x14 bytes: entry 0x100050, reserve_memory_size 0x3000
                0x00000058  crc32  STORAGE_BOOTFS 0x5 bytes
                0x00000080  crc32  0xabcd1234 0x5 bytes
                0x000000a8  crc32  CMDLINE "a=1"
                0x000000d0  crc32  CMDLINE "b"
                """);
    }

    @Test
    void aPartialImageHasNoKernel() {
        assertThat(guest("zbi", "create", "-o", "ramdisk.zbi", "--cmdline=x")).isZero();
        assertThat(Zbi.read(workingDirectory.resolve("ramdisk.zbi")).items()).containsExactly(ZbiItem.commandLine("x"));
    }

    @Test
    void extractsEachItemIntoAFileNamedByItsPlaceAndType() throws Exception {
        Path image = kernelImage();
        assertThat(guest("zbi", "create", "-o", "image.zbi", image.toString(), "--cmdline=hello")).isZero();

        assertThat(guest("zbi", "extract", "image.zbi", "-o", "out")).isZero();

        Path out = workingDirectory.resolve("out");
        assertThat(Files.readAllBytes(out.resolve("002.CMDLINE.txt"))).isEqualTo("hello\0".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readAllBytes(out.resolve("001.KERNEL_X64.bin"))).hasSize(20);
        assertThat(output()).contains(out.resolve("002.CMDLINE.txt") + ": CMDLINE \"hello\"");
    }

    @Test
    void extractsOnlyTheTypesAsked() throws Exception {
        assertThat(guest("zbi", "create", "-o", "image.zbi", kernelImage().toString(), "--cmdline=hello")).isZero();

        assertThat(guest("zbi", "extract", "image.zbi", "--type=cmdline", "-o", "out")).isZero();

        try (var files = Files.list(workingDirectory.resolve("out"))) {
            assertThat(files.map(file -> file.getFileName().toString())).containsExactly("002.CMDLINE.txt");
        }
    }

    @Test
    void aMalformedImageIsOneLineNamingTheFile() throws Exception {
        Path image = workingDirectory.resolve("bad.zbi");
        byte[] bytes = new Zbi(List.of(ZbiItem.commandLine("x"))).toBytes();
        bytes[40] ^= 1;       // the item's extra, which its CRC32 covers
        Files.write(image, bytes);

        assertThat(guest("zbi", "list", "bad.zbi")).isEqualTo(1);
        assertThat(messages()).startsWith("guest: " + image + ": item 1 at offset 0x20 (CMDLINE): CRC32 mismatch: ")
                .hasLineCount(1);
    }

    @Test
    void anUnknownTypeOrAMissingFileIsOneLine() {
        assertThat(guest("zbi", "create", "-o", "x.zbi", "kernel=k")).isEqualTo(1);
        assertThat(messages()).startsWith("guest: zbi create: kernel=k: unknown item type \"kernel\" (known: ").hasLineCount(1);

        messages.reset();
        assertThat(guest("zbi", "list", "absent.zbi")).isEqualTo(1);
        assertThat(messages()).isEqualTo("guest: " + workingDirectory.resolve("absent.zbi") + ": no such file\n");
    }
}
