package dev.machina.cli;

import dev.machina.vmm.config.ConfigKey;
import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code guest launch} through the command's real entry point, with a fake backend. */
class LaunchCommandTest {
    @TempDir
    Path workingDirectory;
    @TempDir
    Path cache;

    private final FakeBackend backend = new FakeBackend();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final ByteArrayOutputStream messages = new ByteArrayOutputStream();

    private Environment environment() {
        return new Environment(InputStream.nullInputStream(), console, new PrintStream(messages, true, StandardCharsets.UTF_8),
                false, new GuestPackages(Optional.empty(), cache, workingDirectory), backend.backends(),
                new InstanceRegistry(cache.resolve("run")));
    }

    private int guest(String... args) {
        return GuestCommand.run(environment(), args);
    }

    private String messages() {
        return messages.toString(StandardCharsets.UTF_8);
    }

    private void writePackage(String config) throws IOException {
        Files.createDirectories(workingDirectory.resolve("pkg"));
        Files.writeString(workingDirectory.resolve("pkg/guest.cfg"), config);
        Files.writeString(workingDirectory.resolve("pkg/kernel.elf"), "");
    }

    @Test
    void everyGuestCfgKeyIsALaunchFlag() {
        var launch = GuestCommand.commandLine(environment()).getSubcommands().get("launch").getCommandSpec();
        for (ConfigKey key : ConfigKey.values()) {
            assertThat(launch.findOption("--" + key.key())).as(key.key()).isNotNull();
        }
    }

    @Test
    void aBadConfigurationIsOneErrorNamingFileAndKeyAndNothingStarts() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\", \"memory\": \"12Q\"}");
        int status = guest("launch", "pkg");
        assertThat(status).isEqualTo(1);
        assertThat(messages()).isEqualTo("guest: pkg/guest.cfg: key \"memory\": \"12Q\" is not a size (use b, k, M or G)\n");
        assertThat(backend.opened).hasValue(0);
        assertThat(console.size()).isZero();
    }

    @Test
    void aMissingKernelIsReportedBeforeAnythingStarts() throws IOException {
        writePackage("{\"linux\": \"vmlinux\"}");
        assertThat(guest("launch", "pkg")).isEqualTo(1);
        assertThat(messages()).startsWith("guest: pkg/guest.cfg: key \"linux\": file \"vmlinux\" does not exist");
        assertThat(backend.opened).hasValue(0);
    }

    @Test
    void aBadFlagIsOneErrorNamingTheFlag() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\"}");
        assertThat(guest("launch", "pkg", "--cpus=0")).isEqualTo(1);
        assertThat(messages()).isEqualTo("guest: --cpus: \"0\" is not a positive whole number\n");
        assertThat(backend.opened).hasValue(0);
    }

    @Test
    void anUnknownFlagIsAUsageErrorWithStatusOneNotTheRebootStatus() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\"}");
        assertThat(guest("launch", "pkg", "--memroy=1G")).isEqualTo(1);
        assertThat(messages()).startsWith("Unknown option: '--memroy=1G'");
        assertThat(backend.opened).hasValue(0);
    }

    @Test
    void anUnknownPackageIsAnError() {
        assertThat(guest("launch", "nowhere")).isEqualTo(1);
        assertThat(messages()).isEqualTo("guest: no guest package \"nowhere\": not a directory with a guest.cfg\n");
    }

    @Test
    void aFlagOverridesTheFile() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\", \"memory\": \"1G\", \"backend\": \"kvm\"}");
        int status = guest("launch", "pkg", "--memory=64M", "--backend", "java");
        assertThat(status).isEqualTo(1);
        assertThat(backend.memoryAskedFor).hasValue(64L << 20);
        assertThat(messages()).contains("backend: java (fake)", "guest: " + FakeBackend.REFUSAL);
    }

    @Test
    void withoutFlagsTheFileDecides() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\", \"memory\": \"3M\", \"backend\": \"java\"}");
        guest("launch", "pkg");
        assertThat(backend.memoryAskedFor).hasValue(3L << 20);
    }

    @Test
    void memoryBeyondTheBackendsLimitIsOneLineBeforeTheBackendOpens() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\", \"backend\": \"java\"}");
        assertThat(guest("launch", "pkg", "--memory=16384G")).isEqualTo(1);
        assertThat(messages()).isEqualTo("backend: java (fake)\n"
                + "guest: --memory: 16384G is more than the java backend can give a guest here: at most 4G (the fake's limit)\n");
        assertThat(backend.opened).hasValue(0);
    }

    @Test
    void tooManyCpusIsOneLineNamingTheFlag() throws IOException {
        writePackage("{\"linux\": \"kernel.elf\"}");
        assertThat(guest("launch", "pkg", "--cpus=256")).isEqualTo(1);
        assertThat(messages()).isEqualTo("guest: --cpus: 256 vCPUs is more than x86's 8-bit APIC ids allow (at most 255)\n");
        assertThat(backend.opened).hasValue(0);
    }
}
