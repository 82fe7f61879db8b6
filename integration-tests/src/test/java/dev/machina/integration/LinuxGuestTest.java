package dev.machina.integration;

import dev.machina.console.GuestConsole;
import dev.machina.loader.BzImage;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Boots linux_guest (or another package, {@link #guestPackage}) once on a backend (one vCPU,
 * 512 MiB) and checks the machine from its shell, ending with a power-off;
 * {@link LinuxGuestSmpTest} boots it with two vCPUs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class LinuxGuestTest {
    static final Path REPOSITORY = Path.of(System.getProperty("user.dir")).getParent();
    static final Duration BOOT = Duration.ofMinutes(4);
    static final Duration COMMAND = Duration.ofMinutes(1);
    static final String READY = "linux_guest: ready";
    private static final long MEMORY = 512L << 20;

    private GuestConsole guest;
    private RuntimeException bootFailure;

    /** The {@code --backend} the guest runs on. */
    abstract String backend();

    /** Skips the test, saying what is missing, where the backend cannot run Linux on this host. */
    void assumeBackendRuns() {
    }

    /** What the guest's /proc/cpuinfo names as its CPU model. */
    abstract String cpuModel() throws Exception;

    /** The package booted, as {@code guest launch} takes it: a name under packages/ or a directory. */
    String guestPackage() throws Exception {
        return "linux_guest";
    }

    /** Boots the guest for the first test; every later test checks the same guest. */
    @BeforeEach
    void bootOnce() throws Exception {
        assumeBackendRuns();
        assumeDebianPackageLists();
        if (bootFailure != null) {
            throw new AssertionError("the guest did not boot (see the first test's failure)", bootFailure);
        }
        if (guest != null) {
            return;
        }
        guest = LaunchedGuest.launch(REPOSITORY, guestPackage(), List.of("--backend=" + backend(), "--cpus=1", "--memory=512M"));
        try {
            guest.awaitOutput(READY, BOOT);
            quietConsole(guest);
        } catch (RuntimeException e) {
            bootFailure = e;
            throw e;
        }
    }

    /**
     * Keeps the kernel's messages below emergency level in its log, off the console: a message
     * such as a late timer interrupt's, which a loaded host provokes, would otherwise land in the
     * middle of a command's output.
     */
    static void quietConsole(GuestConsole guest) throws Exception {
        guest.run("dmesg -n 1", COMMAND);
    }

    @AfterAll
    void shutDown() throws InterruptedException {
        if (guest != null) {
            guest.close();
        }
    }

    /** All the VMM process printed so far. */
    String transcript() {
        return guest.transcript();
    }

    static void assumeDebianPackageLists() throws Exception {
        Path lists = Path.of("/var/lib/apt/lists");
        boolean present;
        try (Stream<Path> files = Files.isDirectory(lists) ? Files.list(lists) : Stream.empty()) {
            present = files.anyMatch(file -> file.getFileName().toString().contains("_Packages"));
        }
        assumeTrue(present, "linux_guest is built from Debian packages, and there are no package lists: run `apt-get update`");
    }

    @Test
    @Order(1)
    void theBootMarkerIsLogged() throws Exception {
        guest.run("true", COMMAND);
        assertThat(guest.transcript()).containsPattern("machina: boot marker reached \\d+\\.\\d{3} s after launch");
    }

    @Test
    @Order(2)
    void unameNamesThePackagedKernel() throws Exception {
        // A package builds into the cache directory named after its own directory.
        Path vmlinuz = GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home")))
                .resolve(Path.of(guestPackage()).getFileName()).resolve("vmlinuz");
        String release = BzImage.read(vmlinuz).kernelVersion().orElseThrow().split(" ")[0];
        assertThat(guest.run("uname -r", COMMAND)).isEqualTo(release);
    }

    @Test
    @Order(3)
    void cpuinfoShowsTheAdvertisedCpu() throws Exception {
        String cpuinfo = guest.run("cat /proc/cpuinfo", COMMAND);
        assertThat(cpuinfo).containsPattern("(?m)^model name\\s*: " + Pattern.quote(cpuModel()) + "$");
        String flags = cpuinfo.lines().filter(line -> line.startsWith("flags")).findFirst().orElseThrow();
        checkFlags(List.of(flags.substring(flags.indexOf(':') + 1).strip().split(" ")));
    }

    /** Checks the CPU features Linux saw. */
    void checkFlags(List<String> flags) {
        assertThat(flags).contains("fpu", "tsc", "msr", "pae", "cx8", "apic", "cmov", "fxsr", "sse", "sse2", "lm", "nx");
    }

    @Test
    @Order(4)
    void oneCpuAsConfigured() throws Exception {
        assertThat(guest.run("nproc", COMMAND)).isEqualTo("1");
    }

    @Test
    @Order(5)
    void memTotalMatchesTheConfiguredMemory() throws Exception {
        String line = guest.run("grep MemTotal /proc/meminfo", COMMAND);
        long kib = Long.parseLong(line.replaceAll("\\D", ""));
        // The kernel's own image and reserved areas are not counted in MemTotal; they take tens of MiB.
        assertThat(kib * 1024).isBetween(MEMORY - (64L << 20), MEMORY);
    }

    @Test
    @Order(6)
    void theClockShowsHostTime() throws Exception {
        long guestSeconds = Long.parseLong(guest.run("date +%s", COMMAND));
        assertThat(guestSeconds).isBetween(Instant.now().getEpochSecond() - 300, Instant.now().getEpochSecond() + 300);
    }

    /**
     * The kernel keeps time with the TSC (or KVM's paravirtual clock), not with jiffies, has the
     * ACPI PM timer beside it, and runs tickless: a slow CPU's late ticks once made it mark the TSC unstable and an idle guest take
     * 250 timer interrupts a second.
     */
    @Test
    @Order(7)
    void theKernelKeepsTimeWithTheTscAndIdlesTickless() throws Exception {
        assertThat(guest.run("cat /sys/devices/system/clocksource/clocksource0/current_clocksource", COMMAND))
                .isIn("tsc", "kvm-clock");
        assertThat(guest.run("cat /sys/devices/system/clocksource/clocksource0/available_clocksource", COMMAND))
                .as("the ACPI PM timer found through the FADT").contains("acpi_pm");
        // Until 6.8 one field says so (NOHZ_MODE_HIGHRES is 2), from 6.9 on two flags do.
        assertThat(guest.run("grep -m1 -A1 -E '\\.nohz(_mode)? ' /proc/timer_list", COMMAND)).as("high-resolution tickless mode")
                .containsPattern("\\.nohz_mode\\s*: 2|\\.nohz\\s*: 1\\s+\\.highres\\s*: 1");
    }

    @Test
    @Order(8)
    void aPipelineThroughSortAndMd5sumGivesTheHostsDigest() throws Exception {
        String text = IntStream.rangeClosed(1, 3000).mapToObj(Integer::toString).sorted()
                .collect(Collectors.joining("\n", "", "\n"));
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.US_ASCII)));
        assertThat(guest.run("seq 3000 | sort -r | sort | md5sum", COMMAND)).isEqualTo(expected + "  -");
    }

    @Test
    @Order(100)
    void poweroffEndsTheVmmWithStatusZero() throws Exception {
        guest.send("poweroff -f\n");
        assertThat(guest.awaitExit(COMMAND)).as("exit status; transcript:\n%s", guest.transcript()).isZero();
    }
}
