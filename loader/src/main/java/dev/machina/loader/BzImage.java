package dev.machina.loader;

import dev.machina.hypervisor.os.FileErrors;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;

import static dev.machina.loader.SetupHeader.*;

/**
 * A Linux x86 kernel in bzImage format, parsed per the boot protocol (Documentation/arch/x86/boot.rst):
 * a real-mode setup part of {@code setup_sects + 1} sectors whose first sector holds the
 * {@link SetupHeader}, followed by the protected-mode kernel: a decompressor and its payload, the
 * compressed vmlinux, which {@link #unpack} unpacks on the host.
 *
 * <p>Machina enters the kernel at its 64-bit entry point, so only kernels with boot protocol 2.12
 * or newer and {@link SetupHeader#XLF_KERNEL_64} are accepted; all other header fields a VMM needs
 * (alignment, where the initrd may go, how much memory the kernel needs, where the payload lies)
 * exist from that version.
 */
public final class BzImage {
    /** The oldest boot protocol with the fields this loader relies on ({@code cmdline_size}). */
    public static final int MIN_PROTOCOL = 0x206;
    /** The first protocol with {@code xloadflags}, hence with a declared 64-bit entry point. */
    public static final int MIN_64_BIT_PROTOCOL = 0x20C;

    private static final int SECTOR = 512;
    private static final int DEFAULT_SETUP_SECTS = 4;
    /** The 2-byte jump instruction at 0x200 skips the rest of the header; its target marks the header's end. */
    private static final long JUMP_OFFSET = 0x200;

    private final Path file;
    private final MemorySegment image;
    private final MemorySegment header;

    private BzImage(Path file, MemorySegment image, MemorySegment header) {
        this.file = file;
        this.image = image;
        this.header = header;
    }

