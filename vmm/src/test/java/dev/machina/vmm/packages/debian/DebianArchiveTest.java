package dev.machina.vmm.packages.debian;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.abort;

class DebianArchiveTest {
    @TempDir
    Path directory;

    @Test
    void saysWhatToDoWithoutApt() {
        DebianArchive archive = new DebianArchive(Path.of("/nonexistent/apt-get"), Path.of("/nonexistent/apt-cache"), directory);

        assertThatThrownBy(() -> archive.download("busybox-static", directory, line -> { }))
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

    /**
     * An archive whose apt is two shell scripts: apt-cache describes package "tiny" 1:1.0-1 with the
     * SHA-256 of {@code good}, and apt-get download runs {@code fetch} in the directory it is given
     * (logging each call to {@code downloads.log}), so no test needs the network.
     */
    private DebianArchive fakeArchive(byte[] good, String fetch) throws Exception {
        Path bin = Files.createDirectories(directory.resolve("bin"));
        Path lists = Files.createDirectories(directory.resolve("lists"));
        Files.writeString(lists.resolve("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"), "");
        Files.write(directory.resolve("good.deb"), good);
        Path aptCache = bin.resolve("apt-cache");
        Files.writeString(aptCache, """
                #!/bin/sh
                printf 'Package: tiny\\nVersion: 1:1.0-1\\nArchitecture: amd64\\nSHA256: %s\\n\\n' "$(sha256sum '%s' | cut -d' ' -f1)"
                """.formatted("%s", directory.resolve("good.deb")));
        Path aptGet = bin.resolve("apt-get");
        Files.writeString(aptGet, "#!/bin/sh\necho \"$@\" >> '" + directory.resolve("downloads.log") + "'\n"
                + fetch.replace("GOOD", "'" + directory.resolve("good.deb") + "'") + "\n");
        for (Path script : List.of(aptCache, aptGet)) {
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return new DebianArchive(aptGet, aptCache, lists);
    }

    private int downloads() throws Exception {
        Path log = directory.resolve("downloads.log");
        return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    private static final String TINY_DEB = "tiny_1%3a1.0-1_amd64.deb";
    private static final byte[] CONTENT = "!<arch>\nthe package's bytes\n".getBytes(StandardCharsets.UTF_8);

    @Test
    void aTruncatedPackageUnderItsFinalNameIsFetchedAgain() throws Exception {
        DebianArchive archive = fakeArchive(CONTENT, "cp GOOD tiny_1%3a1.0-1_amd64.deb");
        Path cache = Files.createDirectories(directory.resolve("cache"));
        Files.write(cache.resolve(TINY_DEB), Arrays.copyOf(CONTENT, 10));
        List<String> said = new ArrayList<>();

        Path deb = archive.download("tiny", cache, said::add);

        assertThat(deb).isEqualTo(cache.resolve(TINY_DEB));
        assertThat(Files.readAllBytes(deb)).isEqualTo(CONTENT);
        assertThat(said).containsExactly(deb + " is corrupt (its SHA-256 is not the archive's): downloading tiny 1:1.0-1 again");
        assertThat(downloads()).isEqualTo(1);
        assertThat(archive.download("tiny", cache, said::add)).as("verified, not fetched again").isEqualTo(deb);
        assertThat(downloads()).isEqualTo(1);
    }

    @Test
    void aDownloadThatIsCutOffLeavesNothingUnderTheFinalName() throws Exception {
        DebianArchive archive = fakeArchive(CONTENT, "head -c 10 GOOD > tiny_1%3a1.0-1_amd64.deb; echo 'E: killed' >&2; exit 100");
        Path cache = Files.createDirectories(directory.resolve("cache"));
        Files.createDirectories(cache.resolve(".partial-987"));
        Files.writeString(cache.resolve(".partial-987/" + TINY_DEB), "left by a killed download");

        assertThatThrownBy(() -> archive.download("tiny", cache, line -> { }))
                .isInstanceOf(DebianException.class)
                .hasMessageContaining("E: killed");
        try (var left = Files.list(cache)) {
            assertThat(left).as("neither a partial file nor a download directory").isEmpty();
        }
    }

    @Test
    void aDownloadWhoseDigestIsNotTheArchivesIsRefused() throws Exception {
        DebianArchive archive = fakeArchive(CONTENT, "echo garbage > tiny_1%3a1.0-1_amd64.deb");
        Path cache = Files.createDirectories(directory.resolve("cache"));

        assertThatThrownBy(() -> archive.download("tiny", cache, line -> { }))
                .hasMessageStartingWith("apt-get download tiny gave a " + TINY_DEB + " whose SHA-256 is not the archive's ");
        try (var left = Files.list(cache)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void readsThePackagesAptWouldFetchFromItsPrintedUris() throws Exception {
        String output = """
                'http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9%2bdeb12u14_amd64.deb' libc6_2.36-9+deb12u14_amd64.deb 2759320 MD5Sum:8d98f0c882f269aaee8437bcfe89346e
                'http://deb.debian.org/debian/pool/main/b/busybox/busybox-static_1%3a1.35.0-4%2bdeb12u1%2bb1_amd64.deb' busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb 900000 SHA256:3d3f
                'http://deb.debian.org/debian/pool/main/d/debconf/debconf_1.5.82_all.deb' debconf_1.5.82_all.deb 121000 MD5Sum:00
                """;

        assertThat(DebianArchive.printedUris(output)).containsExactly("libc6=2.36-9+deb12u14", "busybox-static=1:1.35.0-4+deb12u1+b1",
                "debconf=1.5.82");
        assertThat(DebianArchive.printedUris("W: a warning, not a package\n")).isEmpty();
        assertThatThrownBy(() -> DebianArchive.printedUris("'http://example/x' x.deb 1 MD5Sum:00\n"))
                .hasMessage("apt-get install --print-uris printed a line that names no package: 'http://example/x' x.deb 1 MD5Sum:00");
    }

    @Test
    void takesEachPackagesDigestFromItsStanzaInTheOrderAsked() throws Exception {
        String stanzas = """
                Package: debconf
                Version: 1.5.82
                Architecture: all
                Description: Debian configuration management system
                 A continuation line: with a colon.
                SHA256: BBBB

                Package: libc6
                Version: 2.36-9+deb12u14
                Architecture: amd64
                SHA256: aaaa

                Package: libc6
                Version: 2.36-9+deb12u14
                Architecture: amd64
                SHA256: cccc
                """;

        assertThat(DebianArchive.candidates(stanzas, List.of("libc6=2.36-9+deb12u14", "debconf=1.5.82"))).containsExactly(
                new DebianArchive.Candidate("libc6", "2.36-9+deb12u14", "amd64", "aaaa"),
                new DebianArchive.Candidate("debconf", "1.5.82", "all", "bbbb"));
        assertThatThrownBy(() -> DebianArchive.candidates(stanzas, List.of("libc6=2.36-9")))
                .hasMessage("apt-cache show libc6=2.36-9 did not describe that package");
    }

    @Test
    void downloadsWhatIsMissingInOneFetchAndVerifiesEachPackage() throws Exception {
        byte[] other = "!<arch>\nanother package\n".getBytes(StandardCharsets.UTF_8);
        Files.write(directory.resolve("other.deb"), other);
        // apt-get download copies the test's files under the name of each name=version it is given.
        DebianArchive archive = fakeArchive(CONTENT, """
                for request in "$@"; do
                    case "$request" in
                        tiny=*) cp GOOD tiny_1%3a1.0-1_amd64.deb ;;
                        other=*) cp '""" + directory.resolve("other.deb") + """
                ' other_2.0_all.deb ;;
                    esac
                done""");
        DebianArchive.Candidate tiny = new DebianArchive.Candidate("tiny", "1:1.0-1", "amd64", Sha256.of(directory.resolve("good.deb")));
        DebianArchive.Candidate second = new DebianArchive.Candidate("other", "2.0", "all", Sha256.of(directory.resolve("other.deb")));
        Path cache = Files.createDirectories(directory.resolve("cache"));
        List<String> said = new ArrayList<>();

        List<Path> debs = archive.download(List.of(tiny, second), cache, said::add);

        assertThat(debs).containsExactly(cache.resolve(TINY_DEB), cache.resolve("other_2.0_all.deb"));
        assertThat(Files.readAllBytes(debs.get(1))).isEqualTo(other);
        assertThat(said).containsExactly("downloading 2 packages");
        assertThat(Files.readAllLines(directory.resolve("downloads.log"))).containsExactly("download tiny=1:1.0-1 other=2.0");

        Files.write(debs.get(1), "garbage".getBytes(StandardCharsets.UTF_8));
        said.clear();
        assertThat(archive.download(List.of(tiny, second), cache, said::add)).isEqualTo(debs);
        assertThat(said).containsExactly(debs.get(1) + " is corrupt (its SHA-256 is not the archive's): downloading other 2.0 again");
        assertThat(Files.readAllLines(directory.resolve("downloads.log")).getLast()).as("only the corrupt one").isEqualTo("download other=2.0");
        assertThat(Files.readAllBytes(debs.get(1))).isEqualTo(other);
    }

    @Test
    void ofSeveralPackagesAskedForNamesTheOneMissing() throws Exception {
        DebianArchive archive = fakeArchive(CONTENT, "echo 'E: Unable to locate package nosuch' >&2; exit 100");

        assertThatThrownBy(() -> archive.closure(List.of("?priority(required)", "nosuch", "systemd")))
                .isInstanceOf(DebianException.class)
                .hasMessage("package nosuch is not in the Debian archive's package lists");
        assertThat(Files.readAllLines(directory.resolve("downloads.log"))).containsExactly("install --print-uris -qq"
                + " --no-install-recommends -o Dir::State::status=/dev/null -o Dir::Cache::archives=/nonexistent"
                + " -o Debug::NoLocking=true ?priority(required) nosuch systemd");
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

        assertThatThrownBy(() -> archive.download("machina-no-such-package", directory, line -> { }))
                .hasMessage("package machina-no-such-package is not in the Debian archive's package lists");
        assertThatThrownBy(() -> archive.resolve("busybox-static", "linux-image-"))
                .hasMessage("busybox-static has no dependency named linux-image-*: it is not the meta-package expected");
    }

    @Test
    void resolvesTheRequiredSetWithWhatItDependsOnAndTheArchivesDigests() throws Exception {
        List<DebianArchive.Candidate> system = systemArchive().closure(List.of("?priority(required)", "busybox-static"));

        assertThat(system).extracting(DebianArchive.Candidate::name)
                .contains("base-passwd", "dpkg", "libc6", "busybox-static")
                .as("dependencies of the required set, not required themselves").contains("libgcc-s1")
                .doesNotHaveDuplicates();
        assertThat(system).allSatisfy(candidate -> assertThat(candidate.sha256()).matches("[0-9a-f]{64}"));
        assertThat(system).filteredOn(candidate -> candidate.name().equals("busybox-static"))
                .containsExactly(systemArchive().candidate("busybox-static"));
    }

    @Test
    void downloadsOnceAndExtractsBusybox() throws Exception {
        DebianArchive archive = systemArchive();
        DebianArchive.Candidate candidate = archive.candidate("busybox-static");
        Path deb;
        try {
            deb = archive.download("busybox-static", directory.resolve("cache"), line -> { });
        } catch (DebianException e) {
            abort("the Debian archive is unreachable: " + e.getMessage());
            return;
        }

        assertThat(deb.getFileName().toString()).startsWith("busybox-static_").endsWith("_amd64.deb")
                .contains(candidate.version().replace(":", "%3a"));
        FileTime downloaded = Files.getLastModifiedTime(deb);
        Files.setLastModifiedTime(deb, FileTime.fromMillis(downloaded.toMillis() - 60_000));
        assertThat(archive.download("busybox-static", directory.resolve("cache"), line -> { })).isEqualTo(deb);
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
