package dev.machina.benchmarks;

import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.config.GuestConfig.Kernel;
import dev.machina.vmm.packages.GuestPackage;
import dev.machina.vmm.packages.GuestPackages;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * linux_guest built from its package, and how each VMM boots it: the same kernel, initramfs,
 * command line and memory. QEMU runs the standard PC machine because microvm has no HPET or PM
 * timer to fall back on when the PIT calibration of the TSC fails on a loaded host, and then the
 * guest may never boot.
 */
record LinuxGuest(Path repository, String packageName, Path kernel, Path ramdisk, String cmdline, long memoryBytes,
                  List<Path> systemDisks, String ready) {
    static final String PACKAGE = "linux_guest";
    /** What linux_guest's init prints when the shell is about to start. */
    static final String READY = "linux_guest: ready";

    /** Builds linux_guest if needed (its progress on standard output) and checks that the peer is installed. */
    static LinuxGuest build() throws IOException, InterruptedException {
        return build(PACKAGE);
    }

    /**
     * Builds the package {@code packageName} (a name under packages/ or a directory), a variant of
     * linux_guest, as {@link #build()} does.
     */
    static LinuxGuest build(String packageName) throws IOException, InterruptedException {
        return build(packageName, READY);
    }

    /**
     * Builds the package {@code packageName}, whose guest prints {@code ready} when its shell is
     * ready; the disks its guest.cfg names are booted without keeping the guest's writes (volatile
     * on Machina, snapshot on QEMU), so every boot starts from the same disk.
     */
    static LinuxGuest build(String packageName, String ready) throws IOException, InterruptedException {
        Path repository = home();
        GuestPackages packages = new GuestPackages(Optional.of(repository.resolve("packages")),
                GuestPackages.defaultCache(System.getenv(), Path.of(System.getProperty("user.home"))), repository);
        GuestPackage linux = packages.locate(packageName);
        linux.build(System.out::println, false);
        GuestConfig config = linux.readConfig().resolve();
        requireQemu();
        return new LinuxGuest(repository, packageName, ((Kernel.Linux) config.kernel()).path(), config.ramdisk().orElseThrow(),
                config.cmdline(), config.memoryBytes(), config.blocks().stream().map(BlockSpec::path).toList(), ready);
    }

    /** The repository ./bench runs from. */
    static Path home() {
        return Path.of(System.getProperty("machina.home", ".")).toAbsolutePath().normalize();
    }

    /**
     * The command that boots this guest on {@code vmm} with {@code cpus} vCPUs, its own disks and
     * then the raw {@code disks} as virtio-blk devices (vda, vdb... on both VMMs), its serial console on
     * standard input and output. QEMU keeps its default cache mode, writeback through the host's
     * page cache with flushes passed on, which is what Machina's disks do.
     */
    List<String> command(Vmm vmm, int cpus, List<Path> disks) {
        String memory = (memoryBytes >> 20) + "M";
        List<String> command = new ArrayList<>(switch (vmm) {
            case MACHINA -> List.of(repository.resolve("guest").toString(), "launch", packageName, "--backend=java",
                    "--cpus=" + cpus, "--memory=" + memory);
            case QEMU -> List.of("qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-cpu", "qemu64",
                    "-smp", Integer.toString(cpus), "-m", memory, "-nographic", "-no-reboot",
                    "-kernel", kernel.toString(), "-initrd", ramdisk.toString(), "-append", cmdline);
        });
        for (Path disk : systemDisks) {
            command.addAll(switch (vmm) {
                case MACHINA -> List.of("--block=" + disk + ",volatile,raw");
                case QEMU -> List.of("-drive", "file=" + disk + ",if=virtio,format=raw,snapshot=on");
            });
        }
        for (Path disk : disks) {
            command.addAll(switch (vmm) {
                case MACHINA -> List.of("--block=" + disk + ",rw,raw");
                case QEMU -> List.of("-drive", "file=" + disk + ",if=virtio,format=raw");
            });
        }
        return command;
    }

    /** One line for the reader: what every VMM boots. */
    String describe(int cpus) {
        return "kernel " + kernel + ", " + cpus + (cpus == 1 ? " vCPU, " : " vCPUs, ") + (memoryBytes >> 20) + " MiB, cmdline \"" + cmdline + "\""
                + (systemDisks.isEmpty() ? "" : ", disks " + systemDisks + " (the guest's writes not kept)");
    }

    private static void requireQemu() throws InterruptedException {
        try {
            new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start().waitFor();
        } catch (IOException e) {
            throw new IllegalStateException("the peer, qemu-system-x86_64, is not installed: run `apt-get install qemu-system-x86` (as root)");
        }
    }
}
