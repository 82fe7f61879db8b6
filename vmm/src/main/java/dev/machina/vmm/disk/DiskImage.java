package dev.machina.vmm.disk;

import dev.machina.vmm.config.BlockSpec;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A disk as a guest sees it: {@link #size()} bytes, read and written at byte offsets. Not
 * thread-safe: the block device serializes its requests on one thread.
 *
 * <p>A request reaching past {@link #size()} throws {@link IllegalArgumentException}: the device
 * checks every request against the size before making it, so one here is a bug. Failures of the
 * host file, and corruption found in a qcow2 image's tables on the way, throw {@link IOException}
 * (a {@link DiskImageException} names the file and the problem), which the device answers with
 * VIRTIO_BLK_S_IOERR. The buffers may be direct; steady-state raw I/O allocates nothing.
 */
public sealed interface DiskImage extends Closeable permits RawImage, Qcow2Image, VolatileImage {
    /**
     * Opens the image {@code spec} names: read-write, read-only (the file is never opened for
     * writing) or volatile (read-only beneath, the guest's writes kept in memory), as a raw file
     * or a qcow2 image.
     *
     * @throws DiskImageException with one line naming the file and the problem: missing,
     *     unreadable, a qcow2 image opened as raw (the guest would see and could overwrite its
     *     tables) or a raw file opened as qcow2, a qcow2 version or feature Machina does not
     *     support, a corrupt header or table, a backing file that cannot be opened (naming both)
     */
    static DiskImage open(BlockSpec spec) throws DiskImageException {
        DiskImage image = HostFile.open(spec.path(), spec.mode() != BlockSpec.Mode.READ_WRITE, file -> switch (spec.format()) {
            case QCOW -> Qcow2Image.open(file);
            case RAW -> {
                if (Qcow2Header.hasMagic(file)) {
                    throw file.problem("is a qcow2 image: add ,qcow to use it as one (as a raw disk the guest would see"
                            + " its qcow2 tables and could overwrite them)");
                }
                yield new RawImage(file);
            }
        });
        return spec.mode() == BlockSpec.Mode.VOLATILE ? new VolatileImage(image) : image;
    }

    /** The disk's size in bytes (a qcow2 image's virtual size). */
    long size();

    /** Whether writes, discards and zeroing are refused (with a {@link DiskImageException}). */
    boolean readOnly();

    /**
     * An id for virtio-blk's GET_ID, at most 20 ASCII bytes: the file's device and inode numbers
     * in hex ({@code "803-1a2b3c"}), the same every time the file is opened, through renames and
     * reboots, and different for every other file on the host (a copy is another disk). A volatile
     * disk has its file's; without a unix file view it is empty.
     */
    String serial();

    /**
     * Fills {@code target}'s remaining bytes with the disk's from {@code offset}; what was never
     * written reads as zeros, or from a qcow2 image's backing file.
     */
    void read(long offset, ByteBuffer target) throws IOException;

    /** Writes {@code source}'s remaining bytes at {@code offset}. */
    void write(long offset, ByteBuffer source) throws IOException;

    /** Makes everything written so far durable: on the disk, tables included; a volatile disk has nothing to make so. */
    void flush() throws IOException;

    /** Whether {@link #discard} frees space, so that the device offers VIRTIO_BLK_F_DISCARD. */
    boolean supportsDiscard();

    /**
     * Tells the image the guest no longer needs these bytes, so that it may free their space; what
     * they read as afterwards is unspecified (the guest must not rely on zeros). An image that
     * cannot free space does nothing.
     */
    void discard(long offset, long length) throws IOException;

    /**
     * Makes these bytes read as zeros. With {@code mayUnmap} the image may free their space
     * instead of writing zeros into it, as if discarded; without it, space they have stays theirs.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException;
}
