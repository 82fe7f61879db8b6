package dev.machina.vmm.packages;

import dev.machina.vmm.config.ByteSize;
import dev.machina.vmm.packages.debian.DebPackage;
import dev.machina.vmm.packages.debian.DebianArchive;
import dev.machina.vmm.packages.debian.DebianException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A Debian system on a disk image: a {@link DebianLinuxRecipe} for the kernel and the initramfs
 * that mounts the disk ({@code "boot"}), and an ext4 image holding Debian's packages installed and
 * configured, with their dependencies as apt resolves them, then set up by the package's own script:
 * <pre>{@code
 * {"kind": "debian-system",
 *  "boot": {"kernel": "linux-image-cloud-amd64", "userland": {...}, "modules": [...], "init": "init"},
 *  "packages": ["?priority(required)", "systemd-sysv", "apt"], "setup": "setup",
 *  "image": "rootfs.img", "size": "2G"}
 * }</pre>
 * The packages come from the host's apt as the debian-linux recipe's do: resolved by apt's own
 * resolver for an empty system, fetched with {@code apt-get download} into the shared cache and
 * verified, each version in the build record. They are installed the way debootstrap's second stage
 * installs them, by the system's own dpkg in a chroot (see {@code debian-system.sh}), with the
 * kernel's modules beside them; the setup script runs last, in the chroot, as root. No mount is
 * needed on the host: the image is written from the directory by {@code mke2fs -d}, in a namespace
 * that keeps the files' owners ({@link RootNamespace}).
 * <p>
 * The image is the guest's disk ({@link #disks()}): the guest writes to it where it lies, in the
 * build's output directory, so what it writes persists from one launch to the next.
 *
 * @param size the image's size, with b, k, M or G; the file is sparse, so only what is written takes room
 */
public record DebianSystemRecipe(DebianLinuxRecipe boot, List<String> packages,
                                 String setup, String image, String size) implements Recipe {
    static final String KIND = "debian-system";
    /** The script that installs the packages, a resource beside this class. */
    private static final String INSTALLER = "debian-system.sh";
    private static final long MINIMUM_SIZE = 64L << 20;
    private static final String MERGED_USR = "usr-is-merged";

    public DebianSystemRecipe {
        if (boot == null || packages == null || packages.isEmpty() || setup == null || image == null || size == null) {
            throw new IllegalArgumentException("a \"" + KIND + "\" recipe needs \"boot\" (a debian-linux recipe), \"packages\","
                    + " \"setup\", \"image\" and \"size\"");
        }
        if (ByteSize.parse(size) < MINIMUM_SIZE || ByteSize.parse(size) % 1024 != 0) {
            throw new IllegalArgumentException("\"size\": " + size + " is not a disk size (whole KiB, at least " + ByteSize.format(MINIMUM_SIZE) + ")");
        }
        packages = List.copyOf(packages);
    }

    /**
     * Its boot recipe's: what the system's own builder makes has not changed since revisions
     * began, and its kernel and initramfs are the boot recipe's.
     */
    @Override
    public int builderRevision() {
        return boot.builderRevision();
    }

    @Override
    public List<String> inputs() {
        List<String> inputs = new ArrayList<>(boot.inputs());
        inputs.add(setup);
        return inputs;
    }

    @Override
    public List<String> outputs() {
        List<String> outputs = new ArrayList<>(boot.outputs());
        outputs.add(image);
        return outputs;
    }

    @Override
    public List<String> disks() {
        return List.of(image);
    }

    @Override
    public void build(Path packageDirectory, Path outputDirectory, Tools tools) {
        // Checked first: a user who cannot build the system learns it before the downloads.
        RootNamespace namespace = RootNamespace.forThisUser();
        DebPackage kernel = boot.buildBoot(packageDirectory, outputDirectory, tools);
        DebianArchive archive = DebianArchive.system();
        try (Staging staging = Staging.create(outputDirectory.toAbsolutePath().resolve("system"), namespace)) {
            tools.report("resolving " + String.join(", ", packages) + " and what they depend on");
            List<String> requests = new ArrayList<>(packages);
            // The installer lays the system out with merged /usr, which usr-is-merged says to apt; else apt would
            // choose usrmerge, whose maintainer script converts a system to the layout it already has.
            requests.add(MERGED_USR);
            List<DebianArchive.Candidate> system = archive.closure(requests);
            List<Path> debs = archive.download(system, tools.sharedCache(DebianLinuxRecipe.DOWNLOADS), tools::report);
            List<String> install = new ArrayList<>(List.of("sh", staging.installer().toString(), staging.root().toString(),
                    packageDirectory.toAbsolutePath().resolve(setup).toString(), kernel.file().toAbsolutePath().toString()));
            for (int i = 0; i < system.size(); i++) {
                DebianArchive.Candidate candidate = system.get(i);
                tools.used(candidate.name(), candidate.name(), candidate.version(), debs.get(i));
                install.add(debs.get(i).toAbsolutePath().toString());
            }
            tools.run("installing " + system.size() + " packages and running " + setup + " (dpkg in a chroot)", namespace.command(install));
            tools.run("writing " + image + " (ext4, " + size + ")", namespace.command(List.of("mke2fs", "-q", "-t", "ext4",
                    "-d", staging.root().toString(),
                    // The inode tables zeroed here, else the guest's kernel would zero them after it mounts the disk
                    // (ext4lazyinit): writes of tens of MB on a software CPU.
                    "-E", "lazy_itable_init=0",
                    outputDirectory.toAbsolutePath().resolve(image).toString(), (ByteSize.parse(size) >> 10) + "k")));
        } catch (DebianException e) {
            throw new PackageException(e.getMessage());
        } catch (IOException e) {
            throw new PackageException("building into " + outputDirectory + ": " + e);
        }
    }

    /**
     * The directory the system is assembled in, with the installer beside its root; closing it
     * deletes it from inside a namespace, where files the build gave to other owners can be deleted.
     */
    private record Staging(Path directory, RootNamespace namespace) implements AutoCloseable {
        static Staging create(Path directory, RootNamespace namespace) throws IOException {
            Staging staging = new Staging(directory, namespace);
            // The root directory's mode is the image's root directory's.
            Files.createDirectories(staging.root(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            try (InputStream script = DebianSystemRecipe.class.getResourceAsStream(INSTALLER)) {
                if (script == null) {
                    throw new IllegalStateException(INSTALLER + " is missing from Machina's classes");
                }
                Files.copy(script, staging.installer());
            }
            return staging;
        }

        Path root() {
            return directory.resolve("root");
        }

        Path installer() {
            return directory.resolve(INSTALLER);
        }

        @Override
        public void close() {
            namespace.delete(directory);
        }
    }
}
