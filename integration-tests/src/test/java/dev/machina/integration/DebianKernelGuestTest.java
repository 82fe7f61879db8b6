package dev.machina.integration;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * linux_guest's init and busybox with another of Debian's kernels, on the Java CPU, through every
 * check of {@link JavaCpuLinuxGuestTest}: the kernels users bring. The package is written for the
 * test from linux_guest's files, its recipe naming the kernel, in a directory named after the
 * kernel's meta-package so that its build is cached from one run to the next.
 */
abstract class DebianKernelGuestTest extends JavaCpuLinuxGuestTest {
    private static final Path LINUX_GUEST = REPOSITORY.resolve("packages/linux_guest");

    @TempDir
    Path packages;

    /** The meta-package of the kernel, e.g. linux-image-6.12-amd64. */
    abstract String kernelPackage();

    @Override
    String guestPackage() throws Exception {
        Path directory = packages.resolve(kernelPackage());
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
            Files.copy(LINUX_GUEST.resolve("guest.cfg"), directory.resolve("guest.cfg"));
            Files.copy(LINUX_GUEST.resolve("init"), directory.resolve("init"));
            ObjectMapper json = new ObjectMapper();
            ObjectNode recipe = (ObjectNode) json.readTree(LINUX_GUEST.resolve("recipe.json").toFile());
            recipe.put("kernel", kernelPackage());
            json.writeValue(directory.resolve("recipe.json").toFile(), recipe);
        }
        return directory.toString();
    }
}
