package dev.machina.benchmarks;

import dev.machina.console.GuestConsole;

import java.io.IOException;
import java.time.Duration;

/**
 * The guest's side of the workloads: before anything is timed, the kernel's messages are kept off
 * the console (a warning would land in the middle of a workload's answer) and the files the
 * workloads read are written into a tmpfs. The data is deterministic and not trivial: the
 * initramfs's busybox binary, machine code that gzip halves, repeated to 16 MiB.
 */
final class Workspace {
    static final String DATA = "/tmp/data";
    static final String PART = "/tmp/part";
    static final String LINES = "/tmp/lines";
    static final int DATA_MIB = 16;
    static final int PART_MIB = 4;
    static final int LINE_COUNT = 200_000;
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    /** Base64 turns 6 bytes into one line of 8 characters. */
    private static final int LINE_SOURCE_BYTES = LINE_COUNT * 6;
    /** busybox's copies needed to fill DATA (it is about 1.9 MiB). */
    private static final int COPIES = 9;

    private Workspace() {
    }

    /** Prepares {@code vmm}'s guest for the workloads; fails if a file is not what it should be. */
    static void prepare(Vmm vmm, GuestConsole console) throws IOException, InterruptedException {
        // busybox's head -c copies a byte at a time (seconds on QEMU); cat, truncate and dd copy in blocks.
        String commands = String.join(" && ",
                "dmesg -n 1",
                "dmesg -c >/dev/null",
                "mount -t tmpfs tmpfs /tmp",
                "cat" + " /bin/busybox".repeat(COPIES) + " >" + DATA,
                "truncate -s " + (DATA_MIB << 20) + " " + DATA,
                "dd if=" + DATA + " of=" + PART + " bs=1M count=" + PART_MIB + " 2>/dev/null",
                "dd if=" + DATA + " bs=" + LINE_SOURCE_BYTES + " count=1 2>/dev/null | base64 -w 8 >" + LINES,
                "wc -c <" + DATA,
                "wc -c <" + PART,
                "wc -l <" + LINES);
        String sizes = console.run(commands, TIMEOUT);
        String expected = (DATA_MIB << 20) + "\n" + (PART_MIB << 20) + "\n" + LINE_COUNT;
        if (!sizes.equals(expected)) {
            throw new IllegalStateException("preparing the workloads' files on %s printed%n%s%ninstead of their sizes%n%s"
                    .formatted(vmm, sizes, expected));
        }
    }

    /** The warnings, errors and lockups the guest's kernel logged since {@link #prepare}, one a line; empty if none. */
    static String kernelTrouble(GuestConsole console) throws IOException, InterruptedException {
        return console.run("dmesg | grep -iE 'warn|error|bug|lockup|stall|oops|panic|segfault' || true", TIMEOUT);
    }
}
