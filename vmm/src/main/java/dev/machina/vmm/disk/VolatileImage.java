package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * A disk whose writes are kept in memory over a read-only image and lost when it is closed: the
 * file is never opened for writing. Memory grows with what the guest writes, 64 KiB per chunk
 * written to, up to the disk's size; a discard gives it back.
 */
final class VolatileImage implements DiskImage {
    /** The overlay's unit: a write to part of a chunk not written before first copies the rest from the base. */
    private static final int CHUNK_BITS = 16;

    private final DiskImage base;
    private final Map<Long, byte[]> chunks = new HashMap<>();

    VolatileImage(DiskImage base) {
        this.base = base;
    }

    @Override
    public long size() {
        return base.size();
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public String serial() {
        return base.serial();
    }

    @Override
    public void read(long offset, ByteBuffer target) throws IOException {
        Requests.checkRange(this, offset, target.remaining());
        Requests.forEachPiece(offset, target, CHUNK_BITS, (chunk, within, piece) -> {
            byte[] written = chunks.get(chunk);
            if (written == null) {
                base.read(start(chunk) + within, piece);
            } else {
                piece.put(written, within, piece.remaining());
            }
        });
    }

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        Requests.checkRange(this, offset, source.remaining());
        Requests.forEachPiece(offset, source, CHUNK_BITS, (chunk, within, piece) -> {
            byte[] written = chunks.get(chunk);
            if (written == null) {
                written = new byte[(int) Math.min(1 << CHUNK_BITS, size() - start(chunk))];
                if (piece.remaining() < written.length) {
                    base.read(start(chunk), ByteBuffer.wrap(written));
                }
                chunks.put(chunk, written);
            }
            piece.get(written, within, piece.remaining());
        });
    }

    private static long start(long chunk) {
        return chunk << CHUNK_BITS;
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean supportsDiscard() {
        return true;
    }

    /** Forgets the chunks wholly inside the range, giving their memory back: they read as the base's bytes again. */
    @Override
    public void discard(long offset, long length) {
        Requests.checkRange(this, offset, length);
        long first = Math.ceilDiv(offset, 1L << CHUNK_BITS);
        long end = offset + length == size() ? Math.ceilDiv(size(), 1L << CHUNK_BITS) : (offset + length) >>> CHUNK_BITS;
        chunks.keySet().removeIf(chunk -> chunk >= first && chunk < end);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        Requests.checkRange(this, offset, length);
        Requests.writeZeroes(this, offset, length);
    }

    @Override
    public void close() throws IOException {
        chunks.clear();
        base.close();
    }
}
