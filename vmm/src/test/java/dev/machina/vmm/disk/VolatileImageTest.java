package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec.Format;
import dev.machina.vmm.config.BlockSpec.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class VolatileImageTest {
    /** Not a whole number of the overlay's 64 KiB chunks, so that the last one is short. */
    private static final int SIZE = (1 << 20) + 1000;

    @TempDir
    Path directory;

    private final Random random = new Random(2);

    @Test
    void theGuestSeesItsWritesButTheFileNeverChanges() throws IOException {
        Path path = Files.write(directory.resolve("disk.img"), Disks.random(random, SIZE));
        byte[] before = Files.readAllBytes(path);
        byte[] expected = before.clone();
        String serial;
        try (DiskImage base = Disks.open(path, Mode.READ_ONLY, Format.RAW)) {
            serial = base.serial();
        }
        try (DiskImage disk = Disks.open(path, Mode.VOLATILE, Format.RAW)) {
            assertThat(disk.readOnly()).isFalse();
            assertThat(disk.size()).isEqualTo(SIZE);
            assertThat(disk.serial()).isEqualTo(serial);
            Disks.write(disk, expected, 100, Disks.random(random, 50));                 // part of a chunk
            Disks.write(disk, expected, 65_000, Disks.random(random, 200_000));         // across several
            Disks.write(disk, expected, 3 << 16, Disks.random(random, 1 << 16));        // one whole
            Disks.write(disk, expected, SIZE - 10, Disks.random(random, 10));           // the short last one
            disk.writeZeroes(300_000, 70_000, true);
            Arrays.fill(expected, 300_000, 370_000, (byte) 0);
            disk.flush();
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
        Disks.assertSameBytes(Files.readAllBytes(path), before);
    }

    @Test
    void discardGivesBackTheChunksWhollyInsideAndTheBaseShowsAgain() throws IOException {
        Path path = Files.write(directory.resolve("disk.img"), Disks.random(random, SIZE));
        byte[] base = Files.readAllBytes(path);
        try (DiskImage disk = Disks.open(path, Mode.VOLATILE, Format.RAW)) {
            byte[] expected = base.clone();
            Disks.write(disk, expected, 0, Disks.random(random, SIZE));
            assertThat(disk.supportsDiscard()).isTrue();
            disk.discard(1 << 16, (3 << 16) - 100);   // chunks 1 and 2 whole, 3 in part
            disk.discard(SIZE - 1000, 1000);          // all of the short last one
            System.arraycopy(base, 1 << 16, expected, 1 << 16, 2 << 16);
            System.arraycopy(base, SIZE - 1000, expected, SIZE - 1000, 1000);
            Disks.assertSameBytes(Disks.readAll(disk), expected);
        }
    }
}
