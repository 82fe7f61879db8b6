package dev.machina.benchmarks;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Disk throughput inside linux_guest, Machina's virtio-blk against QEMU's, each VMM given a fresh
 * raw image of the same size: large sequential transfers and 4 KiB requests, written and read with
 * O_DIRECT so that the guest's page cache is not what is measured (the host's is, on both sides:
 * both VMMs write through it and pass flushes on). busybox dd issues one request at a time.
 */
final class DiskBenchmark {
    private static final long IMAGE_BYTES = 256L << 20;
    private static final Duration QUIET_TIMEOUT = Duration.ofMinutes(1);
    private static final List<Transfer> TRANSFERS = List.of(
            new Transfer("sequential write, 1 MiB requests", "if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct conv=fsync", 64L << 20),
            new Transfer("sequential read, 1 MiB requests", "if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct", 64L << 20),
            new Transfer("4 KiB writes", "if=/dev/zero of=/dev/vda bs=4k count=4096 seek=32768 oflag=direct conv=fsync", 16L << 20),
            new Transfer("4 KiB reads", "if=/dev/vda of=/dev/null bs=4k count=4096 skip=32768 iflag=direct", 16L << 20));

    private record Transfer(String name, String ddArguments, long bytes) {
        Workload workload() {
            long records = bytes / (ddArguments.contains("bs=1M") ? 1 << 20 : 4096);
            return new Workload(name, "dd " + ddArguments + " 2>&1 | grep records",
                    Pattern.compile(records + "\\+0 records in\n" + records + "\\+0 records out"));
        }
    }

    private DiskBenchmark() {
    }

    static void run(LinuxGuest guest, int rounds) throws Exception {
        System.out.printf("disk: %s, a %d MiB raw image as vda; each time is the median of %d%n",
                guest.describe(1), IMAGE_BYTES >> 20, rounds);
        List<Duration> peer = measure(guest, Vmm.QEMU, rounds);
        List<Duration> ours = measure(guest, Vmm.MACHINA, rounds);
        String row = "%-36s %14s %14s %8s%n";
        System.out.printf(row, "", "Machina", "QEMU", "ratio");
        for (int index = 0; index < TRANSFERS.size(); index++) {
            Transfer transfer = TRANSFERS.get(index);
            System.out.printf(row, transfer.name(), rate(transfer, ours.get(index)), rate(transfer, peer.get(index)),
                    "%.1fx".formatted(Figures.ratio(ours.get(index), peer.get(index))));
        }
    }

    private static List<Duration> measure(LinuxGuest guest, Vmm vmm, int rounds) throws Exception {
        Path image = Files.createTempFile("machina-bench-disk", ".img");
        try {
            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(IMAGE_BYTES);
            }
            try (BootedGuest booted = BootedGuest.boot(guest, vmm, 1, List.of(image))) {
                // The kernel's messages (a late TSC calibration) would land in a transfer's output.
                booted.console().run("dmesg -n 1", QUIET_TIMEOUT);
                List<Duration> times = new ArrayList<>();
                for (Transfer transfer : TRANSFERS) {
                    Duration time = transfer.workload().measure(vmm, booted.console(), rounds).time();
                    System.out.printf("  %s: %s %s (%s)%n", vmm, transfer.name(), Figures.time(time), rate(transfer, time));
                    times.add(time);
                }
                return times;
            }
        } finally {
            Files.deleteIfExists(image);
        }
    }

    private static String rate(Transfer transfer, Duration time) {
        return "%.1f MB/s".formatted(transfer.bytes() / 1e6 / (time.toNanos() / 1e9));
    }
}
