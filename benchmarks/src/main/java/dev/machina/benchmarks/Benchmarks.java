package dev.machina.benchmarks;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code ./bench [PART...] [ROUNDS]}: the parts named, in their order below, or all of them. ROUNDS
 * is how many times each guest figure is measured, the median reported: boots of each VMM in
 * {@code boot} (default 3), runs of each workload in {@code workloads} and {@code smp} and boots of
 * each kernel in {@code kernels} (default 1, since Machina takes minutes for one run of the workloads).
 */
public final class Benchmarks {
    /** What {@code ./bench} can run, in the order it runs them. */
    private enum Part {
        /** The Java CPU's instruction rate on CPU-bound loops. */
        RATE,
        /** linux_guest's boot to its shell, Machina against QEMU. */
        BOOT,
        /** Real work in linux_guest's shell, Machina against QEMU, and both VMMs' resident memory. */
        WORKLOADS,
        /** Two SHA-256 jobs at once against one, with two vCPUs, Machina against QEMU. */
        SMP,
        /** linux_guest's boot with each of the other Debian kernels the integration tests boot, Machina against QEMU. */
        KERNELS,
        /** Disk throughput inside linux_guest through virtio-blk, Machina against QEMU. */
        DISK,
        /** TCP throughput each way through virtio-net on a TAP, Machina against QEMU (needs root). */
        NET,
        /** debian_guest's boot to its ready line (systemd, root on virtio-blk), Machina against QEMU. */
        DEBIAN;

        /** How the command line names it. */
        String argument() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        Set<Part> parts = EnumSet.noneOf(Part.class);
        OptionalInt rounds = OptionalInt.empty();
        for (String arg : args) {
            Optional<Part> part = Arrays.stream(Part.values()).filter(candidate -> candidate.argument().equals(arg)).findFirst();
            if (part.isPresent()) {
                parts.add(part.get());
            } else if (arg.matches("[1-9]\\d{0,5}") && rounds.isEmpty()) {
                rounds = OptionalInt.of(Integer.parseInt(arg));
            } else {
                System.err.printf("bench: %s names no part and is no round count (a whole number from 1, given once)%nusage: ./bench %s [ROUNDS]%n", arg,
                        Arrays.stream(Part.values()).map(candidate -> "[" + candidate.argument() + "]").collect(Collectors.joining(" ")));
                System.exit(2);
            }
        }
        if (parts.isEmpty()) {
            parts = EnumSet.allOf(Part.class);
        }
        // Built only where a part boots it: building it the first time downloads Debian's packages.
        LinuxGuest guest = parts.equals(EnumSet.of(Part.RATE)) ? null : LinuxGuest.build();
        for (Part part : parts) {
            switch (part) {
                case RATE -> InstructionRateBenchmark.run(5, 200_000_000L);
                case BOOT -> BootBenchmark.run(guest, rounds.orElse(3));
                case WORKLOADS -> WorkloadBenchmark.run(guest, rounds.orElse(1));
                case SMP -> SmpBenchmark.run(guest, rounds.orElse(1));
                case KERNELS -> KernelsBenchmark.run(guest, rounds.orElse(1));
                case DISK -> DiskBenchmark.run(guest, rounds.orElse(3));
                case NET -> NetBenchmark.run(guest, rounds.orElse(3));
                case DEBIAN -> BootBenchmark.run(LinuxGuest.build("debian_guest", "debian_guest: ready"), rounds.orElse(1));
            }
        }
    }
}
