package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec.Format;
import dev.machina.vmm.config.BlockSpec.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Qcow2 images made by QEMU, read and written by Machina, then judged by QEMU: {@code qemu-img
 * check} finds no corruption or leak, and {@code qemu-img convert} reads the bytes a model of the
 * disk, written alike, holds.
 */
class Qcow2ImageTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path directory;

    private final Random random = new Random(3);

    private static DiskImage open(Path image, Mode mode) throws DiskImageException {
        return Disks.open(image, mode, Format.QCOW);
    }

    private static void assertQemuReads(Path image, byte[] expected) throws IOException, InterruptedException {
        Qemu.check(image);
        Disks.assertSameBytes(Qemu.contents(image), expected);
    }

    @ParameterizedTest(name = "compat={0}")
    @ValueSource(strings = {"1.1", "0.10"})
    void readsWhatQemuWrote(String compat) throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "4M", "-o", "compat=" + compat);
        Qemu.io(image, "write -P 0xab 0 64k", "write -P 0xcd 70000 5000", "write -P 0x11 2M 128k", "write -z 2M 64k");
        byte[] expected = new byte[4 * MIB];
        Arrays.fill(expected, 0, 64 << 10, (byte) 0xab);
        Arrays.fill(expected, 70_000, 75_000, (byte) 0xcd);
        Arrays.fill(expected, 2 * MIB + (64 << 10), 2 * MIB + (128 << 10), (byte) 0x11);
        try (DiskImage disk = open(image, Mode.READ_ONLY)) {
            assertThat(disk.size()).isEqualTo(4 * MIB);
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
    }

    @ParameterizedTest(name = "compat={0}")
    @ValueSource(strings = {"1.1", "0.10"})
    void writesWhatQemuReadsBack(String compat) throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "8M", "-o", "compat=" + compat);
        byte[] expected = new byte[8 * MIB];
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.write(disk, expected, 0, Disks.random(random, 4096));               // part of a cluster
            Disks.write(disk, expected, 60_000, Disks.random(random, 300_000));       // across several
            Disks.write(disk, expected, 8 * MIB - 100, Disks.random(random, 100));    // the disk's last bytes
            disk.flush();
            Disks.write(disk, expected, 1000, Disks.random(random, 200));             // in place
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        assertQemuReads(image, expected);
        try (DiskImage disk = open(image, Mode.READ_ONLY)) {
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
    }

    @Test
    void readsCompressedClustersAndRewritesThoseWrittenTo() throws Exception {
        StringBuilder text = new StringBuilder(); // deflates to about half, so that compressed clusters cross host clusters
        for (int line = 0; text.length() < MIB; line++) {
            text.append("line ").append(line).append(' ').append(HexFormat.of().formatHex(Disks.random(random, 8))).append('\n');
        }
        byte[] expected = Arrays.copyOf(text.toString().getBytes(StandardCharsets.US_ASCII), MIB);
        Files.write(directory.resolve("data.raw"), expected);
        Qemu.run(directory, "qemu-img", "convert", "-q", "-c", "-O", "qcow2", "data.raw", "disk.qcow2");
        Path image = directory.resolve("disk.qcow2");
        assertThat(Files.size(image)).as("the image's size, compressed").isLessThan(MIB);
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.assertSameBytes(Disks.readAll(disk), expected);
            Disks.write(disk, expected, 100_000, Disks.random(random, 100));          // inside a compressed cluster
            Disks.write(disk, expected, 5 << 16, Disks.random(random, 1 << 16));      // over a whole one
            disk.writeZeroes(MIB / 2, MIB / 2, true);                                 // giving up the rest
            Arrays.fill(expected, MIB / 2, MIB, (byte) 0);
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        assertQemuReads(image, expected);
    }

    @Test
    void readsThroughARawBackingFileAndCopiesOnWrite() throws Exception {
        byte[] base = Disks.random(random, 2 * MIB);
        Path baseFile = Files.write(directory.resolve("base.raw"), base);
        Qemu.run(directory, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "overlay.qcow2", "3M");
        Path overlay = directory.resolve("overlay.qcow2");
        byte[] expected = Arrays.copyOf(base, 3 * MIB); // past the backing file's end: zeros
        try (DiskImage disk = open(overlay, Mode.READ_WRITE)) {
            Disks.assertSameBytes(Disks.readAll(disk), expected);
            Disks.write(disk, expected, 70_000, Disks.random(random, 100));
            Disks.write(disk, expected, 2 * MIB - 2000, Disks.random(random, 5000));  // across the backing file's end
            disk.writeZeroes(0, 1 << 16, true);                                       // hides the backing file's cluster
            Arrays.fill(expected, 0, 1 << 16, (byte) 0);
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        Disks.assertSameBytes(Files.readAllBytes(baseFile), base);
        assertQemuReads(overlay, expected);
    }

    @Test
    void readsThroughAChainOfQcow2BackingFiles() throws Exception {
        Path base = Qemu.create(directory, "base.qcow2", "2M");
        Qemu.io(base, "write -P 0x11 0 1M");
        Path middle = Qemu.create(directory, "middle.qcow2", "2M", "-b", "base.qcow2", "-F", "qcow2");
        Qemu.io(middle, "write -P 0x22 512k 512k");
        Path top = Qemu.create(directory, "top.qcow2", "2M", "-b", "middle.qcow2", "-F", "qcow2");
        byte[] expected = new byte[2 * MIB];
        Arrays.fill(expected, 0, 512 << 10, (byte) 0x11);
        Arrays.fill(expected, 512 << 10, MIB, (byte) 0x22);
        byte[] baseBefore = Files.readAllBytes(base);
        byte[] middleBefore = Files.readAllBytes(middle);
        try (DiskImage disk = open(top, Mode.READ_WRITE)) {
            Disks.assertSameBytes(Disks.readAll(disk), expected);
            Disks.write(disk, expected, 500_000, Disks.random(random, 100_000));
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        Disks.assertSameBytes(Files.readAllBytes(base), baseBefore);
        Disks.assertSameBytes(Files.readAllBytes(middle), middleBefore);
        assertQemuReads(top, expected);
    }

    @Test
    void aMissingBackingFileIsNamedWithTheImageThatNamesIt() throws Exception {
        Path overlay = Qemu.create(directory, "overlay.qcow2", "1M", "-u", "-b", "gone.raw", "-F", "raw");
        assertThatThrownBy(() -> open(overlay, Mode.READ_WRITE)).isInstanceOf(DiskImageException.class)
                .hasMessage(overlay + ": backing file " + directory.resolve("gone.raw") + ": no such file");
    }

    @Test
    void aLoopOfBackingFilesIsRefused() throws Exception {
        Path first = Qemu.create(directory, "first.qcow2", "1M", "-u", "-b", "second.qcow2", "-F", "qcow2");
        Qemu.create(directory, "second.qcow2", "1M", "-u", "-b", "first.qcow2", "-F", "qcow2");
        assertThatThrownBy(() -> open(first, Mode.READ_ONLY)).isInstanceOf(DiskImageException.class)
                .hasMessageStartingWith(first + ": backing file " + directory.resolve("second.qcow2") + ": backing file ")
                .hasMessageContaining("deeper than 32 (does it loop?)");
    }

    /** 512-byte clusters: a refcount block counts 128 KiB, and the one-cluster refcount table 8 MiB of the file. */
    @Test
    void growsItsRefcountBlocksAndTableAsTheFileGrows() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "24M", "-o", "cluster_size=512");
        int tableClusters = headerInt(image, 56);
        byte[] expected = new byte[24 * MIB];
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            for (int at = 0; at < 12 * MIB; at += 1 << 16) {
                Disks.write(disk, expected, at, Disks.random(random, 1 << 16));
            }
            Disks.write(disk, expected, 20 * MIB + 100, Disks.random(random, 1000));
        }
        assertThat(headerInt(image, 56)).as("the refcount table's clusters").isGreaterThan(tableClusters);
        assertQemuReads(image, expected);
    }

    /** Refcounts narrower than a byte share one, the first in its lowest bits; wider ones are big-endian. */
    @ParameterizedTest(name = "refcount_bits={0}")
    @ValueSource(ints = {1, 2, 4, 8, 32, 64})
    void keepsRefcountsOfEveryWidth(int bits) throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "2M", "-o", "cluster_size=512,refcount_bits=" + bits);
        byte[] expected = new byte[2 * MIB];
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.write(disk, expected, 1000, Disks.random(random, MIB));
            disk.discard(4096, 200 * 512);
            Arrays.fill(expected, 4096, 4096 + 200 * 512, (byte) 0); // what discarded clusters of a version 3 image read as
            disk.flush();
            Disks.write(disk, expected, MIB + 1000, Disks.random(random, 200_000));
        }
        assertQemuReads(image, expected);
    }

    @ParameterizedTest(name = "compat={0}")
    @ValueSource(strings = {"1.1", "0.10"})
    void writeZeroesReadsAsZerosWhetherOrNotItUnmaps(String compat) throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "4M", "-o", "compat=" + compat);
        byte[] expected = new byte[4 * MIB];
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.write(disk, expected, 0, Disks.random(random, 3 * MIB));
            disk.writeZeroes(100, MIB, false);
            disk.writeZeroes(2 * MIB - 100, MIB, true);
            Arrays.fill(expected, 100, MIB + 100, (byte) 0);
            Arrays.fill(expected, 2 * MIB - 100, 3 * MIB - 100, (byte) 0);
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        assertQemuReads(image, expected);
        if (compat.equals("1.1")) { // zero flags: kept clusters still have their host offset, unmapped ones none
            assertThat(Qemu.extentAt(image, 1 << 16)).containsEntry("zero", true).containsKey("offset");
            assertThat(Qemu.extentAt(image, 2 * MIB)).containsEntry("zero", true).doesNotContainKey("offset");
        }
    }

    /** The clusters discarded are free once the discard is flushed: new data takes them, and the file does not grow. */
    @Test
    void discardedClustersAreAllocatedAgain() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "8M");
        byte[] expected = new byte[8 * MIB];
        long sizeWritten;
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            assertThat(disk.supportsDiscard()).isTrue();
            Disks.write(disk, expected, 0, Disks.random(random, 4 * MIB));
            disk.flush();
            sizeWritten = Files.size(image);
            disk.discard(0, 4 * MIB);
            Arrays.fill(expected, 0, 4 * MIB, (byte) 0); // what discarded clusters of a version 3 image read as
            disk.flush();
            Disks.write(disk, expected, 4 * MIB, Disks.random(random, 4 * MIB));
        }
        assertThat(Files.size(image)).isEqualTo(sizeWritten);
        assertQemuReads(image, expected);
    }

    /**
     * The file as a VMM killed between requests would leave it, without a flush: tables not yet
     * written may leave clusters counted that nothing uses (leaks), but no table points at a
     * cluster not counted, or freed while still in use.
     */
    @Test
    void aVmmKilledBetweenRequestsLeavesAtWorstLeaks() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "4M", "-o", "cluster_size=4096");
        Path copy = directory.resolve("copy.qcow2");
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.write(disk, new byte[4 * MIB], 0, Disks.random(random, 2 * MIB));
            Files.copy(image, copy);
            Qemu.checkForCorruption(copy);
            disk.flush();
            disk.discard(0, MIB);
            disk.writeZeroes(MIB, MIB, true);
            Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
            Qemu.checkForCorruption(copy);
        }
    }

    /** Writing to a cluster a snapshot shares copies it (and the L2 table): the snapshot still reads as it was. */
    @Test
    void keepsInternalSnapshotsIntact() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "1M");
        Qemu.io(image, "write -P 0x11 0 256k");
        Qemu.run(directory, "qemu-img", "snapshot", "-c", "before", "disk.qcow2");
        byte[] before = new byte[MIB];
        Arrays.fill(before, 0, 256 << 10, (byte) 0x11);
        byte[] expected = before.clone();
        try (DiskImage disk = open(image, Mode.READ_WRITE)) {
            Disks.write(disk, expected, 1000, Disks.random(random, 100));
            Disks.write(disk, expected, 200_000, Disks.random(random, 100_000));
            disk.writeZeroes(3 << 16, 1 << 16, true);
            Arrays.fill(expected, 3 << 16, 4 << 16, (byte) 0);
        }
        assertQemuReads(image, expected);
        Disks.assertSameBytes(Qemu.contents(image, "-l", "snapshot.name=before"), before);
    }

    /**
     * Random requests of every kind against a model, over a backing file (so that writes copy from
     * it and zeroing hides it), with 4 KiB clusters (so that they span many clusters and L2 tables)
     * and a last cluster the disk has only part of, flushed and reopened now and then. Discarded bytes read as anything, so they are left out.
     */
    @ParameterizedTest(name = "compat={0}")
    @ValueSource(strings = {"1.1", "0.10"})
    void keepsUpWithAModelThroughRandomRequests(String compat) throws Exception {
        int size = 6 * MIB - 3 * 512; // the last cluster is part of one
        byte[] base = Disks.random(random, size);
        Files.write(directory.resolve("base.raw"), base);
        Path image = Qemu.create(directory, "disk.qcow2", Integer.toString(size), "-o", "compat=" + compat + ",cluster_size=4096",
                "-b", "base.raw", "-F", "raw");
        byte[] expected = base.clone();
        BitSet discarded = new BitSet(size);
        DiskImage disk = open(image, Mode.READ_WRITE);
        try {
            for (int request = 0; request < 600; request++) {
                int offset = random.nextInt(size);
                int length = Math.min(1 + random.nextInt(20_000), size - offset);
                switch (random.nextInt(10)) {
                    case 0, 1, 2, 3 -> {
                        Disks.write(disk, expected, offset, Disks.random(random, length));
                        discarded.clear(offset, offset + length);
                    }
                    case 4, 5 -> Disks.assertSameBytes(withDiscarded(Disks.read(disk, offset, length), expected, offset, discarded),
                            Arrays.copyOfRange(expected, offset, offset + length));
                    case 6 -> {
                        disk.writeZeroes(offset, length, random.nextBoolean());
                        Arrays.fill(expected, offset, offset + length, (byte) 0);
                        discarded.clear(offset, offset + length);
                    }
                    case 7 -> {
                        disk.discard(offset, length);
                        discarded.set(offset, offset + length);
                    }
                    case 8 -> disk.flush();
                    default -> {
                        disk.close();
                        disk = open(image, Mode.READ_WRITE);
                    }
                }
            }
            Disks.assertSameBytes(withDiscarded(Disks.readAll(disk), expected, 0, discarded), expected);
        } finally {
            disk.close();
        }
        Qemu.check(image);
        Disks.assertSameBytes(withDiscarded(Qemu.contents(image), expected, 0, discarded), expected);
    }

    /** {@code actual} (the disk's bytes from {@code offset}), with the discarded ones taken from {@code expected}. */
    private static byte[] withDiscarded(byte[] actual, byte[] expected, int offset, BitSet discarded) {
        for (int i = discarded.nextSetBit(offset); i >= 0 && i < offset + actual.length; i = discarded.nextSetBit(i + 1)) {
            actual[i - offset] = expected[i];
        }
        return actual;
    }

    @Test
    void readOnlyAndVolatileNeverChangeTheImage() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "1M");
        Qemu.io(image, "write -P 0x5a 0 128k");
        byte[] before = Files.readAllBytes(image);
        byte[] expected = new byte[MIB];
        Arrays.fill(expected, 0, 128 << 10, (byte) 0x5a);
        try (DiskImage disk = open(image, Mode.READ_ONLY)) {
            assertThat(disk.readOnly()).isTrue();
            assertThat(disk.supportsDiscard()).isFalse();
            assertThatThrownBy(() -> disk.write(0, ByteBuffer.allocate(512))).hasMessage(image + ": is read-only");
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        try (DiskImage disk = open(image, Mode.VOLATILE)) {
            Disks.write(disk, expected, 1000, Disks.random(random, 200_000));
            disk.flush();
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        Disks.assertSameBytes(Files.readAllBytes(image), before);
    }

    /** Autoclear bits vouch for what Machina does not keep up (bitmaps in step with the data): opened to write, it clears them. */
    @Test
    void clearsAutoclearFeatureBitsWhenOpenedToWrite() throws Exception {
        Path image = Qemu.create(directory, "disk.qcow2", "1M");
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(Long.BYTES).putLong(0, 1), 88);
        }
        open(image, Mode.READ_ONLY).close();
        assertThat(headerInt(image, 92)).as("autoclear bits, opened read-only").isEqualTo(1);
        open(image, Mode.READ_WRITE).close();
        assertThat(headerInt(image, 92)).as("autoclear bits, opened to write").isZero();
    }

    private static int headerInt(Path image, int at) throws IOException {
        try (FileChannel channel = FileChannel.open(image)) {
            ByteBuffer field = ByteBuffer.allocate(Integer.BYTES);
            channel.read(field, at);
            return field.getInt(0);
        }
    }
}
