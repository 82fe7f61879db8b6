package dev.machina.benchmarks;

import dev.machina.console.GuestConsole;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TCP throughput between linux_guest and the host over virtio-net on a TAP interface, Machina's
 * against QEMU's (its virtio-net-pci on the same kind of TAP, vnet headers and offloads on, no
 * vhost), each VMM in a network namespace of its own with the TAP at 10.0.2.1 and the guest at
 * 10.0.2.2. socat is the host's end and busybox nc the guest's; the time is the guest command's,
 * from connecting to the last byte. Needs root (namespaces, TAP interfaces).
 */
final class NetBenchmark {
    private static final long BYTES = 32L << 20;
    private static final String HOST = "10.0.2.1";
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private enum Direction {
        TO_GUEST("host to guest", "nc " + HOST + " 5001 > /dev/null", "-u OPEN:%s TCP-LISTEN:5001,bind=" + HOST),
        FROM_GUEST("guest to host", "dd if=/dev/zero bs=64k count=" + (BYTES >> 16) + " 2>/dev/null | nc " + HOST + " 5002",
                "-u TCP-LISTEN:5002,bind=" + HOST + " OPEN:/dev/null");

        private final String name;
        private final String guestCommand;
        private final String socatArguments;

        Direction(String name, String guestCommand, String socatArguments) {
            this.name = name;
            this.guestCommand = guestCommand;
            this.socatArguments = socatArguments;
        }
    }

    private NetBenchmark() {
    }

    static void run(LinuxGuest guest, int rounds) throws Exception {
        System.out.printf("net: %s, %d MiB over TCP each way through a TAP; each time is the median of %d%n",
                guest.describe(1), BYTES >> 20, rounds);
        Path source = Files.createTempFile("machina-bench-net", ".bin");
        try {
            try (RandomAccessFile file = new RandomAccessFile(source.toFile(), "rw")) {
                file.setLength(BYTES);
            }
            List<Duration> peer = measure(guest, Vmm.QEMU, source, rounds);
            List<Duration> ours = measure(guest, Vmm.MACHINA, source, rounds);
            String row = "%-36s %14s %14s %8s%n";
            System.out.printf(row, "", "Machina", "QEMU", "ratio");
            for (Direction direction : Direction.values()) {
                int index = direction.ordinal();
                System.out.printf(row, direction.name, rate(ours.get(index)), rate(peer.get(index)),
                        "%.1fx".formatted(Figures.ratio(ours.get(index), peer.get(index))));
            }
        } finally {
            Files.deleteIfExists(source);
        }
    }

    private static List<Duration> measure(LinuxGuest guest, Vmm vmm, Path source, int rounds) throws Exception {
        String namespace = "machina-bench-" + ProcessHandle.current().pid();
        host("ip", "netns", "add", namespace);
        try {
            host("ip", "-n", namespace, "tuntap", "add", "dev", "tap0", "mode", "tap");
            host("ip", "-n", namespace, "addr", "add", HOST + "/24", "dev", "tap0");
            host("ip", "-n", namespace, "link", "set", "tap0", "up");
            List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
            command.addAll(guest.command(vmm, 1, List.of()));
            command.addAll(switch (vmm) {
                case MACHINA -> List.of("--net=tap:tap0");
                case QEMU -> List.of("-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=off",
                        "-device", "virtio-net-pci,netdev=net0");
            });
            try (GuestConsole console = GuestConsole.start(command)) {
                console.awaitOutput(guest.ready(), TIMEOUT);
                console.run("dmesg -n 1; ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0", TIMEOUT);
                List<Duration> medians = new ArrayList<>();
                for (Direction direction : Direction.values()) {
                    List<Duration> times = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        Process socat = listen(namespace, direction.socatArguments.formatted(source));
                        GuestConsole.Reply reply = console.timed(direction.guestCommand, TIMEOUT);
                        if (!socat.waitFor(1, TimeUnit.MINUTES) || socat.exitValue() != 0) {
                            socat.destroy();
                            throw new IllegalStateException("%s on %s: the host's end did not finish; the guest said: %s"
                                    .formatted(direction.name, vmm, reply.output()));
                        }
                        times.add(reply.time());
                    }
                    Duration median = Figures.median(times);
                    System.out.printf("  %s: %s %s (%s)%n", vmm, direction.name, Figures.time(median), rate(median));
                    medians.add(median);
                }
                return medians;
            }
        } finally {
            host("ip", "netns", "delete", namespace);
        }
    }

    /** Starts socat in the namespace and returns once it says it listens. */
    private static Process listen(String namespace, String arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "socat", "-d", "-d"));
        command.addAll(List.of(arguments.split(" ")));
        Process socat = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader errors = new BufferedReader(new InputStreamReader(socat.getErrorStream(), StandardCharsets.UTF_8));
        for (String line; (line = errors.readLine()) != null; ) {
            if (line.contains("listening on")) {
                Thread.ofVirtual().start(() -> errors.lines().forEach(ignored -> { }));
                return socat;
            }
        }
        throw new IllegalStateException("socat did not listen (is it installed? apt-get install socat)");
    }

    private static void host(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + output);
        }
    }

    private static String rate(Duration time) {
        return "%.1f MB/s".formatted(BYTES / 1e6 / (time.toNanos() / 1e9));
    }
}