    /**
     * Reads and parses the bzImage {@code file}.
     *
     * @throws ImageException naming the file and what is wrong with it
     */
    public static BzImage read(Path file) {
        try {
            return parse(file, Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ImageException(file, "cannot read the kernel: " + FileErrors.reason(e));
        }
    }

    /** 2^52: x86-64's architectural limit on physical addresses. */
    private static final long PHYSICAL_ADDRESS_LIMIT = 1L << 52;

    /**
     * Parses {@code bytes}, the contents of {@code file}.
     *
     * @throws ImageException naming the file: truncated, bad magic, too old a protocol, no 64-bit entry,
     *     a preferred address and size beyond the physical address space
     */
    public static BzImage parse(Path file, byte[] bytes) {
        MemorySegment image = MemorySegment.ofArray(bytes).asReadOnly();
        if (image.byteSize() < OFFSET + LAYOUT.byteSize()) {
            throw new ImageException(file, "truncated: %d bytes is too short for a bzImage header".formatted(bytes.length));
        }
        MemorySegment header = image.asSlice(OFFSET, LAYOUT.byteSize());
        if (BOOT_FLAG.get(header) != BOOT_FLAG_MAGIC || HEADER.get(header) != HEADER_MAGIC) {
            throw new ImageException(file, "not a bzImage (no 0xAA55 boot flag and \"HdrS\" header magic)");
        }
        long version = VERSION.get(header);
        if (version < MIN_PROTOCOL) {
            throw new ImageException(file, "boot protocol %s is older than 2.06".formatted(versionText(version)));
        }
        if (version < MIN_64_BIT_PROTOCOL || (XLOADFLAGS.get(header) & XLF_KERNEL_64) == 0) {
            throw new ImageException(file, "not a 64-bit kernel: boot protocol %s without the XLF_KERNEL_64 entry point"
                    .formatted(versionText(version)));
        }
        BzImage kernel = new BzImage(file, image, header);
        long kernelStart = kernel.protectedModeOffset();
        if (kernelStart >= image.byteSize() || image.byteSize() - kernelStart < SYSSIZE.get(header) * 16) {
            throw new ImageException(file, "truncated: the header promises %d bytes of setup and %d of kernel, the file has %d"
                    .formatted(kernelStart, SYSSIZE.get(header) * 16, bytes.length));
        }
        // pref_address and init_size are unsigned 64-bit: a kernel that says it needs memory past
        // what an x86-64 CPU can address (or past 2^64) is corrupt, whatever loads it.
        long preferred = kernel.preferredAddress();
        long initSize = kernel.initSize();
        if (Long.compareUnsigned(preferred, PHYSICAL_ADDRESS_LIMIT) >= 0
                || Long.compareUnsigned(initSize, PHYSICAL_ADDRESS_LIMIT - preferred) > 0) {
            throw new ImageException(file, "pref_address 0x%x with init_size 0x%x lies beyond x86-64's 52-bit physical address space"
                    .formatted(preferred, initSize));
        }
        if (kernel.payloadLength() == 0) {
            throw new ImageException(file, "the header declares no payload (payload_length 0): no compressed kernel to unpack");
        }
        if (kernel.payloadOffset() + kernel.payloadLength() > image.byteSize() - kernelStart) {
            throw new ImageException(file, "truncated: the header places a %d-byte payload at 0x%x of the %d-byte protected-mode kernel"
                    .formatted(kernel.payloadLength(), kernel.payloadOffset(), image.byteSize() - kernelStart));
        }
        return kernel;
    }

    public Path file() {
        return file;
    }

    /** The boot protocol version, e.g. 0x20F for 2.15. */
    public int protocolVersion() {
        return (int) VERSION.get(header);
    }

    /** The boot protocol version as "2.15". */
    public String protocolVersionText() {
        return versionText(protocolVersion());
    }

    /** The number of 512-byte sectors of real-mode setup code after the boot sector. */
    public int setupSectors() {
        int sectors = (int) SETUP_SECTS.get(header);
        return sectors == 0 ? DEFAULT_SETUP_SECTS : sectors;
    }

    public int loadFlags() {
        return (int) LOADFLAGS.get(header);
    }

    public int xloadFlags() {
        return (int) XLOADFLAGS.get(header);
    }

    /** Whether the kernel may be loaded at any {@link #kernelAlignment()}-aligned address. */
    public boolean relocatable() {
        return RELOCATABLE_KERNEL.get(header) != 0;
    }

    /** The alignment the kernel must be loaded at (when relocated) and prefers. */
    public long kernelAlignment() {
        return KERNEL_ALIGNMENT.get(header);
    }

    /** The longest command line the kernel accepts, without the terminating NUL. */
    public long cmdlineSize() {
        return CMDLINE_SIZE.get(header);
    }

    /** The highest address the initrd's last byte may occupy. */
    public long initrdAddressMax() {
        return INITRD_ADDR_MAX.get(header);
    }

    /** The address the kernel was linked for; loading it there spares it relocation. */
    public long preferredAddress() {
        return PREF_ADDRESS.get(header);
    }

    /** The memory the kernel needs from its load address on, until it has set up its own page allocator. */
    public long initSize() {
        return INIT_SIZE.get(header);
    }

    /** Where the compressed payload lies, relative to the start of the protected-mode kernel. */
    public long payloadOffset() {
        return PAYLOAD_OFFSET.get(header);
    }

    public long payloadLength() {
        return PAYLOAD_LENGTH.get(header);
    }

    /** The kernel's version string ("6.1.0-... (debian-kernel@...) #1 SMP ..."), if the header points at one. */
    public Optional<String> kernelVersion() {
        long pointer = KERNEL_VERSION.get(header);
        if (pointer == 0 || JUMP_OFFSET + pointer >= protectedModeOffset()) {
            return Optional.empty();
        }
        byte[] setup = image.asSlice(JUMP_OFFSET + pointer, protectedModeOffset() - JUMP_OFFSET - pointer)
                .toArray(ValueLayout.JAVA_BYTE);
        int length = 0;
        while (length < setup.length && setup[length] != 0) {
            length++;
        }
        return Optional.of(new String(setup, 0, length, StandardCharsets.US_ASCII));
    }

    /**
     * The setup header as the kernel declares it, from 0x1F1 to the end its jump instruction
     * marks: the bytes a loader copies into the zero page before filling in its own fields.
     */
    public MemorySegment setupHeader() {
        long end = Math.min(JUMP_OFFSET + 2 + (JUMP.get(header) >>> 8), OFFSET + LAYOUT.byteSize());
        return image.asSlice(OFFSET, end - OFFSET);
    }

    /**
     * Unpacks the payload on the host, as the kernel's decompressor would in the guest: the
     * vmlinux ELF, to be loaded at its physical addresses (where it was linked, so the relocations
     * that may trail it are not needed).
     *
     * @throws ImageException naming the file: an unknown compression, corrupt or truncated data, no ELF inside
     */
    public ElfImage unpack() {
        byte[] payload = payload();
        Compression compression = Compression.of(payload).orElseThrow(() -> new ImageException(file,
                "the payload is in no compression Linux uses (it starts with %s; gzip, bzip2, lzma, xz, lzo, lz4 and zstd are known)"
                        .formatted(HexFormat.ofDelimiter(" ").formatHex(payload, 0, Math.min(payload.length, 8)))));
        byte[] vmlinux;
        try {
            vmlinux = compression.unpack(payload, initSize());
        } catch (IOException e) {
            throw new ImageException(file, "cannot unpack the %s-compressed payload: %s".formatted(compression, e.getMessage()));
        }
        return ElfImage.of(file, "the unpacked payload", vmlinux);
    }

    private byte[] payload() {
        return image.asSlice(protectedModeOffset() + payloadOffset(), payloadLength()).toArray(ValueLayout.JAVA_BYTE);
    }

    private long protectedModeOffset() {
        return (long) (setupSectors() + 1) * SECTOR;
    }

    private static String versionText(long version) {
        return "%d.%02d".formatted(version >>> 8, version & 0xFF);
    }
}
