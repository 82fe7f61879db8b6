package dev.machina.benchmarks;

import dev.machina.benchmarks.Workload.Result;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Real work inside linux_guest (one vCPU), timed on Machina and on QEMU in the same run: hashing,
 * compression, the shell, sort, awk's floating point, system calls and fork/exec. Each VMM boots
 * the guest once and runs every workload; the report has each time, each ratio and their geometric
 * mean, the boot to ready, and the VMM's resident memory at the shell afterwards.
 * <p>
 * Each time is the host's, from the guest's line before the workload to its line after
 * ({@link dev.machina.console.GuestConsole#timed}): one clock for both VMMs, independent of how
 * well each guest keeps time, and without the typing of the command into the console, which
 * takes tens of milliseconds (measured: up to a fifth of QEMU's shortest workload).
 */
final class WorkloadBenchmark {
    private static final Pattern MD5_OF_INPUT = Pattern.compile("[0-9a-f]{32}  -");
    private static final List<Workload> WORKLOADS = List.of(
            new Workload("SHA-256 of %d MiB".formatted(Workspace.DATA_MIB), "sha256sum " + Workspace.DATA,
                    Pattern.compile("[0-9a-f]{64}  " + Workspace.DATA)),
            new Workload("MD5 of %d MiB".formatted(Workspace.DATA_MIB), "md5sum " + Workspace.DATA,
                    Pattern.compile("[0-9a-f]{32}  " + Workspace.DATA)),
            // The compressed size shows that gzip compressed; the digest, that gunzip gave the input back.
            new Workload("gzip -6, then gunzip, %d MiB".formatted(Workspace.PART_MIB),
                    "gzip -6 -c %1$s >%1$s.gz && wc -c <%1$s.gz && gzip -d -c %1$s.gz | md5sum".formatted(Workspace.PART),
                    Pattern.compile("\\d+\n" + MD5_OF_INPUT)),
            new Workload("shell loop, 100,000 x i=$((i+1))",
                    "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo $i", Pattern.compile("100000")),
            new Workload("sort of %,d lines".formatted(Workspace.LINE_COUNT), "sort " + Workspace.LINES + " | md5sum", MD5_OF_INPUT),
            new Workload("awk, 200,000 x s += 1/(i*i)",
                    "awk 'BEGIN { for (i = 1; i <= 200000; i++) s += 1 / (i * i); printf \"%.12f\\n\", s }'",
                    Pattern.compile("1\\.6449\\d{8}")),
            // Each record is a read() and a write(); dd reports how many it copied.
            new Workload("200,000 reads of 64 bytes (dd)",
                    "dd if=" + Workspace.DATA + " of=/dev/null bs=64 count=200000 2>&1 | grep records",
                    Pattern.compile("200000\\+0 records in\n200000\\+0 records out")),
            // A path, not a name: ash would run its builtin true without forking.
            new Workload("500 x fork and exec /bin/true",
                    "i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i+1)); done; echo $i", Pattern.compile("500")),
            // 589 KB through the serial console: the guest's tty and UART driver, the VMM's console
            // writer. The VMMs' outputs are compared whole; the form checks their ends.
            new Workload("console output, seq 1 100000", "seq 1 100000",
                    Pattern.compile("(?s)1\\n2\\n3\\n.*\\n99999\\n100000")));

    private WorkloadBenchmark() {
    }

    /** Every workload's result on one VMM, and its boot, memory and kernel's complaints. */
    private record Suite(Vmm vmm, BootedGuest.Boot boot, List<Result> results, long residentBytes, String kernelTrouble) {
    }

    static void run(LinuxGuest guest, int rounds) throws Exception {
        System.out.println("workloads: " + guest.describe(1) + "; each time is the median of " + rounds
                + ", from the guest's line before the workload to its line after, on the host's clock");
        Suite peer = measure(guest, Vmm.QEMU, rounds);
        Suite ours = measure(guest, Vmm.MACHINA, rounds);
        report(ours, peer);
        List<String> disagreements = new ArrayList<>();
        for (int index = 0; index < WORKLOADS.size(); index++) {
            String mine = ours.results().get(index).answer();
            String theirs = peer.results().get(index).answer();
            if (!mine.equals(theirs)) {
                disagreements.add("%s: Machina printed%n%s%nand QEMU%n%s".formatted(WORKLOADS.get(index).name(), mine, theirs));
            }
        }
        if (!disagreements.isEmpty()) {
            throw new IllegalStateException("wrong answers: the VMMs disagree on\n" + String.join("\n", disagreements));
        }
    }

    /** Prints each time and ratio, their geometric mean, both VMMs' memory and what their guests' kernels logged. */
    private static void report(Suite ours, Suite peer) {
        String row = "%-36s %12s %12s %9s%n";
        System.out.printf(row, "", "Machina", "QEMU", "ratio");
        System.out.printf(row, "boot to ready (not in the mean)", Figures.time(ours.boot().toReady()), Figures.time(peer.boot().toReady()),
                ratio(ours.boot().toReady(), peer.boot().toReady()));
        List<Double> ratios = new ArrayList<>();
        for (int index = 0; index < WORKLOADS.size(); index++) {
            Duration mine = ours.results().get(index).time();
            Duration theirs = peer.results().get(index).time();
            ratios.add(Figures.ratio(mine, theirs));
            System.out.printf(row, WORKLOADS.get(index).name(), Figures.time(mine), Figures.time(theirs), ratio(mine, theirs));
        }
        System.out.printf(row, "geometric mean of the workloads", "", "", "%.1fx".formatted(Figures.geometricMean(ratios)));
        System.out.printf("resident memory (VmRSS) at the shell after the workloads: Machina %d MiB, QEMU %d MiB (%.2fx)%n",
                ours.residentBytes() >> 20, peer.residentBytes() >> 20, (double) ours.residentBytes() / peer.residentBytes());
        if (ours.kernelTrouble().isEmpty() && peer.kernelTrouble().isEmpty()) {
            System.out.println("neither guest's kernel logged a warning, error or lockup during the workloads");
        }
        for (Suite suite : List.of(ours, peer)) {
            if (!suite.kernelTrouble().isEmpty()) {
                System.out.println("the guest's kernel on " + suite.vmm() + " logged during the workloads:\n" + suite.kernelTrouble());
            }
        }
    }

    private static Suite measure(LinuxGuest guest, Vmm vmm, int rounds) throws Exception {
        try (BootedGuest booted = BootedGuest.boot(guest, vmm, 1)) {
            Workspace.prepare(vmm, booted.console());
            List<Result> results = new ArrayList<>();
            for (Workload workload : WORKLOADS) {
                Result result = workload.measure(vmm, booted.console(), rounds);
                System.out.printf("  %s: %s %s%n", vmm, workload.name(), Figures.time(result.time()));
                results.add(result);
            }
            return new Suite(vmm, booted.boot(), results, booted.residentBytes(), Workspace.kernelTrouble(booted.console()));
        }
    }

    private static String ratio(Duration ours, Duration peer) {
        return "%.1fx".formatted(Figures.ratio(ours, peer));
    }
}
