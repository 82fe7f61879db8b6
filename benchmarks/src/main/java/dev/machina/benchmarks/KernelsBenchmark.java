package dev.machina.benchmarks;

import dev.machina.vmm.packages.DebianLinuxRecipe;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.machina.benchmarks.Figures.seconds;

/**
 * The kernels users bring: linux_guest's boot with its own kernel (Debian's 6.1 cloud kernel) and
 * with each other kernel the integration tests boot, on Machina and on QEMU in the same run, and a
 * table of the ratios. QEMU boots each bzImage as it is, decompressor included; Machina unpacks it
 * on the host.
 */
final class KernelsBenchmark {
    /** The meta-packages of the other kernels, as the integration tests name them. */
    private static final List<String> KERNELS = List.of("linux-image-amd64", "linux-image-6.12-cloud-amd64", "linux-image-6.12-amd64");

    private KernelsBenchmark() {
    }

    static void run(LinuxGuest cloud, int rounds) throws Exception {
        Map<String, BootBenchmark.Medians> results = new LinkedHashMap<>();
        results.put("linux-image-cloud-amd64 (linux_guest)", BootBenchmark.run(cloud, rounds));
        // Written under the build output, named after each kernel, so that their builds are cached.
        Path packages = LinuxGuest.home().resolve("benchmarks/target/kernel-packages");
        Path linuxGuest = LinuxGuest.home().resolve("packages").resolve(LinuxGuest.PACKAGE);
        for (String kernel : KERNELS) {
            LinuxGuest guest = LinuxGuest.build(DebianLinuxRecipe.withKernel(linuxGuest, kernel, packages).toString());
            results.put(kernel, BootBenchmark.run(guest, rounds));
        }
        System.out.printf("kernels: boot to ready, median of %d%n%-40s %12s %12s %8s%n", rounds, "", "Machina", "QEMU", "ratio");
        results.forEach((kernel, medians) -> System.out.printf("%-40s %10.2f s %10.2f s %7.1fx%n",
                kernel, seconds(medians.machina()), seconds(medians.qemu()), medians.ratio()));
    }
}
