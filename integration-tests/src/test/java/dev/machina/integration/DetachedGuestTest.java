package dev.machina.integration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.console.GuestConsole;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A running guest reached the ways a user reaches it: linux_guest launched with {@code --detach},
 * then each {@code guest} verb and the control API, the API through {@code curl --unix-socket}
 * from a process of its own. The guest writes a pattern to guest-physical memory with busybox's
 * devmem and {@code guest dump} reads it back; pausing stops the guest's work (its instructions
 * retired stand still and it answers no command) until it is resumed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DetachedGuestTest {
    private static final Duration VERB = Duration.ofMinutes(1);
    private static final String NAME = "detached-test-" + ProcessHandle.current().pid();
    /**
     * Where the guest writes its pattern: the boot area under the first MiB, which the kernel
     * reserves and never allocates after reading its command line from it, and which devmem may
     * write under CONFIG_STRICT_DEVMEM.
     */
    private static final long PATTERN_ADDRESS = 0x2_f000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private String id;
    private Instance instance;
    private GuestConsole serial;

    private record Result(int status, String output, String errors) {
    }

    @BeforeAll
    void launchDetached() throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        assumeTrue(run(List.of("curl", "--version"), VERB).status() == 0, "curl is not installed (./test installs it)");
        Result launch = guest(LinuxGuestTest.BOOT, "launch", "linux_guest", "--detach", "--name", NAME,
                "--backend=java", "--cpus=1", "--memory=256M");
        assertThat(launch.status()).as(launch.errors()).isZero();
        id = launch.output().trim();
        assertThat(id).matches("[0-9a-f]{8}");
        Path cache = GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home")));
        instance = InstanceRegistry.forUser(System.getenv(), cache).find(id);
        serial = GuestConsole.start(LaunchedGuest.command(LinuxGuestTest.REPOSITORY, List.of("serial", id)));
        serial.awaitOutput(LinuxGuestTest.READY, LinuxGuestTest.BOOT); // the console's backlog shows it to a late client
        LinuxGuestTest.quietConsole(serial);
    }

    @AfterAll
    void stopAnyway() throws Exception {
        if (instance != null && Files.exists(instance.directory())) {
            guest(VERB, "stop", id, "--timeout", "0");
        }
        if (serial != null) {
            serial.close();
        }
    }

    @Test
    @Order(1)
    void listShowsTheGuestRunningWithItsBootMarker() throws Exception {
        Result list = guest(VERB, "list");
        assertThat(list.status()).isZero();
        assertThat(list.output()).containsPattern(id + " +" + NAME + " +linux_guest +java +1 +256M +running +\\d+:\\d\\d:\\d\\d +\\d+\\.\\d{3} s");
    }

    @Test
    @Order(2)
    void aSecondClientSeesTheConsoleAndDetachesWithCtrlAX() throws Exception {
        GuestConsole second = GuestConsole.start(LaunchedGuest.command(LinuxGuestTest.REPOSITORY, List.of("serial", NAME)));
        try {
            second.awaitOutput(LinuxGuestTest.READY, VERB);
            assertThat(serial.run("echo seen-by-both", VERB)).isEqualTo("seen-by-both");
            second.awaitOutput("seen-by-both", VERB);
            second.send("\u0001x");
            assertThat(second.awaitExit(VERB)).isZero();
            assertThat(second.transcript()).contains("serial: detached from guest " + id + " (" + NAME + "); it runs on");
        } finally {
            second.close();
        }
        assertThat(serial.run("echo still-here", VERB)).as("the guest runs on").isEqualTo("still-here");
    }

    @Test
    @Order(3)
    void dumpShowsWhatTheGuestWroteToItsMemory() throws Exception {
        // "MACHINA" and a zero byte, little-endian in two words.
        serial.run("devmem 0x%x 32 0x4843414d; devmem 0x%x 32 0x00414e49".formatted(PATTERN_ADDRESS, PATTERN_ADDRESS + 4), VERB);
        Result dump = guest(VERB, "dump", id, Long.toHexString(PATTERN_ADDRESS), "8");
        assertThat(dump.status()).as(dump.errors()).isZero();
        assertThat(dump.output()).isEqualTo("%016x  4d 41 43 48 49 4e 41 00                           |MACHINA.|%n".formatted(PATTERN_ADDRESS));

        Result outside = guest(VERB, "dump", id, "fffffff00000", "10");
        assertThat(outside.status()).isEqualTo(1);
        assertThat(outside.errors()).startsWith("guest: guest " + id + " (" + NAME + "): guest-physical range 0xfffffff00000")
                .hasLineCount(1);
    }

    @Test
    @Order(4)
    void theApiAnswersCurlAndARequestItCannotServeChangesNothing() throws Exception {
        JsonNode info = JSON.readTree(curl("GET", "/", null, 200));
        assertThat(info.path("id").asText()).isEqualTo(id);
        assertThat(info.path("state").asText()).isEqualTo("Running");
        assertThat(info.path("app_name").asText()).isEqualTo("Machina");

        assertThat(JSON.readTree(curl("PATCH", "/vm", "{\"state\": \"Paused\"", 400)).path("fault_message").asText())
                .startsWith("malformed JSON");
        assertThat(JSON.readTree(curl("PATCH", "/vm", "{\"state\": \"Paused\", \"when\": 1}", 400)).path("fault_message").asText())
                .isEqualTo("unknown field \"when\" (known: state)");
        assertThat(JSON.readTree(curl("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 400)).path("fault_message").asText())
                .isEqualTo("InstanceStart: the guest is already running");
        assertThat(JSON.readTree(curl("PUT", "/boot-source", "{}", 400)).path("fault_message").asText())
                .isEqualTo("Invalid request method and/or path: PUT /boot-source");
        curl("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", 204);

        assertThat(JSON.readTree(curl("GET", "/", null, 200)).path("state").asText()).as("nothing changed").isEqualTo("Running");
        assertThat(serial.run("echo healthy", VERB)).isEqualTo("healthy");
    }

    @Test
    @Order(5)
    void pauseStopsTheGuestsWorkAndResumeContinuesIt() throws Exception {
        assertThat(guest(VERB, "pause", id).status()).isZero();
        assertThat(JSON.readTree(curl("GET", "/", null, 200)).path("state").asText()).isEqualTo("Paused");
        long held = instructionsRetired();
        serial.send("echo after-resume\n"); // typed while paused: the guest cannot echo it until it runs
        assertThat(instructionsRetired()).as("instructions retired while paused").isEqualTo(held);
        assertThat(guest(VERB, "list").output()).containsPattern(id + " .* paused ");

        assertThat(guest(VERB, "resume", id).status()).isZero();
        serial.awaitOutput("after-resume", VERB);
        assertThat(instructionsRetired()).isGreaterThan(held);
        assertThat(JSON.readTree(curl("GET", "/", null, 200)).path("state").asText()).isEqualTo("Running");
    }

    @Test
    @Order(6)
    void statsShowEachVcpusExitsAndInstructions() throws Exception {
        Result stats = guest(VERB, "stats", id);
        assertThat(stats.status()).as(stats.errors()).isZero();
        assertThat(stats.output()).containsPattern("vCPU +entries +instructions +io +mmio ")
                .containsPattern("\\n0 +[\\d,]+ +[\\d,]{11,} ")
                .contains("\ntotal ");
    }

    @Test
    @Order(7)
    void noOtherUserCanReachTheSockets() throws Exception {
        for (Path socket : List.of(instance.controlSocket(), instance.serialSocket())) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(Files.getOwner(socket).getName()).isEqualTo(System.getProperty("user.name"));
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(instance.directory()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(instance.directory().getParent()))).isEqualTo("rwx------");
        if (run(List.of("id", "-u"), VERB).output().trim().equals("0")) {
            // As root, try it: curl as nobody cannot connect (exit 7), whatever root itself could.
            Result nobody = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "curl", "-sS", "--unix-socket", instance.controlSocket().toString(), "http://localhost/"), VERB);
            assertThat(nobody.status()).as(nobody.errors()).isEqualTo(7);
        }
    }

    @Test
    @Order(8)
    void aMissingGuestIsOneLineWithStatusOne() throws Exception {
        for (String verb : List.of("stats", "pause", "resume", "dump", "stop", "serial")) {
            List<String> arguments = new ArrayList<>(List.of(verb, "no-such-guest"));
            if (verb.equals("dump")) {
                arguments.addAll(List.of("0", "10"));
            }
            Result missing = guest(VERB, arguments.toArray(String[]::new));
            assertThat(missing.status()).as(verb).isEqualTo(1);
            assertThat(missing.errors()).as(verb).isEqualTo("guest: no running guest has the id or name no-such-guest (guest list shows them)\n");
        }
    }

    @Test
    @Order(9)
    void stopEndsTheGuestAndRemovesItsDirectory() throws Exception {
        // linux_guest's init does not handle the power button: the guest is ended after the timeout.
        Result stop = guest(VERB, "stop", id, "--timeout", "1");
        assertThat(stop.status()).as(stop.errors()).isZero();
        assertThat(instance.directory()).doesNotExist();
        assertThat(serial.awaitExit(VERB)).isZero();
        assertThat(serial.transcript()).contains("serial: guest " + id + " (" + NAME + ") has ended");
        assertThat(guest(VERB, "list").output()).doesNotContain(id);
        Result gone = guest(VERB, "pause", id);
        assertThat(gone.status()).isEqualTo(1);
        assertThat(gone.errors()).isEqualTo("guest: no running guest has the id or name " + id + " (guest list shows them)\n");
    }

    private long instructionsRetired() throws Exception {
        return JSON.readTree(curl("GET", "/metrics", null, 200)).path("vcpus").path(0).path("instructionsRetired").asLong();
    }

    /** {@code curl --unix-socket} on the control socket; checks the status and returns the body. */
    private String curl(String method, String path, String body, int expectedStatus) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--unix-socket", instance.controlSocket().toString(),
                "-X", method, "-w", "\n%{http_code}"));
        if (body != null) {
            command.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", body));
        }
        command.add("http://localhost" + path);
        Result result = run(command, VERB);
        assertThat(result.status()).as(result.errors()).isZero();
        int split = result.output().lastIndexOf('\n');
        assertThat(result.output().substring(split + 1)).as(method + " " + path + ": " + result.output()).isEqualTo(String.valueOf(expectedStatus));
        return result.output().substring(0, split);
    }

    private static Result guest(Duration timeout, String... arguments) throws Exception {
        return run(LaunchedGuest.command(LinuxGuestTest.REPOSITORY, List.of(arguments)), timeout);
    }

    private static Result run(List<String> command, Duration timeout) throws Exception {
        Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not end within " + timeout);
        }
        return new Result(process.exitValue(), output.get(), errors.get());
    }

    private static String read(InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
