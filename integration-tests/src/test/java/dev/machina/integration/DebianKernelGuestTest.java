package dev.machina.integration;

import dev.machina.vmm.packages.DebianLinuxRecipe;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * linux_guest's init and busybox with another of Debian's kernels, on the Java CPU, through every
 * check of {@link JavaCpuLinuxGuestTest}: the kernels users bring. The package is written for the
 * test from linux_guest's files ({@link DebianLinuxRecipe#withKernel}), in a directory named after
 * the kernel's meta-package so that its build is cached from one run to the next.
 */
abstract class DebianKernelGuestTest extends JavaCpuLinuxGuestTest {
    private static final Path LINUX_GUEST = REPOSITORY.resolve("packages/linux_guest");

    @TempDir
    Path packages;

    /** The meta-package of the kernel, e.g. linux-image-6.12-amd64. */
    abstract String kernelPackage();

    @Override
    String guestPackage() throws Exception {
        return DebianLinuxRecipe.withKernel(LINUX_GUEST, kernelPackage(), packages).toString();
    }
}
