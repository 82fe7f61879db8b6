package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec.Format;
import dev.machina.vmm.config.BlockSpec.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RawImageTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    Path directory;

    private final Random random = new Random(1);

    private Path randomFile(String name) throws IOException {
        return Files.write(directory.resolve(name), Disks.random(random, SIZE));
    }

    @Test
    void readsAndWritesTheFileAtByteOffsets() throws IOException {
        Path path = randomFile("disk.img");
        byte[] expected = Files.readAllBytes(path);
        try (DiskImage disk = Disks.open(path, Mode.READ_WRITE, Format.RAW)) {
            assertThat(disk.size()).isEqualTo(SIZE);
            assertThat(disk.readOnly()).isFalse();
            Disks.write(disk, expected, 12_345, Disks.random(random, 100_000));
            Disks.write(disk, expected, SIZE - 7, Disks.random(random, 7));
            Disks.assertSameBytes(Disks.read(disk, 12_000, 101_000), Arrays.copyOfRange(expected, 12_000, 113_000));
            disk.flush();
        }
        Disks.assertSameBytes(Files.readAllBytes(path), expected);
    }

    @Test
    void aSparseFileReadsAsZeros() throws IOException {
        Path path = directory.resolve("sparse.img");
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(SIZE);
        }
        try (DiskImage disk = Disks.open(path, Mode.READ_ONLY, Format.RAW)) {
            Disks.assertSameBytes(Disks.readAll(disk), new byte[SIZE]);
        }
    }

    @Test
    void writeZeroesZeroesExactlyTheRangeAcrossItsChunks() throws IOException {
        Path path = randomFile("disk.img");
        byte[] expected = Files.readAllBytes(path);
        try (DiskImage disk = Disks.open(path, Mode.READ_WRITE, Format.RAW)) {
            disk.writeZeroes(1000, 200_000, true);
        }
        Arrays.fill(expected, 1000, 201_000, (byte) 0);
        Disks.assertSameBytes(Files.readAllBytes(path), expected);
    }

    @Test
    void discardFreesNothingAndChangesNothing() throws IOException {
        Path path = randomFile("disk.img");
        byte[] before = Files.readAllBytes(path);
        try (DiskImage disk = Disks.open(path, Mode.READ_WRITE, Format.RAW)) {
            assertThat(disk.supportsDiscard()).isFalse();
            disk.discard(0, SIZE);
        }
        Disks.assertSameBytes(Files.readAllBytes(path), before);
    }

    @Test
    void readOnlyRefusesEveryChangeAndLeavesTheFileAlone() throws IOException {
        Path path = randomFile("disk.img");
        byte[] before = Files.readAllBytes(path);
        try (DiskImage disk = Disks.open(path, Mode.READ_ONLY, Format.RAW)) {
            assertThat(disk.readOnly()).isTrue();
            assertThat(Disks.read(disk, 0, 4096)).isEqualTo(Arrays.copyOf(before, 4096));
            assertThatThrownBy(() -> disk.write(0, ByteBuffer.allocate(512)))
                    .isInstanceOf(DiskImageException.class).hasMessage(path + ": is read-only");
            assertThatThrownBy(() -> disk.writeZeroes(0, 512, false)).isInstanceOf(DiskImageException.class);
            assertThatThrownBy(() -> disk.discard(0, 512)).isInstanceOf(DiskImageException.class);
            disk.flush();
        }
        Disks.assertSameBytes(Files.readAllBytes(path), before);
    }

    @Test
    void requestsOutsideTheDiskAreBugs() throws IOException {
        try (DiskImage disk = Disks.open(randomFile("disk.img"), Mode.READ_WRITE, Format.RAW)) {
            assertThatThrownBy(() -> disk.read(SIZE - 10, ByteBuffer.allocate(20))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> disk.write(-1, ByteBuffer.allocate(1))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> disk.writeZeroes(Long.MAX_VALUE, 2, true)).isInstanceOf(IllegalArgumentException.class);
            disk.read(SIZE - 10, ByteBuffer.allocate(10));
        }
    }

    /** Written as raw, the guest could rewrite the image's qcow2 tables: QEMU's lesson, so it is refused. */
    @Test
    void aQcow2ImageIsNotOpenedAsRaw() throws IOException {
        Path path = directory.resolve("disk.qcow2");
        Files.write(path, new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3});
        assertThatThrownBy(() -> Disks.open(path, Mode.READ_WRITE, Format.RAW))
                .isInstanceOf(DiskImageException.class).hasMessageStartingWith(path + ": is a qcow2 image: add ,qcow");
    }

    @Test
    void aFileThatCannotBeADiskIsNamedWithWhy() throws IOException {
        Path missing = directory.resolve("missing.img");
        assertThatThrownBy(() -> Disks.open(missing, Mode.READ_WRITE, Format.RAW)).hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> Disks.open(directory, Mode.READ_ONLY, Format.RAW)).hasMessage(directory + ": is a directory, not a file");
    }

    @Test
    void aDiskBeingWrittenIsNotOpenedAgainUntilItIsClosed() throws IOException {
        Path path = randomFile("disk.img");
        try (DiskImage reading = Disks.open(path, Mode.READ_ONLY, Format.RAW);
             DiskImage base = Disks.open(path, Mode.VOLATILE, Format.RAW)) {
            assertThatThrownBy(() -> Disks.open(path, Mode.READ_WRITE, Format.RAW))
                    .isInstanceOf(DiskImageException.class).hasMessage(path + ": is in use: another VMM has it open");
            assertThat(base.size()).as("read-only twice, as a shared backing file is").isEqualTo(reading.size());
        }
        try (DiskImage writing = Disks.open(path, Mode.READ_WRITE, Format.RAW)) {
            assertThat(writing.readOnly()).isFalse();
        }
    }

    @Test
    void qemuKeepsOutOfAnImageMachinaHasOpen() throws IOException, InterruptedException {
        Path path = randomFile("disk.img");
        try (DiskImage writing = Disks.open(path, Mode.READ_WRITE, Format.RAW)) {
            Process qemu = new ProcessBuilder("qemu-io", "-f", "raw", "-r", "-c", "read 0 512", path.toString())
                    .redirectErrorStream(true).start();
            String output = new String(qemu.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(qemu.waitFor()).as(output).isNotZero();
            assertThat(output).as("QEMU's refusal").contains("lock");
        }
    }

    @Test
    void theSerialIsShortStableAndItsFilesOwn() throws IOException {
        Path first = randomFile("first.img");
        Path second = randomFile("second.img");
        String serial;
        try (DiskImage disk = Disks.open(first, Mode.READ_ONLY, Format.RAW)) {
            serial = disk.serial();
        }
        assertThat(serial).matches("[0-9a-f]+-[0-9a-f]+").hasSizeLessThanOrEqualTo(20);
        try (DiskImage again = Disks.open(first, Mode.READ_WRITE, Format.RAW);
             DiskImage other = Disks.open(second, Mode.READ_WRITE, Format.RAW)) {
            assertThat(again.serial()).isEqualTo(serial);
            assertThat(other.serial()).isNotEqualTo(serial);
        }
    }
}
