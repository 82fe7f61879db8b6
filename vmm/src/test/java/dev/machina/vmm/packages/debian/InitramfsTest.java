package dev.machina.vmm.packages.debian;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InitramfsTest {
    private static final byte[] INIT = "#!/bin/sh\necho hello\npoweroff -f\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path directory;

    private static Initramfs sample() {
        return new Initramfs()
                .directory("dev", 0755)
                .characterDevice("dev/console", 0600, 5, 1)
                .blockDevice("/dev/vda", 0660, 254, 0)
                .file("init", 0755, INIT)
                .file("bin/busybox", 0755, new byte[] {0x7F, 'E', 'L', 'F'})
                .symlink("bin/sh", "busybox");
    }

    record Read(String name, long mode, long rdevMajor, long rdevMinor, String content) {
    }

    private static List<Read> readBack(Path archive) throws Exception {
        List<Read> entries = new ArrayList<>();
        try (InputStream in = Files.newInputStream(archive);
             CpioArchiveInputStream cpio = new CpioArchiveInputStream(in)) {
            for (CpioArchiveEntry entry = cpio.getNextEntry(); entry != null; entry = cpio.getNextEntry()) {
                assertThat(entry.getFormat()).as("newc").isEqualTo((short) 1);
                entries.add(new Read(entry.getName(), entry.getMode(), entry.getRemoteDeviceMaj(), entry.getRemoteDeviceMin(),
                        new String(cpio.readAllBytes(), StandardCharsets.ISO_8859_1)));
            }
        }
        return entries;
    }

    @Test
    void writesNewcEntriesWithTypesModesAndDeviceNumbers() throws Exception {
        Path archive = directory.resolve("initrd.cpio");
        sample().write(archive);

        assertThat(readBack(archive)).containsExactly(
                new Read("dev", 040755, 0, 0, ""),
                new Read("dev/console", 020600, 5, 1, ""),
                new Read("dev/vda", 060660, 254, 0, ""),
                new Read("init", 0100755, 0, 0, new String(INIT, StandardCharsets.ISO_8859_1)),
                new Read("bin", 040755, 0, 0, ""),
                new Read("bin/busybox", 0100755, 0, 0, "\u007fELF"),
                new Read("bin/sh", 0120777, 0, 0, "busybox"));
    }

    @Test
    void theFileIsTheUncompressedNewcArchiveEndingInItsTrailer() throws Exception {
        Path archive = directory.resolve("initrd.cpio");
        sample().write(archive);
        String text = new String(Files.readAllBytes(archive), StandardCharsets.ISO_8859_1);

        assertThat(text).startsWith("070701");
        assertThat(text).contains("TRAILER!!!");
        assertThat(text.length() % 4).isZero();
    }

    @Test
    void refusesDuplicatesAndClimbingPaths() {
        assertThatThrownBy(() -> new Initramfs().file("init", 0755, INIT).file("/init", 0755, INIT))
                .hasMessage("the initramfs already has init");
        assertThatThrownBy(() -> new Initramfs().file("../etc/passwd", 0644, INIT))
                .hasMessageStartingWith("not a plain path");
        assertThatThrownBy(() -> new Initramfs().file("init", 0755, INIT).file("init/x", 0644, INIT))
                .hasMessageContaining("which is not a directory");
    }

    @Test
    void gnuCpioListsAndExtractsIt() throws Exception {
        Path cpio = Path.of("/usr/bin/cpio");
        assumeTrue(Files.isExecutable(cpio), "cpio is absent: install it (apt-get install cpio) to check the archive with it");
        Path archive = directory.resolve("initrd.cpio");
        sample().write(archive);
        Path extracted = Files.createDirectory(directory.resolve("root"));

        String listing = shell("cpio -tv < " + archive, directory);
        assertThat(listing).containsPattern("crw-------\\s+1 root\\s+root\\s+5,\\s+1 .* dev/console");
        assertThat(listing).containsPattern("brw-rw----\\s+1 root\\s+root\\s+254,\\s+0 .* dev/vda");
        assertThat(listing).containsPattern("lrwxrwxrwx .* bin/sh -> busybox");
        assertThat(listing.lines().filter(line -> line.startsWith("d") || line.startsWith("-"))).hasSize(4);

        shell("cpio -idm --no-absolute-filenames < " + archive, extracted);
        assertThat(Files.readAllBytes(extracted.resolve("init"))).isEqualTo(INIT);
        assertThat(Files.isExecutable(extracted.resolve("init"))).isTrue();
        assertThat(Files.readSymbolicLink(extracted.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
    }

    private static String shell(String command, Path workingDirectory) throws Exception {
        Process process = new ProcessBuilder("sh", "-c", command).directory(workingDirectory.toFile())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }
}
