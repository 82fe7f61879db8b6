package dev.machina.loader;

import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BzImageTest {
    private static final Path FILE = Path.of("vmlinuz-test");

    /**
     * A bzImage with 2 setup sectors after the boot sector (so the protected-mode kernel starts at
     * 3 * 512 = 0x600) and a 0x1000-byte kernel, header fields at their boot.rst offsets.
     */
    private static ByteBuffer image(int version, int xloadflags) {
        return image(version, xloadflags, 0x1000);
    }

    private static ByteBuffer image(int version, int xloadflags, int kernelSize) {
        ByteBuffer image = ByteBuffer.allocate(0x600 + kernelSize).order(ByteOrder.LITTLE_ENDIAN);
        image.put(0x1F1, (byte) 2);                  // setup_sects
        image.putInt(0x1F4, kernelSize / 16);        // syssize, in 16-byte units
        image.putShort(0x1FE, (short) 0xAA55);       // boot_flag
        image.put(0x200, (byte) 0xEB).put(0x201, (byte) 0x6A); // jmp to 0x26C, the end of a 2.15 header
        image.put(0x202, (byte) 'H').put(0x203, (byte) 'd').put(0x204, (byte) 'r').put(0x205, (byte) 'S');
        image.putShort(0x206, (short) version);
        image.putShort(0x20E, (short) 0x300);        // kernel_version: string at 0x200 + 0x300
        image.put(0x500, "6.1.0-test (builder) #1".getBytes()).put(0x517, (byte) 0);
        image.put(0x211, (byte) 0x01);               // loadflags: LOADED_HIGH
        image.putInt(0x22C, 0x7FFF_FFFF);            // initrd_addr_max
        image.putInt(0x230, 0x20_0000);              // kernel_alignment
        image.put(0x234, (byte) 1);                  // relocatable_kernel
        image.putShort(0x236, (short) xloadflags);
        image.putInt(0x238, 2047);                   // cmdline_size
        image.putInt(0x248, 0x2CC);                  // payload_offset
        image.putInt(0x24C, 0xABC);                  // payload_length
        image.putLong(0x258, 0x100_0000);            // pref_address
        image.putInt(0x260, 0x337_8000);             // init_size
        for (int i = 0; i < kernelSize; i++) {
            image.put(0x600 + i, (byte) (i * 7));
        }
        return image;
    }

    /** A bzImage whose protected-mode kernel is 0x2CC bytes of decompressor, then {@code payload}. */
    private static byte[] withPayload(byte[] payload) {
        int kernelSize = (0x2CC + payload.length + 15) & ~15;
        return image(0x20F, 0x7F, kernelSize)
                .putInt(0x24C, payload.length)
                .put(0x600 + 0x2CC, payload)
                .array();
    }

    private static byte[] xz(byte[] data) {
        return CompressionTest.withSize(CompressionTest.compressed(XZCompressorOutputStream::new, data), data.length);
    }

    private static byte[] bytes(ByteBuffer image) {
        return image.array();
    }

    @Test
    void readsTheHeaderFields() {
        BzImage kernel = BzImage.parse(FILE, bytes(image(0x20F, 0x7F)));

        assertThat(kernel.protocolVersion()).isEqualTo(0x20F);
        assertThat(kernel.protocolVersionText()).isEqualTo("2.15");
        assertThat(kernel.setupSectors()).isEqualTo(2);
        assertThat(kernel.loadFlags()).isEqualTo(1);
        assertThat(kernel.xloadFlags()).isEqualTo(0x7F);
        assertThat(kernel.relocatable()).isTrue();
        assertThat(kernel.kernelAlignment()).isEqualTo(0x20_0000);
        assertThat(kernel.cmdlineSize()).isEqualTo(2047);
        assertThat(kernel.initrdAddressMax()).isEqualTo(0x7FFF_FFFF);
        assertThat(kernel.preferredAddress()).isEqualTo(0x100_0000);
        assertThat(kernel.initSize()).isEqualTo(0x337_8000);
        assertThat(kernel.payloadOffset()).isEqualTo(0x2CC);
        assertThat(kernel.payloadLength()).isEqualTo(0xABC);
        assertThat(kernel.kernelVersion()).contains("6.1.0-test (builder) #1");
    }

    @Test
    void exposesTheSetupHeaderUpToTheJumpTarget() {
        ByteBuffer image = image(0x20F, 0x7F);
        BzImage kernel = BzImage.parse(FILE, bytes(image));

        byte[] header = kernel.setupHeader().toArray(ValueLayout.JAVA_BYTE);
        assertThat(header).hasSize(0x26C - 0x1F1);
        assertThat(header[0]).isEqualTo((byte) 2);
        assertThat(header[0x206 - 0x1F1]).isEqualTo((byte) 0x0F);
    }

    @Test
    void zeroSetupSectorsMeansFour() {
        ByteBuffer image = ByteBuffer.allocate(0xA00 + 0x10).order(ByteOrder.LITTLE_ENDIAN);
        image.put(image(0x20F, 1).array(), 0, 0x600);
        image.put(0x1F1, (byte) 0).putInt(0x1F4, 1).putInt(0x248, 0).putInt(0x24C, 0x10);

        BzImage kernel = BzImage.parse(FILE, image.array());

        assertThat(kernel.setupSectors()).isEqualTo(4);
    }

    @Test
    void refusesProtocolsOlderThan206() {
        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(image(0x205, 0))))
                .isInstanceOf(ImageException.class)
                .hasMessage("vmlinuz-test: boot protocol 2.05 is older than 2.06");
    }

    @Test
    void refusesKernelsWithout64BitEntry() {
        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(image(0x20F, 0x7E))))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith("vmlinuz-test: not a 64-bit kernel");
        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(image(0x20A, 0x7F))))
                .hasMessageStartingWith("vmlinuz-test: not a 64-bit kernel: boot protocol 2.10");
    }

    @Test
    void refusesBadMagic() {
        ByteBuffer noBootFlag = image(0x20F, 1).putShort(0x1FE, (short) 0);
        ByteBuffer noHdrS = image(0x20F, 1).put(0x205, (byte) 's');

        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(noBootFlag))).hasMessageContaining("not a bzImage");
        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(noHdrS))).hasMessageContaining("not a bzImage");
    }

    @Test
    void refusesTruncatedFiles() {
        byte[] whole = bytes(image(0x20F, 1));
        byte[] headerOnly = java.util.Arrays.copyOf(whole, 0x300);
        byte[] shortKernel = java.util.Arrays.copyOf(whole, 0x600 + 0x800);

        assertThatThrownBy(() -> BzImage.parse(FILE, new byte[0x100]))
                .hasMessage("vmlinuz-test: truncated: 256 bytes is too short for a bzImage header");
        assertThatThrownBy(() -> BzImage.parse(FILE, headerOnly)).hasMessageStartingWith("vmlinuz-test: truncated");
        assertThatThrownBy(() -> BzImage.parse(FILE, shortKernel)).hasMessageStartingWith("vmlinuz-test: truncated");
    }

    @Test
    void refusesAPayloadBeyondTheKernelOrNone() {
        ByteBuffer beyond = image(0x20F, 1).putInt(0x24C, 0x1000);
        ByteBuffer none = image(0x20F, 1).putInt(0x24C, 0);

        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(beyond)))
                .hasMessage("vmlinuz-test: truncated: the header places a 4096-byte payload at 0x2cc of the 4096-byte protected-mode kernel");
        assertThatThrownBy(() -> BzImage.parse(FILE, bytes(none)))
                .hasMessage("vmlinuz-test: the header declares no payload (payload_length 0): no compressed kernel to unpack");
    }

    @Test
    void unpacksThePayloadIntoTheVmlinux() {
        byte[] vmlinux = new ElfBuilder().entry(0x100_0000).load(0x100_0000, "startup_64".getBytes(), 0x2000).build();
        byte[] withRelocations = Arrays.copyOf(vmlinux, vmlinux.length + 64);

        ElfImage unpacked = BzImage.parse(FILE, withPayload(xz(withRelocations))).unpack();

        assertThat(unpacked.file()).isEqualTo(FILE);
        assertThat(unpacked.entry()).isEqualTo(0x100_0000);
    }

    @Test
    void aPayloadInNoKnownCompressionIsOneErrorNamingTheFile() {
        byte[] payload = {0x12, 0x34, 0x56, 0x78, 9, 9, 9, 9, 9, 9};

        assertThatThrownBy(() -> BzImage.parse(FILE, withPayload(payload)).unpack())
                .isInstanceOf(ImageException.class)
                .hasMessage("vmlinuz-test: the payload is in no compression Linux uses (it starts with 12 34 56 78 09 09 09 09;"
                        + " gzip, bzip2, lzma, xz, lzo, lz4 and zstd are known)");
    }

    @Test
    void aCorruptPayloadIsOneErrorNamingTheFileAndTheCompression() {
        byte[] payload = xz(new ElfBuilder().load(0x100_0000, new byte[0x1000], 0x1000).build());
        payload[payload.length / 2] ^= 0x55;

        assertThatThrownBy(() -> BzImage.parse(FILE, withPayload(payload)).unpack())
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith("vmlinuz-test: cannot unpack the xz-compressed payload: ");
    }

    @Test
    void aPayloadThatIsNoElfIsOneErrorNamingTheFile() {
        assertThatThrownBy(() -> BzImage.parse(FILE, withPayload(xz(new byte[100]))).unpack())
                .isInstanceOf(ImageException.class)
                .hasMessage("vmlinuz-test: the unpacked payload: not an ELF file (bad magic)");
    }

    @Test
    void readsFromAFileAndNamesAMissingOne(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("vmlinuz");
        Files.write(file, bytes(image(0x20F, 1)));

        assertThat(BzImage.read(file).file()).isEqualTo(file);
        assertThatThrownBy(() -> BzImage.read(directory.resolve("absent")))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(directory.resolve("absent") + ": cannot read the kernel");
    }
}
