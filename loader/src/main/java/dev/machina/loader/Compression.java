package dev.machina.loader;

import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lzo.LzoDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorInputStream;
import org.apache.commons.compress.compressors.lzma.LZMACompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * The compressions Linux's build can give a bzImage's payload ({@code CONFIG_KERNEL_GZIP} to
 * {@code CONFIG_KERNEL_ZSTD}), told apart by the magic number each format starts with, as the
 * kernel's lib/decompress.c tells them apart. The codecs are pure-Java libraries: Commons Compress
 * (with XZ for Java) for gzip, bzip2, lzma, xz and LZ4 blocks, aircompressor for LZO and Zstandard
 * blocks; only the two container formats no library reads as the kernel writes them, LZ4's legacy
 * frame and lzop's, are walked here.
 *
 * <p>The build appends the uncompressed size, 32 bits little-endian, to every compressed stream
 * but gzip's, whose own trailer already ends with it (ISIZE): the last 4 bytes of a payload are
 * its size either way.
 */
enum Compression {
    GZIP("gzip", true, 0x1F, 0x8B) {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            return readWhole(new GzipCompressorInputStream(new ByteArrayInputStream(stream)), size);
        }
    },
    BZIP2("bzip2", false, 'B', 'Z', 'h') {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            return readWhole(new BZip2CompressorInputStream(new ByteArrayInputStream(stream)), size);
        }
    },
    /** The .lzma ("LZMA alone") format of {@code lzma -9}: its first byte holds lc=3, lp=0, pb=2. */
    LZMA("lzma", false, 0x5D, 0x00) {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            return readWhole(new LZMACompressorInputStream(new ByteArrayInputStream(stream)), size);
        }
    },
    XZ("xz", false, 0xFD, '7', 'z', 'X', 'Z', 0x00) {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            return readWhole(new XZCompressorInputStream(new ByteArrayInputStream(stream)), size);
        }
    },
    /** {@code lzop -9}'s container: a header, then blocks of LZO1X (or stored) data. */
    LZO("lzo", false, 0x89, 'L', 'Z', 'O', 0x00, '\r', '\n', 0x1A, '\n') {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            return Lzop.decompress(stream, magicLength(), size);
        }
    },
    /** {@code lz4 -l}: the legacy frame, its magic then blocks of at most 8 MiB, each a 32-bit length and an LZ4 block. */
    LZ4("lz4", false, 0x02, 0x21, 0x4C, 0x18) {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            Output output = new Output(size);
            ByteBuffer input = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN).position(magicLength());
            while (input.hasRemaining()) {
                if (input.remaining() < Integer.BYTES) {
                    throw new IOException("truncated LZ4 block length at offset " + input.position());
                }
                int length = input.getInt();
                // Streams may be concatenated, each beginning with the magic again.
                if (length == LZ4_LEGACY_MAGIC) {
                    continue;
                }
                if (Integer.toUnsignedLong(length) > input.remaining()) {
                    throw new IOException("truncated: an LZ4 block of %d bytes at offset %d, %d bytes left"
                            .formatted(Integer.toUnsignedLong(length), input.position(), input.remaining()));
                }
                output.fill(new BlockLZ4CompressorInputStream(new ByteArrayInputStream(stream, input.position(), length)));
                input.position(input.position() + length);
            }
            return output.whole();
        }
    },
    ZSTD("zstd", false, 0x28, 0xB5, 0x2F, 0xFD) {
        @Override
        byte[] decompress(byte[] stream, int size) throws IOException {
            Output output = new Output(size);
            try {
                output.filledTo(new ZstdDecompressor().decompress(withWindowInReach(stream), 0, stream.length,
                        output.array(), 0, size));
            } catch (MalformedInputException e) {
                throw new IOException(e.getMessage(), e);
            }
            return output.whole();
        }
    };

    private static final int LZ4_LEGACY_MAGIC = 0x184C_2102;
    private static final int SIZE_TRAILER = Integer.BYTES;
    /** The longest array a JVM allocates, with room for its header. */
    private static final long LARGEST_ARRAY = Integer.MAX_VALUE - 8;

    private final String displayName;
    private final boolean sizeEndsTheStream;
    private final byte[] magic;

    Compression(String displayName, boolean sizeEndsTheStream, int... magic) {
        this.displayName = displayName;
        this.sizeEndsTheStream = sizeEndsTheStream;
        this.magic = new byte[magic.length];
        for (int i = 0; i < magic.length; i++) {
            this.magic[i] = (byte) magic[i];
        }
    }

    /** The compression whose magic number {@code payload} starts with, if any. */
    static Optional<Compression> of(byte[] payload) {
        return Arrays.stream(values())
                .filter(compression -> payload.length >= compression.magic.length
                        && Arrays.equals(payload, 0, compression.magic.length, compression.magic, 0, compression.magic.length))
                .findFirst();
    }

    /**
     * Unpacks a whole payload, compressed stream and size trailer.
     *
     * @param sizeLimit the most the payload may unpack to (the kernel's {@code init_size}), so that
     *                  a corrupt size trailer cannot make the loader allocate gigabytes
     * @throws IOException saying what is wrong: corrupt or truncated data, a size other than the trailer's
     */
    byte[] unpack(byte[] payload, long sizeLimit) throws IOException {
        if (payload.length < magic.length + SIZE_TRAILER) {
            throw new IOException("the payload is only %d bytes long".formatted(payload.length));
        }
        long size = Integer.toUnsignedLong(ByteBuffer.wrap(payload, payload.length - SIZE_TRAILER, SIZE_TRAILER)
                .order(ByteOrder.LITTLE_ENDIAN).getInt());
        if (size > Math.min(sizeLimit, LARGEST_ARRAY)) {
            throw new IOException("its last 4 bytes give the unpacked size as %d bytes, more than the %d the header's init_size allows"
                    .formatted(size, Math.min(sizeLimit, LARGEST_ARRAY)));
        }
        byte[] stream = sizeEndsTheStream ? payload : Arrays.copyOf(payload, payload.length - SIZE_TRAILER);
        return decompress(stream, Math.toIntExact(size));
    }

    /** Decompresses {@code stream} (without the size trailer, unless the format ends with it) into exactly {@code size} bytes. */
    abstract byte[] decompress(byte[] stream, int size) throws IOException;

    int magicLength() {
        return magic.length;
    }

    /** How the kernel's configuration names it ("xz" for {@code CONFIG_KERNEL_XZ}). */
    @Override
    public String toString() {
        return displayName;
    }

    private static byte[] readWhole(InputStream decompressed, int size) throws IOException {
        Output output = new Output(size);
        try (decompressed) {
            output.fill(decompressed);
        }
        return output.whole();
    }

    /**
     * The kernel compresses with {@code zstd -22 --ultra} from a pipe, which declares a 128 MiB
     * window; aircompressor refuses windows over 8 MiB ("not yet supported") although it decodes
     * into one buffer holding the whole output, where every match lies in reach whatever the
     * window. The window descriptor says how much history a streaming decoder must keep and
     * nothing else, so a copy declaring 8 MiB decodes to the same bytes; the frame's content
     * checksum, which aircompressor checks, still guards the result.
     */
    private static byte[] withWindowInReach(byte[] stream) {
        int frameHeaderDescriptor = 4;
        int singleSegment = 0x20;
        int windowDescriptor = 5;
        byte eightMebibytes = (byte) ((23 - 10) << 3);
        if (stream.length <= windowDescriptor || (stream[frameHeaderDescriptor] & singleSegment) != 0
                || Byte.toUnsignedInt(stream[windowDescriptor]) <= Byte.toUnsignedInt(eightMebibytes)) {
            return stream;
        }
        byte[] copy = stream.clone();
        copy[windowDescriptor] = eightMebibytes;
        return copy;
    }

    /** The unpacked bytes, filled in order, never past the size the payload declares. */
    private static final class Output {
        private final byte[] bytes;
        private int filled;

        Output(int size) {
            bytes = new byte[size];
        }

        /** Appends all of {@code in}, which must fit. */
        void fill(InputStream in) throws IOException {
            filled += in.readNBytes(bytes, filled, bytes.length - filled);
            if (filled == bytes.length && in.read() >= 0) {
                throw moreThanDeclared();
            }
        }

        /** Claims the next {@code count} bytes, which a decoder writes into {@link #array()}, and returns where they start. */
        int reserve(int count) throws IOException {
            if (count > bytes.length - filled) {
                throw moreThanDeclared();
            }
            filled += count;
            return filled - count;
        }

        /** Records that a decoder wrote the first {@code count} bytes of {@link #array()}. */
        void filledTo(int count) {
            filled = count;
        }

        byte[] array() {
            return bytes;
        }

        private IOException moreThanDeclared() {
            return new IOException("the payload unpacks to more than the %d bytes its last 4 bytes give".formatted(bytes.length));
        }

        byte[] whole() throws IOException {
            if (filled != bytes.length) {
                throw new IOException("the payload unpacks to %d bytes, its last 4 bytes give %d".formatted(filled, bytes.length));
            }
            return bytes;
        }
    }

    /**
     * lzop's container as lzop writes it (and lib/decompress_unlzo.c reads it): magic, header,
     * then blocks of an unpacked and a packed length (big-endian), the checksums the header's
     * flags ask for, and the data, LZO1X-compressed or, where that did not pay, stored. A block
     * with unpacked length 0 ends the file.
     */
    private static final class Lzop {
        private static final int NEWER_HEADER_VERSION = 0x0940;
        private static final int ADLER32_UNPACKED = 0x0001;
        private static final int ADLER32_PACKED = 0x0002;
        private static final int EXTRA_FIELD = 0x0040;
        private static final int CRC32_UNPACKED = 0x0100;
        private static final int CRC32_PACKED = 0x0200;
        private static final int FILTER = 0x0800;

        static byte[] decompress(byte[] stream, int headerStart, int size) throws IOException {
            ByteBuffer input = ByteBuffer.wrap(stream).order(ByteOrder.BIG_ENDIAN).position(headerStart);
            try {
                int version = Short.toUnsignedInt(input.getShort());
                skip(input, Short.BYTES);                           // the LZO library's version
                skip(input, version >= NEWER_HEADER_VERSION ? Short.BYTES : 0); // the version needed to extract
                skip(input, 1);                                     // method: all are LZO1X to decompress
                skip(input, version >= NEWER_HEADER_VERSION ? 1 : 0); // level
                int flags = input.getInt();
                if ((flags & FILTER) != 0) {
                    throw new IOException("lzop filter %d is not supported (Linux's build uses none)".formatted(input.getInt()));
                }
                skip(input, 2 * Integer.BYTES + (version >= NEWER_HEADER_VERSION ? Integer.BYTES : 0)); // mode, mtime
                skip(input, Byte.toUnsignedInt(input.get()) + Integer.BYTES); // file name, header checksum
                if ((flags & EXTRA_FIELD) != 0) {
                    skip(input, input.getInt() + Integer.BYTES);
                }
                return blocks(input, flags, size);
            } catch (BufferUnderflowException | IllegalArgumentException e) {
                throw new IOException("truncated lzop header or block at offset " + input.position(), e);
            }
        }

        private static byte[] blocks(ByteBuffer input, int flags, int size) throws IOException {
            Output output = new Output(size);
            LzoDecompressor lzo = new LzoDecompressor();
            for (int unpacked = input.getInt(); unpacked != 0; unpacked = input.getInt()) {
                int packed = input.getInt();
                if (unpacked < 0 || packed < 0 || packed > unpacked) {
                    throw new IOException("an lzop block of %d bytes claims to unpack to %d, at offset %d"
                            .formatted(Integer.toUnsignedLong(packed), Integer.toUnsignedLong(unpacked), input.position()));
                }
                int checksums = Integer.bitCount(flags & (ADLER32_UNPACKED | CRC32_UNPACKED))
                        + (packed < unpacked ? Integer.bitCount(flags & (ADLER32_PACKED | CRC32_PACKED)) : 0);
                skip(input, checksums * Integer.BYTES);
                if (packed > input.remaining()) {
                    throw new IOException("truncated: an lzop block of %d bytes at offset %d, %d bytes left"
                            .formatted(packed, input.position(), input.remaining()));
                }
                int at = output.reserve(unpacked);
                if (packed == unpacked) {
                    System.arraycopy(input.array(), input.position(), output.array(), at, packed);
                } else {
                    decompressBlock(lzo, input, packed, output.array(), at, unpacked);
                }
                skip(input, packed);
            }
            return output.whole();
        }

        private static void decompressBlock(LzoDecompressor lzo, ByteBuffer input, int packed, byte[] output, int at,
                                            int unpacked) throws IOException {
            int produced;
            try {
                produced = lzo.decompress(input.array(), input.position(), packed, output, at, unpacked);
            } catch (MalformedInputException e) {
                throw new IOException("corrupt LZO block at offset %d: %s".formatted(input.position(), e.getMessage()), e);
            }
            if (produced != unpacked) {
                throw new IOException("the LZO block at offset %d unpacks to %d bytes, its header gives %d"
                        .formatted(input.position(), produced, unpacked));
            }
        }

        private static void skip(ByteBuffer input, int count) {
            input.position(input.position() + count);
        }
    }
}
