package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What every image does alike with a request: the range check, splitting it at the image's unit
 * (a qcow2 cluster, a volatile chunk), and zeros to read and to write.
 */
final class Requests {
    private static final int ZEROS_BYTES = 64 << 10;
    private static final byte[] ZERO_ARRAY = new byte[ZEROS_BYTES];
    /** Direct, so that a channel writes from it without copying it first; read-only, so shared by every image. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZEROS_BYTES).asReadOnlyBuffer();

    private Requests() {
    }

    /** The device checks requests against the size before it makes them, so one out of range is a bug. */
    static void checkRange(DiskImage image, long offset, long length) {
        if (offset < 0 || length < 0 || offset > image.size() - length) {
            throw new IllegalArgumentException("request of %d bytes at offset %d is outside the disk's %d bytes"
                    .formatted(length, offset, image.size()));
        }
    }

    /** What to do with the part of a request that lies in one unit. */
    interface RangeAction {
        /** The request's {@code length} bytes in unit {@code unit}, from byte {@code within} of it. */
        void apply(long unit, int within, int length) throws IOException;
    }

    /** What to do with the part of a request's buffer that lies in one unit. */
    interface PieceAction {
        /** {@code piece}'s remaining bytes are the request's in unit {@code unit}, from byte {@code within} of it. */
        void apply(long unit, int within, ByteBuffer piece) throws IOException;
    }

    /** Hands {@code action} the parts of {@code length} bytes at {@code offset} that lie in one unit of {@code 1 << unitBits} bytes each, in order. */
    static void forEachPiece(long offset, long length, int unitBits, RangeAction action) throws IOException {
        long unitBytes = 1L << unitBits;
        for (long at = offset, end = offset + length; at < end; ) {
            int within = (int) (at & (unitBytes - 1));
            int part = (int) Math.min(unitBytes - within, end - at);
            action.apply(at >>> unitBits, within, part);
            at += part;
        }
    }

    /**
     * Hands {@code action} the parts of the request for {@code buffer}'s remaining bytes at
     * {@code offset} that lie in one unit each: the buffer's limit is set at the part's end for it,
     * and its position there afterwards, whatever the action left it at.
     */
    static void forEachPiece(long offset, ByteBuffer buffer, int unitBits, PieceAction action) throws IOException {
        int limit = buffer.limit();
        try {
            forEachPiece(offset, buffer.remaining(), unitBits, (unit, within, length) -> {
                int end = buffer.position() + length;
                buffer.limit(end);
                action.apply(unit, within, buffer);
                buffer.position(end);
            });
        } finally {
            buffer.limit(limit);
        }
    }

    /** Puts {@code length} zero bytes into {@code target}. */
    static void fillZeros(ByteBuffer target, int length) {
        for (int left = length; left > 0; left -= ZEROS_BYTES) {
            target.put(ZERO_ARRAY, 0, Math.min(left, ZEROS_BYTES));
        }
    }

    /** Writes {@code length} zero bytes to {@code image} at {@code offset}, a chunk of a shared zero buffer at a time. */
    static void writeZeroes(DiskImage image, long offset, long length) throws IOException {
        for (long done = 0; done < length; done += ZEROS_BYTES) {
            image.write(offset + done, ZEROS.slice(0, (int) Math.min(length - done, ZEROS_BYTES)));
        }
    }
}
