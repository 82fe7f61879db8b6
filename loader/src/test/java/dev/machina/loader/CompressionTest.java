package dev.machina.loader;

import io.airlift.compress.lzo.LzopHadoopStreams;
import io.airlift.compress.zstd.ZstdCompressor;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorOutputStream;
import org.apache.commons.compress.compressors.lzma.LZMACompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tukaani.xz.FilterOptions;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.X86Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Each compression a kernel payload can have, unpacked from streams that the Java libraries'
 * compressors make with the kernel build's settings and, where no Java library writes the
 * kernel's container, from fixtures made by the real tools (see payloads/README.md).
 */
class CompressionTest {
    private static final long NO_LIMIT = Integer.MAX_VALUE;
    /** The fixtures' input: {@code seq 1 3000 | sed 's/^/line /'}. */
    private static final byte[] LINES = IntStream.rangeClosed(1, 3000).mapToObj(i -> "line " + i + "\n")
            .collect(Collectors.joining()).getBytes(StandardCharsets.US_ASCII);
    /** 320 KiB shaped like a kernel image: random bytes, near-repeats of them for matches to find, and zeros. */
    private static final byte[] KERNEL_LIKE = kernelLike();

    private static byte[] kernelLike() {
        byte[] bytes = new byte[320 << 10];
        Random random = new Random(42);
        byte[] block = new byte[64 << 10];
        random.nextBytes(block);
        for (int copy = 0; copy < 4; copy++) {
            block[random.nextInt(block.length)] ^= 1;
            System.arraycopy(block, 0, bytes, copy * block.length, block.length);
        }
        return bytes;
    }

    /** Each compression's payloads, made once for all the tests. */
    private static final List<Arguments> PAYLOADS = List.of(
                arguments(Compression.GZIP, compressed(GzipCompressorOutputStream::new, KERNEL_LIKE), KERNEL_LIKE),
                arguments(Compression.BZIP2, withSize(compressed(out -> new BZip2CompressorOutputStream(out, 9), KERNEL_LIKE),
                        KERNEL_LIKE.length), KERNEL_LIKE),
                arguments(Compression.LZMA, withSize(compressed(LZMACompressorOutputStream::new, KERNEL_LIKE),
                        KERNEL_LIKE.length), KERNEL_LIKE),
                // As scripts/xz_wrap.sh: the x86 branch filter, then LZMA2, with a CRC32 check.
                arguments(Compression.XZ, withSize(compressed(out -> new XZOutputStream(out,
                        new FilterOptions[] {new X86Options(), new LZMA2Options()}, XZ.CHECK_CRC32), KERNEL_LIKE),
                        KERNEL_LIKE.length), KERNEL_LIKE),
                arguments(Compression.LZO, withSize(compressed(out -> new LzopHadoopStreams().createOutputStream(out), KERNEL_LIKE),
                        KERNEL_LIKE.length), KERNEL_LIKE),
                arguments(Compression.LZO, withSize(fixture("lines.lzo"), LINES.length), LINES),
                arguments(Compression.LZ4, withSize(fixture("lines.lz4"), LINES.length), LINES),
                arguments(Compression.ZSTD, withSize(zstd(KERNEL_LIKE), KERNEL_LIKE.length), KERNEL_LIKE),
                arguments(Compression.ZSTD, withSize(fixture("lines.zst"), LINES.length), LINES));

