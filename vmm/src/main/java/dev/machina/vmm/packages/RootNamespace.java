package dev.machina.vmm.packages;

import com.sun.security.auth.module.UnixSystem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a build's commands as root of a mount and PID namespace of their own ({@code unshare}), with
 * a clean environment: what they mount (a chroot's /proc and /dev) is never seen by the host and is
 * gone when they end, however they end, so nothing that deletes their files afterwards can reach
 * through a mount into the host's /dev. Root needs nothing more. Any other user gets a user
 * namespace in which they are root and their subordinate ids ({@code /etc/subuid},
 * {@code /etc/subgid}, mapped by {@code newuidmap}) stand for every other user and group: dpkg can
 * then give files the owners packages name, and mke2fs, run in such a namespace too, copies those
 * owners into the image. (A namespace mapping the user alone could not: a chown to any other id
 * fails there.) Files such a build leaves are owned on the host by subordinate ids, which is why
 * they are deleted from inside a namespace too ({@link #delete}).
 *
 * @param root whether the build runs as root
 */
record RootNamespace(boolean root) {
    private static final String ENVIRONMENT_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * The namespace for the user running Machina.
     *
     * @throws PackageException if that user is not root and cannot have one, saying what to set up
     */
    static RootNamespace forThisUser() {
        UnixSystem user = new UnixSystem();
        if (user.getUid() == 0) {
            return new RootNamespace(true);
        }
        if (!Files.isExecutable(Path.of("/usr/bin/newuidmap")) || !Files.isExecutable(Path.of("/usr/bin/newgidmap"))) {
            throw new PackageException("building a Debian system as a user other than root needs newuidmap and newgidmap:"
                    + " install the uidmap package, or build as root");
        }
        String name = user.getUsername();
        for (String file : List.of("/etc/subuid", "/etc/subgid")) {
            if (!hasSubordinateIds(read(Path.of(file)), name, user.getUid())) {
                throw new PackageException("building a Debian system as a user other than root needs subordinate ids: "
                        + file + " gives " + name + " none (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "
                        + name + " gives some), or build as root");
            }
        }
        return new RootNamespace(false);
    }

    /** {@code command} run in a namespace of its own, with only a PATH that has the system programs (mke2fs, chroot) in it. */
    List<String> command(List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of("unshare", "--mount", "--pid", "--fork", "--kill-child"));
        if (!root) {
            wrapped.addAll(1, List.of("--user", "--map-root-user", "--map-auto"));
        }
        wrapped.addAll(List.of("--", "env", "-i", ENVIRONMENT_PATH, "LC_ALL=C"));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Deletes {@code directory} and everything in it from inside a namespace, where the files a
     * build gave to other owners are root's. {@code --one-file-system}: should a mount ever be left
     * under it, it is skipped rather than emptied.
     *
     * @throws PackageException if it cannot, with what rm said
     */
    void delete(Path directory) {
        try {
            Process rm = new ProcessBuilder(command(List.of("rm", "-rf", "--one-file-system", directory.toAbsolutePath().toString())))
                    .redirectErrorStream(true).start();
            String output = new String(rm.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (rm.waitFor() != 0) {
                throw new PackageException("cannot delete " + directory + ": " + output);
            }
        } catch (IOException e) {
            throw new PackageException("cannot delete " + directory + ": cannot run unshare (" + e.getMessage() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PackageException("interrupted while deleting " + directory);
        }
    }

    /**
     * Whether the lines of /etc/subuid or /etc/subgid ({@code name:first:count}, the name or the
     * numeric id) give the user a range of at least 65536 ids, the first block {@code unshare
     * --map-auto} maps: enough for every id a Debian system's packages use.
     */
    static boolean hasSubordinateIds(List<String> lines, String name, long uid) {
        for (String line : lines) {
            String[] fields = line.strip().split(":");
            if (fields.length == 3 && (fields[0].equals(name) || fields[0].equals(Long.toString(uid)))) {
                try {
                    return Long.parseLong(fields[2]) >= 65536;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return false;
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
    }
}
