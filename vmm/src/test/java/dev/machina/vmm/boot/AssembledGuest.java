package dev.machina.vmm.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Tiny 64-bit test programs, assembled and linked at 1 MiB with GNU binutils (the test is skipped without them). */
public final class AssembledGuest {
    public static final long LOAD_ADDRESS = 0x100000;

    private AssembledGuest() {
    }

    /** Assembles {@code body} (entered at its first instruction) into {@code directory}/guest.elf. */
    public static Path build(Path directory, String body) throws IOException, InterruptedException {
        return build(directory, body, LOAD_ADDRESS);
    }

    /** As {@link #build(Path, String)}, linked at {@code loadAddress}. */
    public static Path build(Path directory, String body, long loadAddress) throws IOException, InterruptedException {
        Files.writeString(directory.resolve("guest.S"), ".code64\n.text\n.globl _start\n_start:\n" + body + "\n");
        Files.writeString(directory.resolve("guest.ld"),
                "ENTRY(_start)\nSECTIONS { . = 0x%x; .text : { *(.text) } .data : { *(.data) } }\n".formatted(loadAddress));
        run(directory, List.of("as", "--64", "-o", "guest.o", "guest.S"));
        run(directory, List.of("ld", "-static", "-nostdlib", "-T", "guest.ld", "-o", "guest.elf", "guest.o"));
        return directory.resolve("guest.elf");
    }

    private static void run(Path directory, List<String> command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, command.getFirst() + " (GNU binutils) is not installed");
            throw e;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
