package dev.machina.benchmarks;

import dev.machina.console.GuestConsole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * linux_guest booted on one VMM to its ready line, its shell on {@link #console()}. The boot is
 * timed from starting the VMM's process to the ready line on the serial console, so every VMM's
 * time includes its own start-up.
 */
record BootedGuest(Vmm vmm, GuestConsole console, Boot boot) implements AutoCloseable {
    private static final Pattern MARKER = Pattern.compile("boot marker reached (\\d+\\.\\d+) s after launch(?:, ([\\d,]+) guest instructions)?");
    private static final Pattern RESIDENT = Pattern.compile("(?m)^VmRSS:\\s*(\\d+) kB$");
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);

    /**
     * One boot: wall time to the ready line, and Machina's boot-marker figure (time since the
     * machine was created) with the guest instructions executed by then, where the VMM reports them.
     */
    record Boot(Duration toReady, Optional<Duration> marker, OptionalLong instructions) {
        String markerFigures() {
            if (marker.isEmpty()) {
                return "not seen";
            }
            double seconds = Figures.seconds(marker.get());
            return instructions.isEmpty() ? "%.2f s".formatted(seconds)
                    : "%.2f s, %,d M instructions, %.1f M/s".formatted(seconds, instructions.getAsLong() / 1_000_000,
                    instructions.getAsLong() / 1e6 / seconds);
        }
    }

    /** Boots {@code guest} on {@code vmm} with {@code cpus} vCPUs and waits for its shell. */
    static BootedGuest boot(LinuxGuest guest, Vmm vmm, int cpus) throws IOException, InterruptedException {
        return boot(guest, vmm, cpus, List.of());
    }

    /** Boots {@code guest} on {@code vmm} with {@code cpus} vCPUs and {@code disks}, and waits for its shell. */
    static BootedGuest boot(LinuxGuest guest, Vmm vmm, int cpus, List<Path> disks) throws IOException, InterruptedException {
        long start = System.nanoTime();
        GuestConsole console = GuestConsole.start(guest.command(vmm, cpus, disks));
        try {
            console.awaitOutput(guest.ready(), BOOT_TIMEOUT);
        } catch (RuntimeException | InterruptedException e) {
            console.close();
            throw e;
        }
        Duration toReady = Duration.ofNanos(System.nanoTime() - start);
        Matcher marker = MARKER.matcher(console.transcript());
        if (!marker.find()) {
            return new BootedGuest(vmm, console, new Boot(toReady, Optional.empty(), OptionalLong.empty()));
        }
        Duration markerTime = Duration.ofNanos((long) (Double.parseDouble(marker.group(1)) * 1e9));
        OptionalLong instructions = marker.group(2) == null ? OptionalLong.empty()
                : OptionalLong.of(Long.parseLong(marker.group(2).replace(",", "")));
        return new BootedGuest(vmm, console, new Boot(toReady, Optional.of(markerTime), instructions));
    }

    /** What the VMM's process holds in RAM now (VmRSS), in bytes. */
    long residentBytes() throws IOException {
        Path status = Path.of("/proc", Long.toString(console.pid()), "status");
        Matcher resident = RESIDENT.matcher(Files.readString(status));
        if (!resident.find()) {
            throw new IllegalStateException("no VmRSS line in " + status);
        }
        return Long.parseLong(resident.group(1)) << 10;
    }

    @Override
    public void close() throws InterruptedException {
        console.close();
    }
}
