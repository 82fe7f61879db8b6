package dev.machina.vmm.packages.debian;

import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A Debian binary package ({@code .deb}): an ar archive whose {@code data.tar.xz} (or
 * {@code .gz}) holds the files it installs. Reads the archive as a stream, extracting the chosen
 * entries with their permission bits, symbolic and hard links, and nothing outside the target
 * directory.
 */
public final class DebPackage {
    private final Path file;

    private DebPackage(Path file) {
        this.file = file;
    }

    public static DebPackage open(Path file) {
        return new DebPackage(file);
    }

    public Path file() {
        return file;
    }

    /**
     * Selects entries by glob patterns over their paths without the leading "./", e.g.
     * {@code "boot/vmlinuz-*"} or {@code "lib/modules/**"}.
     */
    public static Predicate<String> glob(String... patterns) {
        List<PathMatcher> matchers = Arrays.stream(patterns)
                .map(pattern -> FileSystems.getDefault().getPathMatcher("glob:" + pattern)).toList();
        return name -> matchers.stream().anyMatch(matcher -> matcher.matches(Path.of(name)));
    }

    /**
     * Extracts the data entries whose paths {@code select} accepts into {@code target}, creating
     * missing parent directories, and returns the paths made, in archive order.
     */
    public List<Path> extract(Predicate<String> select, Path target) throws DebianException {
        try (InputStream deb = new BufferedInputStream(Files.newInputStream(file));
             ArArchiveInputStream ar = new ArArchiveInputStream(deb)) {
            for (ArArchiveEntry member = ar.getNextEntry(); member != null; member = ar.getNextEntry()) {
                if (member.getName().startsWith("data.tar")) {
                    try (TarArchiveInputStream tar = new TarArchiveInputStream(decompress(member.getName(), ar))) {
                        return extract(tar, select, target);
                    }
                }
            }
            throw problem("no data.tar member: not a Debian binary package");
        } catch (IOException e) {
            // A truncated archive ends its stream early, which the libraries report without a message.
            throw problem("cannot read the package: " + (e.getMessage() != null ? e.getMessage() : "it is truncated or corrupt"));
        }
    }

    private InputStream decompress(String member, InputStream data) throws IOException, DebianException {
        return switch (member) {
            case "data.tar.xz" -> new XZCompressorInputStream(data);
            case "data.tar.gz" -> new GzipCompressorInputStream(data);
            case "data.tar" -> data;
            default -> throw problem(member + " is compressed in a format Machina does not read (it reads xz and gzip)");
        };
    }

    private List<Path> extract(TarArchiveInputStream tar, Predicate<String> select, Path target)
            throws IOException, DebianException {
        Path root = Files.createDirectories(target).toRealPath();
        List<Path> made = new ArrayList<>();
        for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
            String name = entry.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
            if (name.isEmpty() || name.equals(".") || !select.test(name)) {
                continue;
            }
            Path path = inside(root, name);
            Path existing = path.getParent();
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (!existing.toRealPath().startsWith(root)) {
                throw problem(entry.getName() + " lies behind a symbolic link that leaves " + target);
            }
            Files.createDirectories(path.getParent());
            if (entry.isDirectory()) {
                Files.createDirectories(path);
            } else if (entry.isSymbolicLink()) {
                Files.deleteIfExists(path);
                Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
            } else if (entry.isLink()) {
                Files.deleteIfExists(path);
                Files.createLink(path, inside(root, entry.getLinkName().replaceFirst("^\\./", "")));
            } else if (entry.isFile()) {
                Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
            } else {
                continue;
            }
            if (!entry.isSymbolicLink()) {
                Files.setPosixFilePermissions(path, permissions(entry.getMode()));
            }
            made.add(path);
        }
        return made;
    }

    /** {@code name} resolved in {@code root}, refusing names that climb out of it. */
    private Path inside(Path root, String name) throws DebianException {
        Path path = root.resolve(name).normalize();
        if (!path.startsWith(root) || path.equals(root)) {
            throw problem("entry " + name + " would be extracted outside the target directory");
        }
        return path;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, high bit first
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (bits.length - 1 - i))) != 0) {
                permissions.add(bits[i]);
            }
        }
        return permissions;
    }

    private DebianException problem(String problem) {
        return new DebianException(file + ": " + problem);
    }
}
