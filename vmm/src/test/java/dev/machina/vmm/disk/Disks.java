package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Opening, writing and reading disks in tests as the block device does: through direct buffers, and into a model of the bytes expected. */
final class Disks {
    private Disks() {
    }

    static DiskImage open(Path path, BlockSpec.Mode mode, BlockSpec.Format format) throws DiskImageException {
        return DiskImage.open(new BlockSpec(path, mode, format));
    }

    static byte[] random(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code data} to the disk at {@code offset}, and into {@code expected}. */
    static void write(DiskImage disk, byte[] expected, long offset, byte[] data) throws IOException {
        disk.write(offset, ByteBuffer.allocateDirect(data.length).put(data).flip());
        System.arraycopy(data, 0, expected, (int) offset, data.length);
    }

    static byte[] read(DiskImage disk, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length);
        disk.read(offset, buffer);
        byte[] bytes = new byte[length];
        buffer.flip().get(bytes);
        return bytes;
    }

    /** Compares disks' worth of bytes, naming the first that differs rather than printing them all. */
    static void assertSameBytes(byte[] actual, byte[] expected) {
        assertThat(actual.length).as("the length").isEqualTo(expected.length);
        assertThat(Arrays.mismatch(actual, expected)).as("the offset of the first byte that differs").isEqualTo(-1);
    }

    /** The whole disk, read a MiB at a time. */
    static byte[] readAll(DiskImage disk) throws IOException {
        byte[] all = new byte[(int) disk.size()];
        for (int at = 0; at < all.length; at += 1 << 20) {
            byte[] part = read(disk, at, Math.min(1 << 20, all.length - at));
            System.arraycopy(part, 0, all, at, part.length);
        }
        return all;
    }
}
