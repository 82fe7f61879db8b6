package dev.machina.vmm.disk;

import dev.machina.hypervisor.os.FileErrors;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * An image's file on the host: positional reads that see zeros past its end (as in a sparse
 * file's holes), writes that write everything they are given. A read-only one is never opened for
 * writing, so a guest cannot change it whatever goes wrong above.
 */
final class HostFile implements Closeable {
    /** virtio-blk's GET_ID answer holds 20 bytes. */
    private static final int SERIAL_BYTES = 20;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final String serial;

    private HostFile(Path path, FileChannel channel, boolean readOnly, String serial) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.serial = serial;
    }

    /** Makes an image of an open file; the file is closed again if that fails. */
    interface Opener {
        DiskImage open(HostFile file) throws IOException;
    }

    /**
     * Opens {@code path} and hands it to {@code opener}; an I/O error while it reads the file
     * becomes a {@link DiskImageException} naming the file.
     */
    static DiskImage open(Path path, boolean readOnly, Opener opener) throws DiskImageException {
        HostFile file = open(path, readOnly);
        try {
            return opener.open(file);
        } catch (DiskImageException | RuntimeException e) {
            file.closeAfter(e);
            throw e;
        } catch (IOException e) {
            DiskImageException problem = file.problem("cannot read it: " + FileErrors.reason(e));
            file.closeAfter(problem);
            throw problem;
        }
    }

    private static HostFile open(Path path, boolean readOnly) throws DiskImageException {
        Optional<String> unusable = FileErrors.unusableAsFile(path);
        if (unusable.isPresent()) {
            throw new DiskImageException(path, unusable.get());
        }
        try {
            String serial = serialOf(path);
            FileChannel channel = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (!lock(channel, readOnly)) {
                channel.close();
                throw new DiskImageException(path, "is in use: another VMM has it open" + (readOnly ? " for writing" : ""));
            }
            return new HostFile(path, channel, readOnly, serial);
        } catch (DiskImageException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new DiskImageException(path, "no such file");
        } catch (AccessDeniedException e) {
            throw new DiskImageException(path, "permission denied" + (readOnly ? "" : " to write it (open it ro or volatile to only read it)"));
        } catch (IOException e) {
            throw new DiskImageException(path, "cannot open it: " + FileErrors.reason(e));
        }
    }

    /**
     * Locks the whole file, shared to read it, exclusive to write it (a POSIX record lock, which
     * the kernel drops with the process), and returns whether it could: two VMMs never write one
     * image, nor does one read an image another writes. QEMU tests for records like these before it
     * opens an image, so it keeps out of Machina's; it holds only shared locks of its own on single
     * bytes, so Machina does not see QEMU's (QEMU's protocol is not followed). Within this process the JVM refuses a
     * second lock on the same bytes even when both are shared; a file this VMM already holds is one
     * guest.cfg names once (a repeated {@code block} changes the first), so it is a backing file
     * several images share, read-only: it is read without a lock of its own.
     */
    private static boolean lock(FileChannel channel, boolean shared) throws IOException {
        try {
            return channel.tryLock(0, Long.MAX_VALUE, shared) != null;
        } catch (OverlappingFileLockException e) {
            return shared;
        }
    }

    /**
     * Firecracker's choice of serial: the file's device and inode numbers ({@code "803-1a2b3c"},
     * in hex), which stay the same while it is the same file, through renames and reboots, and
     * differ between any two files on the host; a copy of the image is another disk. Where they do
     * not fit in 20 bytes the end is kept, where the inode tells files apart. Without a unix file
     * view there is none, as QEMU gives none unless told one.
     */
    private static String serialOf(Path path) throws IOException {
        try {
            String id = Long.toHexString((Long) Files.getAttribute(path, "unix:dev"))
                    + "-" + Long.toHexString((Long) Files.getAttribute(path, "unix:ino"));
            return id.substring(Math.max(0, id.length() - SERIAL_BYTES));
        } catch (UnsupportedOperationException e) {
            return "";
        }
    }

    Path path() {
        return path;
    }

    boolean readOnly() {
        return readOnly;
    }

    String serial() {
        return serial;
    }

    long size() throws IOException {
        return channel.size();
    }

    /** A problem with this file, for the message {@code "<file>: <problem>"}. */
    DiskImageException problem(String problem) {
        return new DiskImageException(path, problem);
    }

    /** Throws if the image was opened read-only: the device answers the guest's write with an I/O error. */
    void checkWritable() throws DiskImageException {
        if (readOnly) {
            throw problem("is read-only");
        }
    }

    /** Fills {@code target}'s remaining bytes from {@code position}; those past the end of the file read as zeros. */
    void read(long position, ByteBuffer target) throws IOException {
        while (target.hasRemaining()) {
            int read = channel.read(target, position);
            if (read < 0) {
                Requests.fillZeros(target, target.remaining());
                return;
            }
            position += read;
        }
    }

    void write(long position, ByteBuffer source) throws IOException {
        while (source.hasRemaining()) {
            position += channel.write(source, position);
        }
    }

    /** Everything written so far is on the disk, file size included. */
    void force() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void closeAfter(Exception failure) {
        try {
            close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
