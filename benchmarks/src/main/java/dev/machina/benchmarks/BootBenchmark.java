package dev.machina.benchmarks;

import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.config.GuestConfig.Kernel;
import dev.machina.vmm.packages.GuestPackage;
import dev.machina.vmm.packages.GuestPackages;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots linux_guest to its ready line on Machina's pure-Java CPU and, in the same run, the same
 * kernel, initramfs and command line under QEMU's software emulation (TCG, the standard PC
 * machine: microvm has no HPET or PM timer to fall back on when the PIT calibration of the TSC
 * fails on a loaded host, and then the guest may never boot), and prints both times and their
 * ratio.
 * Each time runs from starting the process to the ready line on the serial console, so both
 * include their own start-up; Machina's own boot-marker figure (time since the machine was
 * created) is printed too.
 */
final class BootBenchmark {
    private static final String PACKAGE = "linux_guest";
    private static final String READY = "linux_guest: ready";
    private static final Pattern MARKER = Pattern.compile("boot marker reached (\\d+\\.\\d+) s after launch(?:, ([\\d,]+) guest instructions)?");
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private BootBenchmark() {
    }

    /**
     * One boot: wall time to the ready line, and the VMM's boot-marker figure with the guest
     * instructions executed by then, where it reports them.
     */
    record Boot(Duration toReady, Optional<Duration> marker, OptionalLong instructions) {
        String markerFigures() {
            if (marker.isEmpty()) {
                return "not seen";
            }
            double seconds = seconds(marker.get());
            return instructions.isEmpty() ? "%.2f s".formatted(seconds)
                    : "%.2f s, %,d M instructions, %.1f M/s".formatted(seconds, instructions.getAsLong() / 1_000_000,
                    instructions.getAsLong() / 1e6 / seconds);
        }
    }

    static void run(int rounds) throws Exception {
        Path repository = Path.of(System.getProperty("machina.home", ".")).toAbsolutePath().normalize();
        GuestPackages packages = new GuestPackages(Optional.of(repository.resolve("packages")),
                GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home"))), repository);
        GuestPackage linux = packages.locate(PACKAGE);
        linux.build(System.out::println, false);
        GuestConfig config = linux.readConfig().resolve();
        Path kernel = ((Kernel.Linux) config.kernel()).path();
        requireQemu();
        List<String> machina = List.of(repository.resolve("guest").toString(), "launch", PACKAGE, "--backend=java");
        List<String> qemu = List.of("qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-cpu", "qemu64",
                "-smp", Integer.toString(config.cpus()), "-m", (config.memoryBytes() >> 20) + "M",
                "-nographic", "-no-reboot", "-kernel", kernel.toString(),
                "-initrd", config.ramdisk().orElseThrow().toString(), "-append", config.cmdline());
        System.out.println("kernel " + kernel + ", " + config.cpus() + " vCPU, " + (config.memoryBytes() >> 20) + " MiB, cmdline \""
                + config.cmdline() + "\"");
        List<Duration> machinaTimes = new ArrayList<>();
        List<Duration> qemuTimes = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Boot ours = boot(machina);
            Boot peer = boot(qemu);
            machinaTimes.add(ours.toReady());
            qemuTimes.add(peer.toReady());
            System.out.printf("round %d: Machina (java CPU) %.2f s to ready (boot marker %s), QEMU TCG %.2f s%n", round,
                    seconds(ours.toReady()), ours.markerFigures(),
                    seconds(peer.toReady()));
        }
        Duration ours = median(machinaTimes);
        Duration peer = median(qemuTimes);
        System.out.printf("median of %d: Machina %.2f s, QEMU %.2f s: Machina takes %.1fx QEMU's time%n",
                rounds, seconds(ours), seconds(peer), seconds(ours) / seconds(peer));
    }

    private static void requireQemu() throws InterruptedException {
        try {
            new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start().waitFor();
        } catch (IOException e) {
            throw new IllegalStateException("the peer, qemu-system-x86_64, is not installed: run `apt-get install qemu-system-x86` (as root)");
        }
    }

    /** Starts {@code command}, waits for the ready line on its output, and ends it. */
    private static Boot boot(List<String> command) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> transcript = new ArrayList<>();
        Optional<Duration> marker = Optional.empty();
        OptionalLong instructions = OptionalLong.empty();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                // the boot finished first
            }
        });
        try (BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = output.readLine(); line != null; line = output.readLine()) {
                transcript.add(line);
                Matcher matched = MARKER.matcher(line);
                if (matched.find()) {
                    marker = Optional.of(Duration.ofNanos((long) (Double.parseDouble(matched.group(1)) * 1e9)));
                    if (matched.group(2) != null) {
                        instructions = OptionalLong.of(Long.parseLong(matched.group(2).replace(",", "")));
                    }
                }
                if (line.contains(READY)) {
                    return new Boot(Duration.ofNanos(System.nanoTime() - start), marker, instructions);
                }
            }
            throw new IllegalStateException(String.join(" ", command) + " ended without \"" + READY + "\" (within "
                    + TIMEOUT + "); its output:\n" + String.join("\n", transcript));
        } finally {
            watchdog.interrupt();
            process.destroyForcibly();
            process.waitFor();
        }
    }

    private static Duration median(List<Duration> times) {
        List<Duration> sorted = times.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }
}
