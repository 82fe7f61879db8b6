package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec.Format;
import dev.machina.vmm.config.BlockSpec.Mode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Damaged and unsupported qcow2 images, each a version 3 image made by QEMU (64 KiB clusters, its
 * first cluster written, so that it has an L2 table) with one field changed: each is refused with
 * a {@link DiskImageException} naming the file and the problem, whether found on opening or when
 * the guest reaches the damage.
 */
class Qcow2MalformedTest {
    private static final long COPIED = 1L << 63;
    private static final long COMPRESSED = 1L << 62;

    @TempDir
    Path directory;

    private Path image;

    @BeforeEach
    void makeImage() throws Exception {
        image = Qemu.create(directory, "disk.qcow2", "1M");
        Qemu.io(image, "write -P 0x11 0 64k");
    }

    /** A change to the image file. */
    interface Damage {
        void apply(FileChannel file) throws IOException;
    }

    static Stream<Arguments> damages() {
        return Stream.of(
                arguments("a header cut short", (Damage) file -> file.truncate(50), "is cut short: it ends at byte 50, inside its qcow2 header"),
                arguments("no magic", (Damage) file -> putInt(file, 0, 0), "is not a qcow2 image (it does not begin with QFI\\xfb)"),
                arguments("version 4", (Damage) file -> putInt(file, 4, 4), "is qcow2 version 4, which Machina does not read (only 2 and 3)"),
                arguments("cluster_bits 30", (Damage) file -> putInt(file, 20, 30), "corrupt qcow2 header: cluster_bits is 30, not 9 to 21"),
                arguments("encryption", (Damage) file -> putInt(file, 32, 1), "is encrypted, which Machina does not support"),
                arguments("an unknown incompatible feature", (Damage) file -> putLong(file, 72, 1 << 10),
                        "uses incompatible qcow2 feature bit 10, which Machina does not know"),
                arguments("an external data file", (Damage) file -> putLong(file, 72, 1 << 2),
                        "keeps its data in an external data file, which Machina does not support"),
                arguments("extended L2 entries", (Damage) file -> putLong(file, 72, 1 << 4),
                        "uses extended L2 entries (subclusters), which Machina does not support"),
                arguments("zstd compression", (Damage) file -> {
                    putLong(file, 72, 1 << 3);
                    file.write(ByteBuffer.wrap(new byte[] {1}), 104);
                }, "compresses clusters with zstd, which Machina does not read (only deflate)"),
                arguments("a virtual size larger than the L1 table maps", (Damage) file -> putLong(file, 24, 1L << 50),
                        "corrupt qcow2 header: its L1 table of 1 entries is too small for its virtual size of 1125899906842624 bytes"),
                arguments("the L1 table past the end of the file", (Damage) file -> putLong(file, 40, 1L << 40),
                        "corrupt qcow2 header: its L1 table (8 bytes at byte 0x10000000000) lies past the end of the file"),
                arguments("the L1 table not at a cluster", (Damage) file -> putLong(file, 40, getLong(file, 40) + 8),
                        "corrupt qcow2 header: its L1 table at byte 0x30008 is not cluster aligned"),
                arguments("the refcount table past the end of the file", (Damage) file -> putLong(file, 48, 1L << 40),
                        "corrupt qcow2 header: its refcount table (65536 bytes at byte 0x10000000000) lies past the end of the file"),
                arguments("an absurd header extension", (Damage) file -> {
                    putInt(file, 112, 0x12345678);
                    putInt(file, 116, 0x7fff0000);
                }, "corrupt qcow2 header: header extension 0x12345678 at byte 112 runs past the header"),
                arguments("an L1 entry past the end of the file", (Damage) file -> putLong(file, l1(file), COPIED | 1L << 40),
                        "corrupt qcow2 L1 table: entry 0 (0x8000010000000000) has reserved bits set or points past the end of the file"),
                arguments("an L2 entry with a reserved bit", (Damage) file -> putLong(file, l2(file), getLong(file, l2(file)) | 2),
                        "corrupt qcow2 L2 table: the entry for guest offset 0x0 (0x8000000000050002) has reserved bits set"),
                arguments("a compressed cluster that is not deflate", (Damage) file -> putLong(file, l2(file), COMPRESSED | 0x50000),
                        "corrupt qcow2 compressed cluster at 0x50000: it does not inflate to a whole cluster"),
                arguments("a refcount block past the end of the file", (Damage) file -> putLong(file, 0x10000, 1L << 40),
                        "corrupt qcow2 refcount table: entry 0 points at 0x10000000000, past the end of the file"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damages")
    void isRefusedNamingTheFileAndTheDamage(String name, Damage damage, String problem) throws IOException {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            damage.apply(file);
        }
        assertThatThrownBy(() -> {
            try (DiskImage disk = Disks.open(image, Mode.READ_WRITE, Format.QCOW)) {
                Disks.readAll(disk);
                Disks.write(disk, new byte[(int) disk.size()], 512 << 10, new byte[512]); // allocates: reads the refcounts
            }
        }).isInstanceOf(DiskImageException.class).hasMessageStartingWith(image + ": " + problem);
    }

    /** An image QEMU did not close cleanly (lazy refcounts) may have stale refcounts: read, but not written. */
    @Test
    void aDirtyImageIsOnlyRead() throws Exception {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            putLong(file, 72, 1);
        }
        Disks.open(image, Mode.READ_ONLY, Format.QCOW).close();
        assertThatThrownBy(() -> Disks.open(image, Mode.READ_WRITE, Format.QCOW)).isInstanceOf(DiskImageException.class)
                .hasMessage(image + ": was not closed cleanly (its dirty bit is set: its refcounts may be stale): "
                        + "repair it with qemu-img check -r all, or open it ro");
    }

    @Test
    void aRawFileIsNotOpenedAsQcow2() throws Exception {
        Path raw = Files.write(directory.resolve("disk.raw"), new byte[4096]);
        assertThatThrownBy(() -> Disks.open(raw, Mode.READ_ONLY, Format.QCOW)).isInstanceOf(DiskImageException.class)
                .hasMessage(raw + ": is not a qcow2 image (it does not begin with QFI\\xfb)");
    }

    /** Where the L1 table is, from the header. */
    private static long l1(FileChannel file) throws IOException {
        return getLong(file, 40);
    }

    /** Where the first L2 table's first entry is, from the L1 table. */
    private static long l2(FileChannel file) throws IOException {
        return getLong(file, l1(file)) & ~COPIED;
    }

    private static long getLong(FileChannel file, long at) throws IOException {
        ByteBuffer field = ByteBuffer.allocate(Long.BYTES);
        file.read(field, at);
        return field.getLong(0);
    }

    private static void putLong(FileChannel file, long at, long value) throws IOException {
        file.write(ByteBuffer.allocate(Long.BYTES).putLong(0, value), at);
    }

    private static void putInt(FileChannel file, long at, int value) throws IOException {
        file.write(ByteBuffer.allocate(Integer.BYTES).putInt(0, value), at);
    }
}
