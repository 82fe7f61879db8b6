package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A raw image: the file's bytes are the disk's, and its size when opened is the disk's size.
 *
 * <p>Discarding frees nothing: that takes {@code fallocate(FALLOC_FL_PUNCH_HOLE)}, which Java's
 * file API does not reach, and writing zeros instead would cost the guest's trim the writes without
 * giving back any space. So the device does not offer discard for it, and
 * {@link #writeZeroes} writes zeros.
 */
final class RawImage implements DiskImage {
    private final HostFile file;
    private final long size;

    RawImage(HostFile file) throws IOException {
        this.file = file;
        this.size = file.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return file.readOnly();
    }

    @Override
    public String serial() {
        return file.serial();
    }

    @Override
    public void read(long offset, ByteBuffer target) throws IOException {
        Requests.checkRange(this, offset, target.remaining());
        file.read(offset, target);
    }

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, source.remaining());
        file.write(offset, source);
    }

    @Override
    public void flush() throws IOException {
        if (!file.readOnly()) {
            file.force();
        }
    }

    @Override
    public boolean supportsDiscard() {
        return false;
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, length);
        Requests.writeZeroes(this, offset, length);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
