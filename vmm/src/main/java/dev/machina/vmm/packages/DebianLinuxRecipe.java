package dev.machina.vmm.packages;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.machina.hypervisor.os.FileTrees;
import dev.machina.vmm.packages.debian.DebPackage;
import dev.machina.vmm.packages.debian.DebianArchive;
import dev.machina.vmm.packages.debian.DebianException;
import dev.machina.vmm.packages.debian.Initramfs;
import dev.machina.vmm.packages.debian.KernelModules;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A Linux guest made from Debian's packages: the kernel of a {@code linux-image-*} meta-package,
 * and an initramfs written by Machina holding the package's init script, chosen files of userland
 * packages and the kernel modules the guest's devices need, loaded by init in the order listed.
 * Packages are fetched with {@code apt-get download} into the shared cache's "debian" directory,
 * and their exact versions go into the build record.
 * <pre>{@code
 * {"kind": "debian-linux", "kernel": "linux-image-cloud-amd64",
 *  "userland": {"busybox-static": ["bin/busybox"]}, "modules": ["virtio_blk"], "init": "init"}
 * }</pre>
 * It builds {@value #KERNEL_FILE} and {@value #INITRD_FILE}; the init script finds the modules
 * to load, as paths one per line, in {@value #MODULE_LIST}.
 */
// Without a "kind" where a recipe names it as a part of its own ("boot" of a debian-system recipe);
// read as a recipe of its own, the kind is Recipe's to read.
@JsonTypeInfo(use = JsonTypeInfo.Id.NONE)
public record DebianLinuxRecipe(String kernel, Map<String, List<String>> userland, List<String> modules,
                                String init) implements Recipe {
    static final String KIND = "debian-linux";
    public static final String KERNEL_FILE = "vmlinuz";
    /**
     * Uncompressed: the kernel copies a cpio archive straight into its root file system, where a
     * compressed one would cost it inflating (about 8% of linux_guest's boot on the Java CPU).
     */
    public static final String INITRD_FILE = "initrd.cpio";
    public static final String MODULE_LIST = "etc/modules.load";

    private static final String KERNEL_PACKAGE_PREFIX = "linux-image-";
    /** The shared cache's directory of downloaded packages. */
    static final String DOWNLOADS = "debian";

    /**
     * Writes, as {@code parent}/{@code kernelPackage}, the debian-linux package in {@code base}
     * with its recipe naming {@code kernelPackage} instead (e.g. {@code linux-image-6.12-amd64}):
     * the same guest with another of Debian's kernels, the kernels users bring. The directory is
     * named after the kernel so that its build is cached under that name from one run to the next;
     * one that exists is left as it is. Returns the package's directory.
     */
    public static Path withKernel(Path base, String kernelPackage, Path parent) throws IOException {
        Path directory = parent.resolve(kernelPackage);
        if (Files.isDirectory(directory)) {
            return directory;
        }
        Files.createDirectories(directory);
        try (var files = Files.list(base)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!file.getFileName().toString().equals(GuestPackage.RECIPE_FILE)) {
                    Files.copy(file, directory.resolve(file.getFileName()));
                }
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode recipe = (ObjectNode) json.readTree(base.resolve(GuestPackage.RECIPE_FILE).toFile());
        recipe.put("kernel", kernelPackage);
        json.writeValue(directory.resolve(GuestPackage.RECIPE_FILE).toFile(), recipe);
        return directory;
    }

    public DebianLinuxRecipe {
        if (kernel == null || init == null) {
            throw new IllegalArgumentException("a \"" + KIND + "\" recipe needs \"kernel\" (a linux-image meta-package) and \"init\"");
        }
        userland = userland == null ? Map.of() : copy(userland);
        modules = modules == null ? List.of() : List.copyOf(modules);
    }

    /** 2: init loads each module after those it needs (see {@link #addModules}). */
    @Override
    public int builderRevision() {
        return 2;
    }

    @Override
    public List<String> inputs() {
        return List.of(init);
    }

    @Override
    public List<String> outputs() {
        return List.of(KERNEL_FILE, INITRD_FILE);
    }

    @Override
    public void build(Path packageDirectory, Path outputDirectory, Tools tools) {
        buildBoot(packageDirectory, outputDirectory, tools);
    }

    /**
     * Builds {@value #KERNEL_FILE} and {@value #INITRD_FILE} into {@code outputDirectory}, and
     * returns the kernel's package, for a recipe that puts more of that kernel (its modules) into
     * the guest's disk.
     */
    DebPackage buildBoot(Path packageDirectory, Path outputDirectory, Tools tools) {
        DebianArchive archive = DebianArchive.system();
        Path downloads = tools.sharedCache(DOWNLOADS);
        Path unpacked = outputDirectory.resolve("unpacked");
        try {
            tools.report("looking up " + kernel + " in the package lists");
            String kernelPackage = archive.resolve(kernel, KERNEL_PACKAGE_PREFIX);
            DebPackage kernelDeb = DebPackage.open(download(archive, kernel, kernelPackage, downloads, tools));
            tools.report("unpacking the kernel from " + kernelDeb.file().getFileName());
            List<Path> images = kernelDeb.extract(DebPackage.glob("boot/vmlinuz-*"), unpacked);
            if (images.size() != 1) {
                throw new PackageException(kernelDeb.file() + ": expected one boot/vmlinuz-*, found " + images.size());
            }
            Files.copy(images.getFirst(), outputDirectory.resolve(KERNEL_FILE));

            Initramfs initramfs = new Initramfs()
                    .file("init", 0755, packageDirectory.resolve(init))
                    .characterDevice("dev/console", 0600, 5, 1);
            for (Map.Entry<String, List<String>> entry : userland.entrySet()) {
                DebPackage deb = DebPackage.open(download(archive, entry.getKey(), entry.getKey(), downloads, tools));
                tools.report("unpacking " + String.join(", ", entry.getValue()) + " from " + deb.file().getFileName());
                Path root = unpacked.resolve(entry.getKey());
                List<Path> extracted = deb.extract(DebPackage.glob(entry.getValue().toArray(String[]::new)), root);
                // Extraction names what it made under the directory's real path.
                Path realRoot = Files.exists(root) ? root.toRealPath() : root;
                List<String> names = extracted.stream().map(path -> realRoot.relativize(path).toString()).toList();
                for (String pattern : entry.getValue()) {
                    if (names.stream().noneMatch(DebPackage.glob(pattern))) {
                        throw new PackageException(deb.file() + " has no file matching \"" + pattern + "\"");
                    }
                }
                addFiles(initramfs, realRoot, extracted);
            }
            addModules(initramfs, kernelDeb, unpacked.resolve(kernelPackage), tools);
            tools.report("writing the initramfs");
            initramfs.write(outputDirectory.resolve(INITRD_FILE));
            FileTrees.delete(unpacked);
            return kernelDeb;
        } catch (DebianException e) {
            throw new PackageException(e.getMessage());
        } catch (IOException e) {
            throw new PackageException("building into " + outputDirectory + ": " + e);
        }
    }

    /** The package's {@code .deb}, fetched unless cached and intact, and recorded as used for {@code request}. */
    private static Path download(DebianArchive archive, String request, String name, Path downloads, Tools tools) throws DebianException {
        DebianArchive.Candidate candidate = archive.candidate(name);
        Path deb = archive.download(candidate, downloads, tools::report);
        tools.used(request, name, candidate.version(), deb);
        return deb;
    }

    /** Adds the extracted files and symbolic links under {@code root}; directories follow from their contents. */
    private static void addFiles(Initramfs initramfs, Path root, List<Path> extracted) throws IOException {
        for (Path path : extracted) {
            String name = root.relativize(path).toString();
            if (Files.isSymbolicLink(path)) {
                initramfs.symlink(name, Files.readSymbolicLink(path).toString());
            } else if (Files.isRegularFile(path)) {
                initramfs.file(name, permissions(path), path);
            }
        }
    }

    /**
     * Adds each listed module's {@code .ko} from the kernel package, with the modules it needs,
     * and the list init loads them from, each after what it needs ({@link KernelModules}). A
     * module the kernel has built in (its {@code modules.builtin} names it) needs nothing: the
     * same recipe serves kernels configured either way.
     */
    private void addModules(Initramfs initramfs, DebPackage kernelDeb, Path root, Tools tools) throws DebianException, IOException {
        List<String> lines = new ArrayList<>();
        if (!modules.isEmpty()) {
            StringBuilder builtIn = new StringBuilder();
            for (Path list : kernelDeb.extract(DebPackage.glob("lib/modules/*/modules.builtin"), root)) {
                builtIn.append(Files.readString(list));
            }
            KernelModules kernelModules = new KernelModules(builtIn.toString());
            Set<String> sought = new HashSet<>();
            for (Set<String> unknown = kernelModules.unknown(modules); !sought.containsAll(unknown); unknown = kernelModules.unknown(modules)) {
                List<String> patterns = new ArrayList<>();
                for (String module : unknown) {
                    if (sought.add(module)) {
                        patterns.add("lib/modules/*/kernel/**/" + module + ".ko*");
                        patterns.add("lib/modules/*/kernel/**/" + module.replace('_', '-') + ".ko*");
                    }
                }
                for (Path path : kernelDeb.extract(DebPackage.glob(patterns.toArray(String[]::new)), root)) {
                    if (Files.isRegularFile(path)) {
                        kernelModules.add(root.relativize(path).toString(), KernelModules.dependencies(Files.readAllBytes(path)));
                    }
                }
            }
            Set<String> missing = kernelModules.unknown(modules);
            if (!missing.isEmpty()) {
                throw new PackageException(kernelDeb.file() + " has no module named " + String.join(", ", missing));
            }
            List<String> paths = kernelModules.loadOrder(modules);
            tools.report("unpacking modules " + paths.stream().map(KernelModules::name).collect(Collectors.joining(", ")));
            for (String path : paths) {
                initramfs.file(path, 0644, root.resolve(path));
                lines.add("/" + path);
            }
        }
        initramfs.file(MODULE_LIST, 0644, lines.stream().map(line -> line + "\n").collect(Collectors.joining())
                .getBytes(StandardCharsets.UTF_8));
    }

    private static int permissions(Path path) throws IOException {
        int bits = 0;
        for (var permission : Files.getPosixFilePermissions(path)) {
            bits |= 1 << (8 - permission.ordinal());
        }
        return bits;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> userland) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        userland.forEach((name, files) -> copy.put(name, List.copyOf(Optional.ofNullable(files).orElse(List.of()))));
        return Collections.unmodifiableMap(copy);
    }
}
