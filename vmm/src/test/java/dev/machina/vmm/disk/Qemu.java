package dev.machina.vmm.disk;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * QEMU's qemu-img and qemu-io (Debian's qemu-utils), which the qcow2 tests check Machina against:
 * they make the images Machina reads, and judge the ones it wrote.
 */
final class Qemu {
    private Qemu() {
    }

    /** Runs {@code command} in {@code directory}; fails the test with its output unless it succeeds. Returns its output. */
    static String run(Path directory, String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return fail(command[0] + " is not installed: the qcow2 tests check Machina against QEMU's tools"
                    + " (apt-get install qemu-utils)", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            fail(String.join(" ", command) + " failed (exit status " + process.exitValue() + "):\n" + output);
        }
        return output;
    }

    /** Makes a qcow2 image with {@code qemu-img create}, options such as {@code "-o", "compat=0.10"} before its name. */
    static Path create(Path directory, String name, String size, String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        command.addAll(List.of(options));
        command.addAll(List.of(name, size));
        run(directory, command.toArray(String[]::new));
        return directory.resolve(name);
    }

    /** Runs qemu-io's commands ({@code "write -P 0xab 0 64k"}) on the image, in one process. */
    static void io(Path image, String... commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String each : commands) {
            command.addAll(List.of("-c", each));
        }
        command.add(image.toString());
        run(image.getParent(), command.toArray(String[]::new));
    }

    /** Fails unless {@code qemu-img check} finds the image free of corruption and leaks (its exit status 0). */
    static void check(Path image) throws IOException, InterruptedException {
        run(image.getParent(), "qemu-img", "check", "-q", image.toString());
    }

    /** Fails unless {@code qemu-img check} finds no corruption, only leaks perhaps (its exit status 0 or 3). */
    static void checkForCorruption(Path image) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("qemu-img", "check", image.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("qemu-img check's exit status (3: leaks only):\n" + output).isIn(0, 3);
    }

    /** What {@code qemu-img map} says of the extent of the image that {@code offset} lies in: "zero", "data", and "offset" where it has host clusters. */
    static Map<String, Object> extentAt(Path image, long offset) throws IOException, InterruptedException {
        String json = run(image.getParent(), "qemu-img", "map", "--output=json", image.toString());
        for (Map<String, Object> extent : new ObjectMapper().readValue(json, new TypeReference<List<Map<String, Object>>>() { })) {
            long start = ((Number) extent.get("start")).longValue();
            if (offset >= start && offset < start + ((Number) extent.get("length")).longValue()) {
                return extent;
            }
        }
        return fail("qemu-img map says nothing of offset " + offset + ":\n" + json);
    }

    /** The disk as QEMU reads it: {@code qemu-img convert -O raw}, with {@code options} such as a snapshot to read. */
    static byte[] contents(Path image, String... options) throws IOException, InterruptedException {
        Path raw = Files.createTempFile(image.getParent(), "converted", ".raw");
        List<String> command = new ArrayList<>(List.of("qemu-img", "convert", "-O", "raw"));
        command.addAll(List.of(options));
        command.addAll(List.of(image.toString(), raw.toString()));
        run(image.getParent(), command.toArray(String[]::new));
        byte[] bytes = Files.readAllBytes(raw);
        Files.delete(raw);
        return bytes;
    }
}
