package dev.machina.benchmarks;

import dev.machina.benchmarks.BootedGuest.Boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.machina.benchmarks.Figures.seconds;

/**
 * Boots linux_guest to its ready line on Machina's pure-Java CPU and, in the same run, under
 * QEMU's software emulation, one boot after the other, and prints both times and their ratio;
 * Machina's own boot-marker figure is printed too.
 */
final class BootBenchmark {
    private BootBenchmark() {
    }

    /** The median boot times of one run. */
    record Medians(Duration machina, Duration qemu) {
        double ratio() {
            return Figures.ratio(machina, qemu);
        }
    }

    static Medians run(LinuxGuest guest, int rounds) throws Exception {
        System.out.println("boot: " + guest.describe(1));
        List<Duration> machinaTimes = new ArrayList<>();
        List<Duration> qemuTimes = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Boot ours = bootOnce(guest, Vmm.MACHINA);
            Boot peer = bootOnce(guest, Vmm.QEMU);
            machinaTimes.add(ours.toReady());
            qemuTimes.add(peer.toReady());
            System.out.printf("round %d: Machina (java CPU) %.2f s to ready (boot marker %s), QEMU TCG %.2f s%n", round,
                    seconds(ours.toReady()), ours.markerFigures(), seconds(peer.toReady()));
        }
        Duration ours = Figures.median(machinaTimes);
        Duration peer = Figures.median(qemuTimes);
        System.out.printf("median of %d: Machina %.2f s, QEMU %.2f s: Machina takes %.1fx QEMU's time%n",
                rounds, seconds(ours), seconds(peer), Figures.ratio(ours, peer));
        return new Medians(ours, peer);
    }

    private static Boot bootOnce(LinuxGuest guest, Vmm vmm) throws Exception {
        try (BootedGuest booted = BootedGuest.boot(guest, vmm, 1)) {
            return booted.boot();
        }
    }
}
