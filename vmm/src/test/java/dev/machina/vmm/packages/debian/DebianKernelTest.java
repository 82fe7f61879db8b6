package dev.machina.vmm.packages.debian;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BzImage;
import dev.machina.loader.ElfImage;
import dev.machina.loader.SetupHeader;
import dev.machina.vmm.boot.linux.BootArguments;
import dev.machina.vmm.boot.linux.E820Map;
import dev.machina.vmm.boot.linux.LinuxBoot;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's kernels in the download cache (the integration tests' guests fetch them): each one
 * parsed, its payload unpacked on the host and laid out as a guest gets it.
 */
class DebianKernelTest {
    private static final Path DOWNLOADS = GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home")))
            .resolve("debian");
    private static final Pattern KERNEL_DEB = Pattern.compile("linux-image-(\\d+\\.\\d+\\.\\d+[-+][^_]*-amd64)_.*_amd64\\.deb");
    private static final long LOAD_ADDRESS = 0x100_0000;

    @TempDir
    Path directory;

    static Stream<String> cachedKernels() throws IOException {
        List<String> debs;
        try (Stream<Path> files = Files.exists(DOWNLOADS) ? Files.list(DOWNLOADS) : Stream.empty()) {
            debs = files.map(file -> file.getFileName().toString()).filter(name -> KERNEL_DEB.matcher(name).matches())
                    .sorted().toList();
        }
        assumeTrue(!debs.isEmpty(), "no linux-image-*-amd64 .deb in " + DOWNLOADS
                + ": the integration tests download them, or `apt-get download linux-image-6.1.0-<n>-cloud-amd64` there");
        return debs.stream();
    }

    @ParameterizedTest
    @MethodSource("cachedKernels")
    void theBzImageIsUnpackedAndEnteredAtItsVmlinuxsStartup64(String debName) throws Exception {
        Matcher name = KERNEL_DEB.matcher(debName);
        assertThat(name.matches()).isTrue();
        String release = name.group(1);
        List<Path> extracted = DebPackage.open(DOWNLOADS.resolve(debName)).extract(DebPackage.glob("boot/vmlinuz-*"), directory);
        assertThat(extracted).containsExactly(directory.resolve("boot/vmlinuz-" + release));
        BzImage kernel = BzImage.read(extracted.getFirst());

        assertThat(kernel.kernelVersion()).hasValueSatisfying(version -> assertThat(version).startsWith(release + " "));
        assertThat(kernel.protocolVersion()).isGreaterThanOrEqualTo(0x20F);
        assertThat(kernel.xloadFlags() & SetupHeader.XLF_KERNEL_64).isNotZero();
        assertThat(kernel.preferredAddress()).isEqualTo(LOAD_ADDRESS);
        ElfImage vmlinux = kernel.unpack();
        assertThat(vmlinux.entry()).as("startup_64, physical").isBetween(LOAD_ADDRESS, LOAD_ADDRESS + 0x1000);

        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(512L << 20))) {
            X86State state = LinuxBoot.bzImage(memory, kernel, new BootArguments(
                    "console=ttyS0", Optional.empty(), OptionalLong.empty(), E820Map.standard(memory.regions())));

            assertThat(state.get(Register.RIP)).isEqualTo(vmlinux.entry());
            assertThat(state.get(Register.RSI)).isEqualTo(LinuxBoot.BOOT_PARAMS);
            assertThat(memory.readShort(LinuxBoot.BOOT_PARAMS + 0x206)).isEqualTo((short) kernel.protocolVersion());
            assertThat(memory.readByte(LinuxBoot.BOOT_PARAMS + 0x210)).as("type_of_loader").isEqualTo((byte) 0xFF);
            assertThat(memory.readByte(LinuxBoot.BOOT_PARAMS + 0x211)).as("loadflags").isEqualTo((byte) SetupHeader.LOADED_HIGH);
            assertThat(bannerIn(memory)).as("the kernel's own banner, in its .rodata at its link address")
                    .startsWith("Linux version " + release + " (");
        }
    }

    /** The "Linux version ..." line the kernel prints first, found in the 64 MiB it was loaded to. */
    private static String bannerIn(GuestMemory memory) {
        byte[] image = new byte[64 << 20];
        memory.read(LOAD_ADDRESS, image, 0, image.length);
        String text = new String(image, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("Linux version ");
        return at < 0 ? "" : text.substring(at, text.indexOf('\n', at));
    }
}
