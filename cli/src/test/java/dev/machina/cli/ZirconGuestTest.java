package dev.machina.cli;

import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.hypervisor.Backends;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.loader.zbi.ZbiType;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code guest launch zircon_guest} on each backend, through the command's entry point: the
 * package is built from its recipe (assembled, linked, written as a ZBI), booted by the Zircon
 * protocol with a ramdisk ZBI of more items, and the guest's own checks pass. A backend that
 * cannot run here is skipped with the reason.
 */
@Timeout(120)
class ZirconGuestTest {
    private static final Path REPOSITORY = Path.of("").toAbsolutePath().getParent();
    private static final String GUEST_ITEM = "zircon_guest: item ";
    private static final String VMM_ITEM = "zircon:   ";

    @TempDir
    Path cache;
    @TempDir
    Path directory;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final ByteArrayOutputStream messages = new ByteArrayOutputStream();

    @BeforeAll
    static void requireBinutils() throws InterruptedException {
        try {
            assumeTrue(new ProcessBuilder("as", "--version").start().waitFor() == 0, "GNU as does not run here");
        } catch (IOException e) {
            assumeTrue(false, "GNU as (binutils) is not installed");
        }
    }

    private int launch(String backend, String... flags) {
        return guest(backend, "launch", "zircon_guest", flags);
    }

    /** Runs {@code guest COMMAND TARGET --backend=BACKEND FLAGS...}, skipped where the backend cannot run. */
    private int guest(String backend, String command, String target, String... flags) {
        try {
            Backends.installed().choose(backend);
        } catch (HypervisorException e) {
            assumeTrue(false, e.getMessage());
        }
        Environment environment = new Environment(InputStream.nullInputStream(), console,
                new PrintStream(messages, true, StandardCharsets.UTF_8), false,
                new GuestPackages(Optional.of(REPOSITORY.resolve("packages")), cache, directory), Backends.installed(),
                new InstanceRegistry(cache.resolve("run")));
        List<String> args = new ArrayList<>(List.of(command, target));
        if (command.equals("launch")) {
            args.add("--backend=" + backend);
        }
        args.addAll(List.of(flags));
        return GuestCommand.run(environment, args.toArray(String[]::new));
    }

    private List<String> lines(ByteArrayOutputStream stream, String prefix) {
        return stream.toString(StandardCharsets.UTF_8).replace("\r", "").lines()
                .filter(line -> line.startsWith(prefix)).map(line -> line.substring(prefix.length())).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "kvm"})
    void everyItemTheVmmPassedReachesTheGuestAndEveryCheckPasses(String backend) {
        ZbiItem bootfs = ZbiItem.of(ZbiType.STORAGE_BOOTFS.code(), 0, new byte[] {1, 2, 3});
        ZbiItem commandLine = ZbiItem.commandLine("from.the.ramdisk=1");
        Path ramdisk = directory.resolve("ramdisk.zbi");
        new Zbi(List.of(bootfs, commandLine)).write(ramdisk);

        int status = launch(backend, "--ramdisk=" + ramdisk);

        String output = console.toString(StandardCharsets.UTF_8);
        assertThat(status).as("exit status; console:%n%s%nmessages:%n%s", output, messages).isZero();
        assertThat(output).contains("zircon_guest: every check passed").doesNotContain("FAILED");
        assertThat(messages.toString(StandardCharsets.UTF_8))
                .contains("zircon_guest: writing zircon_guest.zbi (the kernel as a ZBI)", "guest: guest powered off");
        List<String> passed = lines(messages, VMM_ITEM);
        assertThat(passed).as("what the VMM says it passed").hasSize(4);
        assertThat(passed.getFirst()).isEqualTo("CMDLINE \"zircon_guest.greeting=hello\"");
        List<String> expected = new ArrayList<>(List.of(bootfs.describe(), commandLine.describe()));
        expected.addAll(passed);
        assertThat(lines(console, GUEST_ITEM)).as("the items the guest found, in order").isEqualTo(expected);
        assertThat(lines(console, "zircon_guest: ACPI table ")).extracting(line -> line.substring(0, 4))
                .containsExactly("FACP", "APIC", "MCFG");
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "kvm"})
    void aFailedCheckEndsTheGuestThroughTheResetRegister(String backend) {
        // A command line without its NUL: the VMM passes it on, the guest's check fails.
        Path ramdisk = directory.resolve("ramdisk.zbi");
        new Zbi(List.of(ZbiItem.of(ZbiType.CMDLINE.code(), 0, "no.nul".getBytes(StandardCharsets.UTF_8)))).write(ramdisk);

        int status = launch(backend, "--ramdisk=" + ramdisk);

        String output = console.toString(StandardCharsets.UTF_8);
        assertThat(status).as("exit status (rebooted); console:%n%s", output).isEqualTo(2);
        assertThat(output).contains("zircon_guest: FAILED: the command line ends with its NUL", "checks FAILED; resetting");
    }

    @Test
    void theZirconFlagBootsAnImageAsTheConfigurationKeyDoes() throws IOException {
        assertThat(guest("java", "build", "zircon_guest")).as("build: %s", messages).isZero();
        Path bare = Files.createDirectories(directory.resolve("bare"));
        Files.writeString(bare.resolve("guest.cfg"), "{\"memory\": \"16M\", \"cpus\": 1}");

        int status = guest("java", "launch", bare.toString(), "--zircon=" + cache.resolve("zircon_guest/zircon_guest.zbi"));

        assertThat(status).as("exit status; console:%n%s%nmessages:%n%s", console, messages).isZero();
        assertThat(lines(messages, VMM_ITEM)).as("no command line, so no CMDLINE item")
                .extracting(line -> line.substring(0, line.indexOf(' '))).containsExactly("E820_TABLE", "ACPI_RSDP", "KERNEL_DRIVER");
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("zircon_guest: every check passed");
    }
}
