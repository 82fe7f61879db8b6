package dev.machina.vmm.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestConfigFileTest {
    @TempDir
    Path directory;

    private ConfigValues read(String json) throws IOException {
        Files.writeString(directory.resolve("guest.cfg"), json);
        return GuestConfigFile.read(directory.resolve("guest.cfg"), ConfigSource.file("pkg/guest.cfg", List.of(directory)));
    }

    private GuestConfig resolve(String json) throws IOException {
        return read(json).resolve();
    }

    private void kernel(String name) throws IOException {
        Files.writeString(directory.resolve(name), "not really a kernel");
    }

    @Test
    void readsEveryKey() throws IOException {
        kernel("vmlinux");
        kernel("initrd");
        kernel("disk.img");
        kernel("data.qcow");
        GuestConfig config = resolve("""
                {
                  // comments are allowed
                  "linux": "vmlinux", "ramdisk": "initrd",
                  "block": ["disk.img,ro", "data.qcow,volatile,qcow"],
                  "cmdline": "console=ttyS0", "cmdline-add": ["quiet", "panic=-1"],
                  "cpus": 3, "memory": "512M", "backend": "KVM",
                  "virtio-net": true, "virtio-rng": true, "virtio-gpu": false
                }""");
        assertThat(config.kernel()).isEqualTo(new GuestConfig.Kernel.Linux(directory.resolve("vmlinux")));
        assertThat(config.ramdisk()).contains(directory.resolve("initrd"));
        assertThat(config.blocks()).containsExactly(
                new BlockSpec(directory.resolve("disk.img"), BlockSpec.Mode.READ_ONLY, BlockSpec.Format.RAW),
                new BlockSpec(directory.resolve("data.qcow"), BlockSpec.Mode.VOLATILE, BlockSpec.Format.QCOW));
        assertThat(config.cmdline()).isEqualTo("console=ttyS0 quiet panic=-1");
        assertThat(config.cpus()).isEqualTo(3);
        assertThat(config.memoryBytes()).isEqualTo(512L * 1024 * 1024);
        assertThat(config.backend()).isEqualTo("kvm");
        assertThat(config.virtioDevices()).isEqualTo(Set.of(VirtioDevice.NET, VirtioDevice.RNG));
    }

    @Test
    void defaultsWhatIsNotSaid() throws IOException {
        kernel("zircon.bin");
        GuestConfig config = resolve("{\"zircon\": \"zircon.bin\"}");
        assertThat(config.kernel()).isEqualTo(new GuestConfig.Kernel.Zircon(directory.resolve("zircon.bin")));
        assertThat(config.cpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.memoryBytes()).isEqualTo(1L << 30);
        assertThat(config.backend()).isEqualTo("auto");
        assertThat(config.cmdline()).isEmpty();
        assertThat(config.blocks()).isEmpty();
        assertThat(config.virtioDevices()).isEmpty();
    }

    @Test
    void flagsReplaceValuesAndAddToLists(@TempDir Path workingDirectory) throws IOException {
        kernel("vmlinux");
        Files.writeString(workingDirectory.resolve("other-kernel"), "");
        Files.writeString(workingDirectory.resolve("extra.img"), "");
        kernel("disk.img");
        ConfigValues values = read("""
                {"linux": "vmlinux", "memory": "1G", "cpus": 2, "cmdline": "a", "cmdline-add": "b", "block": "disk.img"}""");
        ConfigSource flags = ConfigSource.flags(workingDirectory);
        values.set(ConfigKey.MEMORY, "64M", flags);
        values.set(ConfigKey.CMDLINE_ADD, "c", flags);
        values.set(ConfigKey.BLOCK, "extra.img,ro", flags);
        values.set(ConfigKey.LINUX, "other-kernel", flags);
        values.set(ConfigKey.VIRTIO_VSOCK, "true", flags);
        GuestConfig config = values.resolve();
        assertThat(config.memoryBytes()).isEqualTo(64L << 20);
        assertThat(config.cpus()).isEqualTo(2);
        assertThat(config.cmdline()).isEqualTo("a b c");
        assertThat(config.blocks()).extracting(BlockSpec::path)
                .containsExactly(directory.resolve("disk.img"), workingDirectory.resolve("extra.img"));
        assertThat(config.kernel().path()).isEqualTo(workingDirectory.resolve("other-kernel"));
        assertThat(config.virtioDevices()).containsExactly(VirtioDevice.VSOCK);
    }

    @Test
    void aBlockFlagNamingTheFilesDiskChangesItsOptionsInPlace(@TempDir Path workingDirectory) throws IOException {
        kernel("vmlinux");
        kernel("disk.img");
        kernel("data.img");
        Files.createSymbolicLink(workingDirectory.resolve("link.img"), directory.resolve("data.img"));
        ConfigValues values = read("{\"linux\": \"vmlinux\", \"block\": [\"disk.img\", \"data.img,ro\"]}");
        ConfigSource flags = ConfigSource.flags(workingDirectory);
        values.set(ConfigKey.BLOCK, directory.resolve("disk.img") + ",volatile", flags);
        values.set(ConfigKey.BLOCK, "link.img,rw", flags);

        assertThat(values.resolve().blocks()).containsExactly(
                new BlockSpec(directory.resolve("disk.img"), BlockSpec.Mode.VOLATILE, BlockSpec.Format.RAW),
                new BlockSpec(workingDirectory.resolve("link.img"), BlockSpec.Mode.READ_WRITE, BlockSpec.Format.RAW));
    }

    @Test
    void aKernelFlagReplacesTheFilesKernelOfTheOtherProtocol(@TempDir Path workingDirectory) throws IOException {
        kernel("vmlinux");
        Files.writeString(workingDirectory.resolve("zircon.zbi"), "");
        ConfigValues values = read("{\"linux\": \"vmlinux\"}");
        values.set(ConfigKey.ZIRCON, "zircon.zbi", ConfigSource.flags(workingDirectory));
        assertThat(values.resolve().kernel()).isEqualTo(new GuestConfig.Kernel.Zircon(workingDirectory.resolve("zircon.zbi")));
    }

    @Test
    void unknownKey() {
        assertThatThrownBy(() -> read("{\"linux\": \"vmlinux\", \"memroy\": \"1G\"}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("pkg/guest.cfg: unknown key \"memroy\" (known: linux, zircon,");
    }

    @Test
    void wrongType() {
        assertThatThrownBy(() -> read("{\"cpus\": \"two\"}"))
                .hasMessage("pkg/guest.cfg: key \"cpus\": expected a positive whole number, found the string \"two\"");
        assertThatThrownBy(() -> read("{\"virtio-net\": 1}"))
                .hasMessage("pkg/guest.cfg: key \"virtio-net\": expected true or false, found the number 1");
        assertThatThrownBy(() -> read("{\"cmdline-add\": [\"quiet\", 3]}"))
                .hasMessage("pkg/guest.cfg: key \"cmdline-add\": expected a string, found the number 3");
        assertThatThrownBy(() -> read("{\"block\": {\"path\": \"disk.img\"}}"))
                .hasMessage("pkg/guest.cfg: key \"block\": expected a block device \"path[,ro|rw|volatile][,raw|qcow]\""
                        + " or a list of them, found an object");
    }

    @Test
    void malformedJson() {
        assertThatThrownBy(() -> read("{\"linux\": \"vmlinux\",\n \"cpus\" 2}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("pkg/guest.cfg: malformed JSON at line 2, column");
        assertThatThrownBy(() -> read("[1, 2]"))
                .hasMessage("pkg/guest.cfg: expected a JSON object of settings, found a list");
        assertThatThrownBy(() -> read("{\"cpus\": 1, \"cpus\": 2}"))
                .hasMessageContaining("pkg/guest.cfg: malformed JSON").hasMessageContaining("Duplicate field 'cpus'");
    }

    @Test
    void jsonProblemsAreOneLineInTheUsersWords() {
        assertThatThrownBy(() -> read("{\"linux\": \"vmlinux\""))
                .hasMessage("pkg/guest.cfg: malformed JSON: the file ends before the closing } of an object at line 1, column 20");
        assertThatThrownBy(() -> read(""))
                .hasMessage("pkg/guest.cfg: is empty: expected a JSON object of settings such as {\"linux\": \"vmlinuz\"}");
        assertThatThrownBy(() -> read("// nothing but a comment\n"))
                .hasMessageStartingWith("pkg/guest.cfg: is empty");
        assertThatThrownBy(() -> read("{\"memory\": \"1G\"} {\"cpus\": 1000}"))
                .hasMessage("pkg/guest.cfg: malformed JSON at line 1, column 18: text after the settings' closing }");
    }

    @Test
    void aByteOrderMarkIsAccepted() throws IOException {
        assertThat(read("\uFEFF{\"cpus\": 2}")).isNotNull();
    }

    @Test
    void aNulInTheCommandLineIsRefusedNotTruncated() {
        assertThatThrownBy(() -> read("{\"cmdline\": \"console=ttyS0\\u0000 quiet\"}"))
                .hasMessage("pkg/guest.cfg: key \"cmdline\": contains a NUL character at 13, where the kernel would stop reading");
    }

    @Test
    void aPathThatIsNotAFileSaysWhatItIs() throws IOException {
        Files.createDirectory(directory.resolve("kernels"));
        assertThatThrownBy(() -> resolve("{\"linux\": \"kernels\"}"))
                .hasMessage("pkg/guest.cfg: key \"linux\": \"kernels\" (" + directory.resolve("kernels") + "): is a directory, not a file");
        assertThatThrownBy(() -> resolve("{\"linux\": \"/dev/null\"}"))
                .hasMessage("pkg/guest.cfg: key \"linux\": \"/dev/null\": is a character device, not a file");
    }

    @Test
    void sizeThatDoesNotParse() {
        assertThatThrownBy(() -> read("{\"memory\": \"12Q\"}"))
                .hasMessage("pkg/guest.cfg: key \"memory\": \"12Q\" is not a size (use b, k, M or G)");
    }

    @Test
    void tooLittleMemory() throws IOException {
        kernel("vmlinux");
        assertThatThrownBy(() -> resolve("{\"linux\": \"vmlinux\", \"memory\": \"1k\"}"))
                .hasMessage("pkg/guest.cfg: key \"memory\": 1k is too little memory (at least 2M)");
    }

    @Test
    void moreCpusThanApicIdsIsRefusedAtTheConfigCheck() throws IOException {
        kernel("vmlinux");
        assertThat(resolve("{\"linux\": \"vmlinux\", \"cpus\": 255}").cpus()).isEqualTo(255);
        assertThatThrownBy(() -> resolve("{\"linux\": \"vmlinux\", \"cpus\": 256}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pkg/guest.cfg: key \"cpus\": 256 vCPUs is more than x86's 8-bit APIC ids allow (at most 255)");
        assertThat(resolve("{\"linux\": \"vmlinux\"}").cpus()).isBetween(1, 255);
    }

    @Test
    void aResolvedConfigNamesWhereEachKeyWasSet(@TempDir Path workingDirectory) throws IOException {
        kernel("vmlinux");
        ConfigValues values = read("{\"linux\": \"vmlinux\", \"memory\": \"1G\"}");
        assertThat(values.resolve().error(ConfigKey.MEMORY, "too much")).hasMessage("pkg/guest.cfg: key \"memory\": too much");
        values.set(ConfigKey.MEMORY, "2G", ConfigSource.flags(workingDirectory));
        assertThat(values.resolve().error(ConfigKey.MEMORY, "too much")).hasMessage("--memory: too much");
        assertThat(values.resolve().error(ConfigKey.CPUS, "too many")).hasMessage("the default \"cpus\": too many");
    }

    @Test
    void cpuCountThatDoesNotParse() {
        assertThatThrownBy(() -> read("{\"cpus\": 0}"))
                .hasMessage("pkg/guest.cfg: key \"cpus\": \"0\" is not a positive whole number");
        ConfigValues values = new ConfigValues(ConfigSource.flags(directory));
        assertThatThrownBy(() -> values.set(ConfigKey.CPUS, "many", ConfigSource.flags(directory)))
                .hasMessage("--cpus: \"many\" is not a positive whole number");
    }

    @Test
    void missingFile() {
        assertThatThrownBy(() -> resolve("{\"linux\": \"vmlinux\"}"))
                .hasMessage("pkg/guest.cfg: key \"linux\": file \"vmlinux\" does not exist (looked in " + directory + ")");
    }

    @Test
    void badBlockSpec() {
        assertThatThrownBy(() -> read("{\"block\": \"disk.img,fast\"}"))
                .hasMessage("pkg/guest.cfg: key \"block\": \"disk.img,fast\": unknown block option \"fast\""
                        + " (use ro, rw or volatile, and raw or qcow)");
    }

    @Test
    void netNamesTapsInOrderWithTheirMacs() throws IOException {
        kernel("vmlinux");
        GuestConfig config = read("{\"linux\": \"vmlinux\", \"net\": [\"tap:tap0\", \"tap:tap1,mac=02:00:00:AB:cd:01\"]}").resolve();
        assertThat(config.nets()).containsExactly(new NetSpec("tap0", java.util.Optional.empty()),
                new NetSpec("tap1", java.util.Optional.of(new MacAddress(0x0200_00AB_CD01L))));
        assertThat(config.nets().get(1)).hasToString("tap:tap1,mac=02:00:00:ab:cd:01");
    }

    @Test
    void badNetSpecsSayWhatIsWrongInOneLine() {
        assertThatThrownBy(() -> read("{\"net\": \"user\"}"))
                .hasMessage("pkg/guest.cfg: key \"net\": \"user\" is not a network device (use tap:IFNAME[,mac=XX:XX:XX:XX:XX:XX])");
        assertThatThrownBy(() -> read("{\"net\": \"tap:tap0,mac=52:54:00:12:34\"}"))
                .hasMessage("pkg/guest.cfg: key \"net\": \"52:54:00:12:34\" is not a MAC address (six hexadecimal bytes such as 52:54:00:12:34:56)");
        assertThatThrownBy(() -> read("{\"net\": \"tap:tap0,mac=01:00:5e:00:00:01\"}"))
                .hasMessageContaining("is a multicast address");
        assertThatThrownBy(() -> read("{\"net\": \"tap:a-name-far-too-long\"}"))
                .hasMessageContaining("is not an interface name (1 to 15");
    }

    @Test
    void bothOrNeitherKernel() throws IOException {
        kernel("a");
        assertThatThrownBy(() -> resolve("{\"linux\": \"a\", \"zircon\": \"a\"}"))
                .hasMessage("pkg/guest.cfg: has both \"linux\" and \"zircon\"; name one kernel");
        assertThatThrownBy(() -> resolve("{\"cpus\": 1}"))
                .hasMessage("pkg/guest.cfg: needs a kernel: \"linux\" or \"zircon\"");
    }

    @Test
    void unknownBackend() {
        assertThatThrownBy(() -> read("{\"backend\": \"xen\"}"))
                .hasMessage("pkg/guest.cfg: key \"backend\": \"xen\" is not one of auto, kvm, java");
    }
}
