package dev.machina.vmm.packages.debian;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.abort;

class DebianArchiveTest {
    @TempDir
    Path directory;

    @Test
    void saysWhatToDoWithoutApt() {
        DebianArchive archive = new DebianArchive(Path.of("/nonexistent/apt-get"), Path.of("/nonexistent/apt-cache"), directory);

        assertThatThrownBy(() -> archive.download("busybox-static", directory))
                .isInstanceOf(DebianException.class)
                .hasMessage("apt-get not found: Machina builds Linux guests from Debian packages; run on Debian or Ubuntu");
    }

    @Test
    void saysWhatToDoWithEmptyPackageLists() {
        Path bin = Path.of("/bin/true");
        DebianArchive archive = new DebianArchive(bin, bin, directory);

        assertThatThrownBy(() -> archive.resolve("linux-image-cloud-amd64", "linux-image-"))
                .hasMessage("the package lists are empty: run `apt-get update` (as root) first");
    }

    /** The host's apt, or the test is skipped saying what is missing. */
    private static DebianArchive systemArchive() {
        DebianArchive archive = DebianArchive.system();
        try {
            archive.candidate("busybox-static");
        } catch (DebianException e) {
            abort("the host's apt cannot look up Debian packages: " + e.getMessage());
        }
        return archive;
    }

    @Test
    void resolvesTheCloudKernelMetaPackage() throws Exception {
        String real = systemArchive().resolve("linux-image-cloud-amd64", "linux-image-");

        assertThat(real).matches("linux-image-\\d+\\.\\d+\\.\\d+-\\d+-cloud-amd64");
    }

    @Test
    void namesAPackageThatDoesNotExist() {
        DebianArchive archive = systemArchive();

        assertThatThrownBy(() -> archive.download("machina-no-such-package", directory))
                .hasMessage("package machina-no-such-package is not in the Debian archive's package lists");
        assertThatThrownBy(() -> archive.resolve("busybox-static", "linux-image-"))
                .hasMessage("busybox-static has no dependency named linux-image-*: it is not the meta-package expected");
    }

    @Test
    void downloadsOnceAndExtractsBusybox() throws Exception {
        DebianArchive archive = systemArchive();
        DebianArchive.Candidate candidate = archive.candidate("busybox-static");
        Path deb;
        try {
            deb = archive.download("busybox-static", directory.resolve("cache"));
        } catch (DebianException e) {
            abort("the Debian archive is unreachable: " + e.getMessage());
            return;
        }

        assertThat(deb.getFileName().toString()).startsWith("busybox-static_").endsWith("_amd64.deb")
                .contains(candidate.version().replace(":", "%3a"));
        FileTime downloaded = Files.getLastModifiedTime(deb);
        Files.setLastModifiedTime(deb, FileTime.fromMillis(downloaded.toMillis() - 60_000));
        assertThat(archive.download("busybox-static", directory.resolve("cache"))).isEqualTo(deb);
        assertThat(Files.getLastModifiedTime(deb).toMillis()).as("not fetched again").isEqualTo(downloaded.toMillis() - 60_000);

        DebPackage.open(deb).extract(DebPackage.glob("bin/busybox"), directory.resolve("root"));
        Path busybox = directory.resolve("root/bin/busybox");
        assertThat(Files.isExecutable(busybox)).isTrue();
        assertThat(Files.size(busybox)).isGreaterThan(1 << 20);
        byte[] magic = new byte[4];
        try (var in = Files.newInputStream(busybox)) {
            assertThat(in.read(magic)).isEqualTo(4);
        }
        assertThat(magic).containsExactly(0x7F, 'E', 'L', 'F');
    }
}