    static Stream<Arguments> payloads() {
        return PAYLOADS.stream();
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("payloads")
    void unpacksWhatTheCompressorsMake(Compression compression, byte[] payload, byte[] original) throws IOException {
        assertThat(Compression.of(payload)).contains(compression);
        assertThat(compression.unpack(payload, NO_LIMIT)).isEqualTo(original);
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("payloads")
    void aTruncatedStreamIsAnIOException(Compression compression, byte[] payload, byte[] original) {
        byte[] stream = Arrays.copyOf(payload, payload.length - 4);
        byte[] truncated = withSize(Arrays.copyOf(stream, stream.length / 2), original.length);

        assertThatThrownBy(() -> compression.unpack(truncated, NO_LIMIT)).isInstanceOf(IOException.class);
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("payloads")
    void aSizeOtherThanTheOneItUnpacksToIsRefused(Compression compression, byte[] payload, byte[] original) {
        if (compression == Compression.GZIP) {
            return; // gzip's size is its own ISIZE field, which its decompressor checks
        }
        byte[] stream = Arrays.copyOf(payload, payload.length - 4);

        assertThatThrownBy(() -> compression.unpack(withSize(stream, original.length - 1), NO_LIMIT))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> compression.unpack(withSize(stream, original.length + 1), NO_LIMIT))
                .isInstanceOf(IOException.class).hasMessageContaining("its last 4 bytes give " + (original.length + 1));
    }

    @Test
    void aSizeBeyondTheLimitIsRefusedBeforeAnythingIsAllocated() {
        byte[] payload = withSize(compressed(out -> new BZip2CompressorOutputStream(out, 9), LINES), Integer.MAX_VALUE);

        assertThatThrownBy(() -> Compression.BZIP2.unpack(payload, 1 << 20))
                .isInstanceOf(IOException.class)
                .hasMessage("its last 4 bytes give the unpacked size as 2147483647 bytes, more than the 1048576 the header's init_size allows");
    }

    /** Legacy LZ4 streams of several blocks, and streams one after another, each starting with the magic. */
    @Test
    void lz4ReadsEveryBlockOfConcatenatedLegacyStreams() throws IOException {
        byte[] first = Arrays.copyOfRange(KERNEL_LIKE, 0, 100_000);
        byte[] second = Arrays.copyOfRange(KERNEL_LIKE, 100_000, 250_000);
        byte[] third = Arrays.copyOfRange(KERNEL_LIKE, 250_000, KERNEL_LIKE.length);
        ByteBuffer frame = ByteBuffer.allocate(KERNEL_LIKE.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        frame.putInt(0x184C_2102);
        for (byte[] block : new byte[][] {first, second}) {
            byte[] packed = compressed(BlockLZ4CompressorOutputStream::new, block);
            frame.putInt(packed.length).put(packed);
        }
        byte[] packed = compressed(BlockLZ4CompressorOutputStream::new, third);
        frame.putInt(0x184C_2102).putInt(packed.length).put(packed);

        byte[] payload = withSize(Arrays.copyOf(frame.array(), frame.position()), KERNEL_LIKE.length);

        assertThat(Compression.LZ4.unpack(payload, NO_LIMIT)).isEqualTo(KERNEL_LIKE);
    }

    @Test
    void otherMagicNumbersAreNoCompression() {
        assertThat(Compression.of(ElfBuilder.littleEndianInt(0x464C_457F))).isEmpty();
        assertThat(Compression.of(new byte[] {0x1F})).isEmpty();
        assertThat(Compression.of(new byte[0])).isEmpty();
    }

    interface Compressor {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    static byte[] compressed(Compressor compressor, byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = compressor.wrap(bytes)) {
            out.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] zstd(byte[] data) {
        ZstdCompressor compressor = new ZstdCompressor();
        byte[] out = new byte[compressor.maxCompressedLength(data.length)];
        return Arrays.copyOf(out, compressor.compress(data, 0, data.length, out, 0, out.length));
    }

    /** {@code stream} with the 32-bit little-endian size the kernel's build appends. */
    static byte[] withSize(byte[] stream, int size) {
        return ByteBuffer.allocate(stream.length + 4).order(ByteOrder.LITTLE_ENDIAN).put(stream).putInt(size).array();
    }

    private static byte[] fixture(String name) {
        try (InputStream in = CompressionTest.class.getResourceAsStream("payloads/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test fixture payloads/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
