package dev.machina.integration;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A network namespace a test makes for itself, with a TAP interface in it that has the host's
 * address of a small private network: nothing the test does touches the host's own interfaces,
 * and the namespace goes (with its interfaces) when the test closes it.
 */
final class NetworkNamespace implements AutoCloseable {
    static final String TAP = "tap0";
    static final String HOST_ADDRESS = "10.0.2.1";
    static final String GUEST_ADDRESS = "10.0.2.2";

    private final String name;

    private NetworkNamespace(String name) {
        this.name = name;
    }

    /** Skips the test unless this process may make namespaces and TAP interfaces, and socat is there to talk through them. */
    static void assumeAvailable() {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isWritable(Path.of("/dev/net/tun")),
                "network namespaces and TAP interfaces need root and /dev/net/tun");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/socat")), "needs socat on the host (./test installs it: apt-get install socat)");
    }

    /** A namespace with {@link #TAP} up at {@link #HOST_ADDRESS}/24, for a guest at {@link #GUEST_ADDRESS}. */
    static NetworkNamespace create() throws IOException, InterruptedException {
        NetworkNamespace namespace = new NetworkNamespace("machina-test-" + ProcessHandle.current().pid());
        host("ip", "netns", "add", namespace.name);
        try {
            namespace.run("ip", "link", "set", "lo", "up");
            namespace.run("ip", "tuntap", "add", "dev", TAP, "mode", "tap");
            namespace.run("ip", "addr", "add", HOST_ADDRESS + "/24", "dev", TAP);
            namespace.run("ip", "link", "set", TAP, "up");
            return namespace;
        } catch (IOException | InterruptedException | AssertionError e) {
            namespace.close();
            throw e;
        }
    }

    /** The command prefix that runs a program inside the namespace. */
    List<String> wrapper() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs a command in the namespace, failing the test with its output if it fails. */
    String run(String... command) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(wrapper());
        all.addAll(List.of(command));
        return host(all.toArray(String[]::new));
    }

    /**
     * Starts socat in the namespace with {@code addresses} and returns once it is listening (its
     * own notice on standard error, not a guess), so that a guest connecting next finds it.
     */
    Process listen(String... addresses) throws IOException {
        List<String> command = new ArrayList<>(wrapper());
        command.addAll(List.of("socat", "-d", "-d"));
        command.addAll(List.of(addresses));
        Process socat = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader errors = new BufferedReader(new InputStreamReader(socat.getErrorStream(), StandardCharsets.UTF_8));
        List<String> said = new ArrayList<>();
        for (String line; (line = errors.readLine()) != null; ) {
            said.add(line);
            if (line.contains("listening on")) {
                Thread.ofVirtual().start(() -> errors.lines().forEach(ignored -> { })); // so that socat never blocks on a full pipe
                return socat;
            }
        }
        throw new IOException("socat did not listen: " + said);
    }

    /** A statistic of {@link #TAP} ({@code tx_packets}, {@code rx_bytes}...): tx is toward the guest, rx from it. */
    long tapStatistic(String name) throws IOException, InterruptedException {
        return Long.parseLong(run("cat", "/sys/class/net/" + TAP + "/statistics/" + name).strip());
    }

    /** Waits for a process {@link #listen} started and fails the test unless it succeeded. */
    static void awaitSuccess(Process process, Duration timeout) throws InterruptedException {
        assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("socat ended").isTrue();
        assertThat(process.exitValue()).as("socat's exit status").isZero();
    }

    private static String host(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
        return output;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        host("ip", "netns", "delete", name);
    }
}
