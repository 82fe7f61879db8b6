package dev.machina.loader.zbi;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The item types of Zircon's boot image that Machina reads, writes or names (Fuchsia's
 * {@code lib/zbi-format}). Each code is four ASCII characters read as a little-endian number; an
 * image may hold types not listed here, which are kept and shown by number.
 */
public enum ZbiType {
    CONTAINER(0x544F_4F42),
    KERNEL_X64(0x4C4E_524B),
    KERNEL_ARM64(0x384E_524B),
    DISCARD(0x5049_4B53),
    STORAGE_RAMDISK(0x4B53_4452),
    STORAGE_BOOTFS(0x4253_4642),
    CMDLINE(0x4C44_4D43),
    CRASHLOG(0x4D4F_4F42),
    PLATFORM_ID(0x4449_4C50),
    CPU_TOPOLOGY(0x544F_504F),
    MEM_CONFIG(0x434D_454D),
    KERNEL_DRIVER(0x5652_444B),
    ACPI_RSDP(0x5044_5352),
    SMBIOS(0x4942_4D53),
    E820_TABLE(0x3032_3845),
    FRAMEBUFFER(0x4246_5753);

    /** Every kernel type is 'KRN' and a letter for its architecture. */
    private static final int KERNEL_PREFIX = 0x004E_524B;
    private static final int KERNEL_MASK = 0x00FF_FFFF;

    private final int code;

    ZbiType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type whose code is {@code code}, if Machina knows it. */
    public static Optional<ZbiType> of(int code) {
        for (ZbiType type : values()) {
            if (type.code == code) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }

    /** {@code KERNEL_X64} for a known code, else the code in hex ({@code 0x12345678}). */
    public static String name(int code) {
        return of(code).map(Enum::name).orElse("0x%08x".formatted(code));
    }

    /**
     * The code a name given on a command line stands for: a type's name (any case) or a number in
     * hex ({@code 0x...}).
     *
     * @throws IllegalArgumentException naming the known types
     */
    public static int parse(String text) {
        if (text.startsWith("0x") || text.startsWith("0X")) {
            try {
                return Integer.parseUnsignedInt(text.substring(2), 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + text + "\" is not a 32-bit hex number");
            }
        }
        try {
            return valueOf(text.toUpperCase(Locale.ROOT)).code;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown item type \"%s\" (known: %s, or a number 0x...)"
                    .formatted(text, String.join(", ", Arrays.stream(values()).map(Enum::name).toList())));
        }
    }

    /** Whether {@code code} is a kernel item of some architecture. */
    public static boolean isKernel(int code) {
        return (code & KERNEL_MASK) == KERNEL_PREFIX;
    }
}
