package dev.machina.vmm.packages.debian;

import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DebPackageTest {
    private static final byte[] BUSYBOX = "\u007fELF busybox".getBytes(StandardCharsets.ISO_8859_1);

    @TempDir
    Path directory;

    /** A tar entry to put in data.tar: a directory (no content), file, symlink or hard link. */
    private record Member(String name, int mode, byte type, String link, byte[] content) {
        static Member directory(String name) {
            return new Member(name, 0755, TarConstants.LF_DIR, null, new byte[0]);
        }

        static Member file(String name, int mode, byte[] content) {
            return new Member(name, mode, TarConstants.LF_NORMAL, null, content);
        }

        static Member symlink(String name, String target) {
            return new Member(name, 0777, TarConstants.LF_SYMLINK, target, new byte[0]);
        }

        static Member hardLink(String name, String target) {
            return new Member(name, 0755, TarConstants.LF_LINK, target, new byte[0]);
        }
    }

    private static byte[] tar(Function<OutputStream, OutputStream> compressor, List<Member> members) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(compressor.apply(bytes))) {
            for (Member member : members) {
                TarArchiveEntry entry = new TarArchiveEntry(member.name(), member.type());
                entry.setMode(member.mode());
                entry.setSize(member.type() == TarConstants.LF_NORMAL ? member.content().length : 0);
                if (member.link() != null) {
                    entry.setLinkName(member.link());
                }
                tar.putArchiveEntry(entry);
                tar.write(member.content());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static OutputStream xz(OutputStream out) {
        try {
            return new XZCompressorOutputStream(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static OutputStream gzip(OutputStream out) {
        try {
            return new GzipCompressorOutputStream(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A .deb as dpkg-deb builds it: debian-binary, control.tar.xz, then the data member. */
    private Path deb(String dataMember, byte[] data) throws IOException {
        Path file = Files.createTempFile(directory, "test_1.0_amd64-", ".deb");
        try (ArArchiveOutputStream ar = new ArArchiveOutputStream(Files.newOutputStream(file))) {
            byte[] control = tar(DebPackageTest::xz, List.of(Member.file("./control", 0644, "Package: test\n".getBytes())));
            for (var member : List.of(
                    new Object[] {"debian-binary", "2.0\n".getBytes()},
                    new Object[] {"control.tar.xz", control},
                    new Object[] {dataMember, data})) {
                byte[] content = (byte[]) member[1];
                ar.putArchiveEntry(new ArArchiveEntry((String) member[0], content.length));
                ar.write(content);
                ar.closeArchiveEntry();
            }
        }
        return file;
    }

    private static List<Member> busyboxStatic() {
        return List.of(
                Member.directory("./"),
                Member.directory("./bin/"),
                Member.file("./bin/busybox", 0755, BUSYBOX),
                Member.symlink("./bin/sh", "busybox"),
                Member.hardLink("./bin/bb", "./bin/busybox"),
                Member.directory("./usr/share/doc/busybox-static/"),
                Member.file("./usr/share/doc/busybox-static/copyright", 0644, "GPL".getBytes()));
    }

    @Test
    void extractsChosenFilesWithModesAndLinksFromDataTarXz() throws Exception {
        DebPackage deb = DebPackage.open(deb("data.tar.xz", tar(DebPackageTest::xz, busyboxStatic())));
        Path target = directory.resolve("out");

        List<Path> made = deb.extract(DebPackage.glob("bin/*"), target);

        assertThat(made).containsExactly(target.resolve("bin/busybox"), target.resolve("bin/sh"), target.resolve("bin/bb"));
        assertThat(Files.readAllBytes(target.resolve("bin/busybox"))).isEqualTo(BUSYBOX);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("bin/busybox")))).isEqualTo("rwxr-xr-x");
        assertThat(Files.readSymbolicLink(target.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(Files.isSameFile(target.resolve("bin/bb"), target.resolve("bin/busybox"))).isTrue();
        assertThat(target.resolve("usr")).doesNotExist();
    }

    @Test
    void readsDataTarGzToo() throws Exception {
        DebPackage deb = DebPackage.open(deb("data.tar.gz", tar(DebPackageTest::gzip, busyboxStatic())));
        Path target = directory.resolve("out");

        deb.extract(DebPackage.glob("usr/share/doc/**"), target);

        Path copyright = target.resolve("usr/share/doc/busybox-static/copyright");
        assertThat(copyright).hasContent("GPL");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copyright))).isEqualTo("rw-r--r--");
    }

    @Test
    void refusesEntriesThatLeaveTheTarget() throws Exception {
        Path climbing = deb("data.tar.xz", tar(DebPackageTest::xz, List.of(Member.file("./../evil", 0644, BUSYBOX))));
        Path throughLink = deb("data.tar.xz", tar(DebPackageTest::xz, List.of(
                Member.symlink("./escape", directory.toString()), Member.file("./escape/evil", 0644, BUSYBOX))));
        Path target = directory.resolve("out");

        assertThatThrownBy(() -> DebPackage.open(climbing).extract(name -> true, target))
                .isInstanceOf(DebianException.class)
                .hasMessageContaining("would be extracted outside the target directory");
        assertThatThrownBy(() -> DebPackage.open(throughLink).extract(name -> true, target))
                .hasMessageContaining("lies behind a symbolic link that leaves");
        assertThat(directory.resolve("evil")).doesNotExist();
    }

    @Test
    void namesTheFileWhenItIsNotADebianPackage() throws Exception {
        Path notDeb = Files.writeString(directory.resolve("not.deb"), "!<arch>\nhello");
        Path zstd = deb("data.tar.zst", new byte[16]);

        assertThatThrownBy(() -> DebPackage.open(notDeb).extract(name -> true, directory.resolve("out")))
                .hasMessageStartingWith(notDeb + ": ");
        assertThatThrownBy(() -> DebPackage.open(zstd).extract(name -> true, directory.resolve("out")))
                .hasMessage(zstd + ": data.tar.zst is compressed in a format Machina does not read (it reads xz and gzip)");
    }

    @Test
    void aTruncatedPackageIsSaidToBeTruncated() throws Exception {
        Path whole = deb("data.tar.xz", tar(DebPackageTest::xz, busyboxStatic()));
        byte[] bytes = Files.readAllBytes(whole);
        Path truncated = Files.write(directory.resolve("truncated.deb"), java.util.Arrays.copyOf(bytes, bytes.length - 40));

        assertThatThrownBy(() -> DebPackage.open(truncated).extract(name -> true, directory.resolve("out")))
                .isInstanceOf(DebianException.class)
                .hasMessageStartingWith(truncated + ": cannot read the package: ")
                .hasMessageNotContaining("null");
    }
}
