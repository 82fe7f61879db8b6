package dev.machina.integration;

import dev.machina.console.GuestConsole;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * debian_guest, a Debian 12 system with systemd, booted on the Java CPU from its virtio-blk disk
 * (volatile, so that the test leaves the built disk as it was) to its ready line and a root shell.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DebianGuestTest {
    private static final String PACKAGE = "debian_guest";
    private static final Duration BOOT = Duration.ofMinutes(8);
    private static final Duration COMMAND = Duration.ofMinutes(2);

    private GuestConsole guest;

    @BeforeAll
    void boot() throws Exception {
        guest = boot(List.of(), BOOT);
    }

    /**
     * Boots debian_guest on the Java CPU from its disk, volatile, with {@code flags} added, to its
     * ready line within {@code timeout}, with the kernel's messages off the console.
     */
    static GuestConsole boot(List<String> flags, Duration timeout) throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        LaunchedGuest.build(LinuxGuestTest.REPOSITORY, PACKAGE);
        Path disk = GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home")))
                .resolve(PACKAGE).resolve("rootfs.img");
        List<String> all = new java.util.ArrayList<>(List.of("--backend=java", "--block=" + disk + ",volatile"));
        all.addAll(flags);
        GuestConsole guest = LaunchedGuest.launch(LinuxGuestTest.REPOSITORY, PACKAGE, all);
        try {
            guest.awaitOutput("debian_guest: ready", timeout);
            guest.run("dmesg -n 1", COMMAND);
            return guest;
        } catch (Exception | AssertionError e) {
            guest.close();
            throw e;
        }
    }

    @AfterAll
    void shutDown() throws InterruptedException {
        if (guest != null) {
            guest.close();
        }
    }

    @Test
    @Order(1)
    void rootIsTheVirtioDiskAndLspciListsTheBus() throws Exception {
        assertThat(guest.run("findmnt -n -o SOURCE /", COMMAND)).isEqualTo("/dev/vda");
        assertThat(guest.run("lspci -n", COMMAND).lines().toList())
                .containsExactly("00:00.0 0600: 1b36:0008", "00:01.0 0180: 1af4:1042 (rev 01)");
        assertThat(guest.run("lspci -vv -s 00:01.0", COMMAND)).contains("MSI-X: Enable+ Count=2", "Vendor Specific Information: VirtIO: CommonCfg");
    }

    @Test
    @Order(2)
    void aptAndDpkgWork() throws Exception {
        assertThat(guest.run("apt-get --version | head -1", COMMAND)).startsWith("apt 2.6");
        assertThat(guest.run("dpkg --audit; echo audit=$?", COMMAND)).isEqualTo("audit=0");
    }

    @Test
    @Order(3)
    void systemdIsRunningOrSaysWhyNot() throws Exception {
        String state = guest.run("systemctl is-system-running", COMMAND);
        String failed = guest.run("systemctl --failed --no-legend --plain", COMMAND);
        assertThat(state).as("failed units:\n%s", failed).isIn("running", "degraded");
        if (state.equals("degraded")) {
            assertThat(failed).as("degraded names its failed units").isNotBlank();
        }
    }

    @Test
    @Order(4)
    void aPipelineGivesTheHostsAnswer() throws Exception {
        String text = IntStream.rangeClosed(1, 5000).mapToObj(Integer::toString).sorted()
                .collect(Collectors.joining("\n", "", "\n"));
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII)));
        assertThat(guest.run("seq 5000 | sort | sha256sum", COMMAND)).isEqualTo(expected + "  -");
    }

    @Test
    @Order(100)
    void poweroffEndsTheVmm() throws Exception {
        guest.send("systemctl poweroff\n");
        assertThat(guest.awaitExit(BOOT)).as("exit status; transcript:\n%s", guest.transcript()).isZero();
        guest = null;
    }
}
