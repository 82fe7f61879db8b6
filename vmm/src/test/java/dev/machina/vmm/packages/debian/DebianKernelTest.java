package dev.machina.vmm.packages.debian;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BzImage;
import dev.machina.loader.SetupHeader;
import dev.machina.vmm.boot.linux.BootArguments;
import dev.machina.vmm.boot.linux.E820Map;
import dev.machina.vmm.boot.linux.LinuxBoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
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

/** Debian's cloud kernel from the download cache, parsed and laid out as a guest would get it. */
class DebianKernelTest {
    private static final Path CACHE = Path.of(System.getProperty("user.home"), ".cache/machina/debian");
    private static final Pattern KERNEL_DEB = Pattern.compile("linux-image-(\\d+\\.\\d+\\.\\d+-\\d+-cloud-amd64)_.*_amd64\\.deb");

    @TempDir
    Path directory;

    @Test
    void cachedCloudKernelIsA64BitBzImageThatLinuxBootLaysOut() throws Exception {
        Path deb;
        try (Stream<Path> files = Files.exists(CACHE) ? Files.list(CACHE) : Stream.empty()) {
            deb = files.filter(file -> KERNEL_DEB.matcher(file.getFileName().toString()).matches()).findFirst().orElse(null);
        }
        assumeTrue(deb != null, "no linux-image-*-cloud-amd64 .deb in " + CACHE
                + ": fetch one with `apt-get download linux-image-cloud-amd64`'s dependency there");
        Matcher name = KERNEL_DEB.matcher(deb.getFileName().toString());
        assertThat(name.matches()).isTrue();
        String release = name.group(1);

        List<Path> extracted = DebPackage.open(deb).extract(DebPackage.glob("boot/vmlinuz-*"), directory);
        assertThat(extracted).containsExactly(directory.resolve("boot/vmlinuz-" + release));
        Path vmlinuz = extracted.getFirst();
        BzImage kernel = BzImage.read(vmlinuz);

        assertThat(kernel.kernelVersion()).hasValueSatisfying(version -> assertThat(version).startsWith(release + " "));
        assertThat(kernel.protocolVersion()).isGreaterThanOrEqualTo(0x20F);
        assertThat(kernel.xloadFlags() & SetupHeader.XLF_KERNEL_64).isNotZero();
        assertThat(kernel.relocatable()).isTrue();
        assertThat(kernel.kernelAlignment()).isEqualTo(0x20_0000);
        assertThat(kernel.preferredAddress()).isEqualTo(0x100_0000);
        assertThat(kernel.initSize()).isGreaterThan(kernel.protectedModeKernel().byteSize());
        assertThat(kernel.payloadOffset() + kernel.payloadLength()).isLessThanOrEqualTo(kernel.protectedModeKernel().byteSize());
        long setupBytes = (kernel.setupSectors() + 1) * 512L;
        assertThat(kernel.protectedModeKernel().byteSize()).isEqualTo(Files.size(vmlinuz) - setupBytes);

        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(512L << 20))) {
            X86State state = LinuxBoot.bzImage(memory, kernel, new BootArguments(
                    "console=ttyS0", Optional.empty(), OptionalLong.empty(), E820Map.standard(memory.regions())));

            assertThat(state.get(Register.RIP)).isEqualTo(0x100_0200);
            byte[] file = Files.readAllBytes(vmlinuz);
            byte[] loaded = new byte[4096];
            memory.read(0x100_0000 + 0x200, loaded, 0, loaded.length);
            assertThat(loaded).isEqualTo(java.util.Arrays.copyOfRange(file, (int) setupBytes + 0x200, (int) setupBytes + 0x200 + 4096));
            assertThat(memory.readShort(0x7000 + 0x206)).isEqualTo((short) kernel.protocolVersion());
            assertThat(memory.readByte(0x7000 + 0x210)).isEqualTo((byte) 0xFF);
            assertThat(kernel.setupHeader().toArray(ValueLayout.JAVA_BYTE)).hasSize(0x26C - 0x1F1);
        }
    }
}
