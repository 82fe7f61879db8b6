package dev.machina.vmm.packages.debian;

import dev.machina.hypervisor.os.FileErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's package archive, reached through the host's own apt: {@code apt-cache} to look
 * packages up in the package lists, {@code apt-get download} to fetch a {@code .deb} into a
 * directory (no root needed, nothing installed). Downloads are cached: a package whose candidate
 * version is already in the directory, with the SHA-256 the package lists give it, is not fetched
 * again. A download lands in a directory of its own and takes its final name only once its SHA-256
 * is the archive's, so a download that is killed or runs out of disk leaves no {@code .deb} behind
 * that a later build would take for a good one.
 */
public final class DebianArchive {
    private static final Path DEFAULT_LISTS = Path.of("/var/lib/apt/lists");
    private static final long TIMEOUT_MINUTES = 10;
    /** Starts the name of the directory a download is fetched into, beside the cached packages. */
    static final String PARTIAL = ".partial-";
    /** How many packages one apt-get download fetches, so that a long download says how far it got. */
    private static final int PACKAGES_PER_DOWNLOAD = 20;
    private static final Pattern MISSING_PACKAGE = Pattern.compile("(?:Unable to locate package |Package ')([^'\\s]+)");

    private final Path aptGet;
    private final Path aptCache;
    private final Path lists;

    DebianArchive(Path aptGet, Path aptCache, Path lists) {
        this.aptGet = aptGet;
        this.aptCache = aptCache;
        this.lists = lists;
    }

    /** The host's apt, found on the PATH, with its package lists in /var/lib/apt/lists. */
    public static DebianArchive system() {
        return new DebianArchive(onPath("apt-get"), onPath("apt-cache"), DEFAULT_LISTS);
    }

    /**
     * A package's candidate: the version {@code apt-get download} would fetch.
     *
     * @param sha256 the digest of its {@code .deb} in the archive's package lists
     */
    public record Candidate(String name, String version, String architecture, String sha256) {
        /** The file name {@code apt-get download} gives the package (":" of an epoch written as "%3a"). */
        public String fileName() {
            return name + "_" + version.replace(":", "%3a") + "_" + architecture + ".deb";
        }
    }

    /** The candidate version of package {@code name}. */
    public Candidate candidate(String name) throws DebianException {
        String stanza = run(List.of(aptCache.toString(), "show", "--no-all-versions", name), Optional.empty(), name);
        return candidate(stanza, name);
    }

    /**
     * The packages a system of {@code requests} is made of, as apt's own resolver chooses them for a
     * system with nothing installed: each request (a package, or an apt pattern such as
     * {@code ?priority(required)}) and everything it depends on, alternatives settled as
     * {@code apt-get install} settles them and recommendations left out, each at its candidate
     * version, in the order apt would install them.
     */
    public List<Candidate> closure(List<String> requests) throws DebianException {
        List<String> install = new ArrayList<>(List.of(aptGet.toString(), "install", "--print-uris", "-qq", "--no-install-recommends",
                // For an empty system rather than this host: nothing installed, nothing downloaded already (apt leaves
                // out what its archive directory holds), and no need of the host dpkg's lock (or of root).
                "-o", "Dir::State::status=/dev/null", "-o", "Dir::Cache::archives=/nonexistent", "-o", "Debug::NoLocking=true"));
        install.addAll(requests);
        List<String> versions = printedUris(run(install, Optional.empty(), String.join(", ", requests)));
        if (versions.isEmpty()) {
            throw new DebianException("apt-get install --print-uris " + String.join(" ", requests) + " named no package to install");
        }
        List<String> show = new ArrayList<>(List.of(aptCache.toString(), "show"));
        show.addAll(versions);
        return candidates(run(show, Optional.empty(), "the packages of " + String.join(", ", requests)), versions);
    }

    /**
     * The packages {@code apt-get install --print-uris} would fetch, as {@code name=version}, from
     * its lines {@code 'URI' NAME_VERSION_ARCH.deb SIZE HASH} (the hash is whichever apt prefers,
     * not always a SHA-256, which is why the package lists are asked for that).
     */
    static List<String> printedUris(String output) throws DebianException {
        List<String> versions = new ArrayList<>();
        for (String line : output.lines().filter(line -> line.startsWith("'")).toList()) {
            String[] fields = line.split("\\s+");
            String file = fields.length > 1 ? fields[1] : "";
            int first = file.indexOf('_');
            int last = file.lastIndexOf('_');
            if (!file.endsWith(".deb") || first <= 0 || last <= first + 1) {
                throw new DebianException("apt-get install --print-uris printed a line that names no package: " + line);
            }
            // apt quotes the characters that cannot stand in a file name as %XX: an epoch's ':' as %3a.
            versions.add(unquote(file.substring(0, first)) + "=" + unquote(file.substring(first + 1, last)));
        }
        return versions;
    }

    /** The candidates that {@code apt-cache show} describes in {@code stanzas}, one for each of {@code versions} ({@code name=version}), in that order. */
    static List<Candidate> candidates(String stanzas, List<String> versions) throws DebianException {
        Map<String, Candidate> described = new LinkedHashMap<>();
        for (String stanza : stanzas.split("\\n\\s*\\n")) {
            if (!stanza.isBlank()) {
                String name = field(stanza, "Package", "a package");
                Candidate candidate = candidate(stanza, name);
                described.putIfAbsent(name + "=" + candidate.version(), candidate);
            }
        }
        List<Candidate> candidates = new ArrayList<>();
        for (String version : versions) {
            Candidate candidate = described.get(version);
            if (candidate == null) {
                throw new DebianException("apt-cache show " + version + " did not describe that package");
            }
            candidates.add(candidate);
        }
        return candidates;
    }

    private static Candidate candidate(String stanza, String name) throws DebianException {
        return new Candidate(name, field(stanza, "Version", name), field(stanza, "Architecture", name),
                field(stanza, "SHA256", name).toLowerCase(Locale.ROOT));
    }

    private static String unquote(String quoted) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < quoted.length(); i++) {
            char c = quoted.charAt(i);
            if (c == '%' && i + 2 < quoted.length() && HexFormat.isHexDigit(quoted.charAt(i + 1)) && HexFormat.isHexDigit(quoted.charAt(i + 2))) {
                text.append((char) HexFormat.fromHexDigits(quoted, i + 1, i + 3));
                i += 2;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }

    /**
     * The package a meta-package stands for: the first dependency of {@code metaPackage} whose
     * name starts with {@code realPrefix}, e.g. linux-image-cloud-amd64 with "linux-image-" gives
     * linux-image-6.1.0-56-cloud-amd64.
     */
    public String resolve(String metaPackage, String realPrefix) throws DebianException {
        String output = run(List.of(aptCache.toString(), "depends", metaPackage), Optional.empty(), metaPackage);
        return output.lines()
                .map(String::strip)
                .filter(line -> line.startsWith("Depends:"))
                .map(line -> line.substring("Depends:".length()).strip())
                .filter(dependency -> dependency.startsWith(realPrefix) && !dependency.equals(metaPackage))
                .findFirst()
                .orElseThrow(() -> new DebianException("%s has no dependency named %s*: it is not the meta-package expected"
                        .formatted(metaPackage, realPrefix)));
    }

    /** The {@code .deb} of package {@code name}'s candidate version in {@code directory}, downloaded unless already there. */
    public Path download(String name, Path directory, Consumer<String> progress) throws DebianException {
        return download(candidate(name), directory, progress);
    }

    /**
     * The {@code .deb} of {@code candidate} in {@code directory}, downloaded unless it is there with
     * the archive's SHA-256; see {@link #download(List, Path, Consumer)}.
     */
    public Path download(Candidate candidate, Path directory, Consumer<String> progress) throws DebianException {
        return download(List.of(candidate), directory, progress).getFirst();
    }

    /**
     * The {@code .deb}s of {@code candidates} in {@code directory}, in their order, each downloaded
     * unless it is there with the archive's SHA-256; what is downloaded, and each cached file found
     * corrupt, is said to {@code progress}. The caller holds the build cache's lock: directories of
     * downloads that did not finish are removed.
     */
    public List<Path> download(List<Candidate> candidates, Path directory, Consumer<String> progress) throws DebianException {
        List<Candidate> missing = new ArrayList<>();
        boolean saidCorrupt = false;
        for (Candidate candidate : candidates) {
            Path deb = directory.resolve(candidate.fileName());
            if (Files.exists(deb)) {
                if (hasDigest(deb, candidate)) {
                    continue;
                }
                progress.accept(deb + " is corrupt (its SHA-256 is not the archive's): downloading " + candidate.name() + " "
                        + candidate.version() + " again");
                saidCorrupt = true;
            }
            missing.add(candidate);
        }
        if (missing.size() > 1) {
            progress.accept("downloading " + missing.size() + " packages");
        } else if (missing.size() == 1 && !saidCorrupt) {
            progress.accept("downloading " + missing.getFirst().name() + " " + missing.getFirst().version());
        }
        for (int start = 0; start < missing.size(); start += PACKAGES_PER_DOWNLOAD) {
            int end = Math.min(missing.size(), start + PACKAGES_PER_DOWNLOAD);
            fetch(missing.subList(start, end), directory);
            if (missing.size() > PACKAGES_PER_DOWNLOAD) {
                progress.accept("downloaded " + end + " of " + missing.size());
            }
        }
        return candidates.stream().map(candidate -> directory.resolve(candidate.fileName())).toList();
    }

    /** Fetches {@code candidates} with one apt-get download into a directory of its own, then each into {@code directory} once verified. */
    private void fetch(List<Candidate> candidates, Path directory) throws DebianException {
        String names = String.join(", ", candidates.stream().map(Candidate::name).toList());
        Path partial;
        try {
            Files.createDirectories(directory);
            removePartials(directory);
            partial = Files.createTempDirectory(directory, PARTIAL);
        } catch (IOException e) {
            throw new DebianException("cannot create the download directory " + directory + ": " + FileErrors.reason(e));
        }
        try {
            List<String> command = new ArrayList<>(List.of(aptGet.toString(), "download"));
            candidates.forEach(candidate -> command.add(candidate.name() + "=" + candidate.version()));
            run(command, Optional.of(partial), names);
            for (Candidate candidate : candidates) {
                store(partial.resolve(candidate.fileName()), candidate, directory.resolve(candidate.fileName()));
            }
        } finally {
            removeQuietly(partial);
        }
    }

    /** Moves the download {@code fetched} to {@code deb} if it is {@code candidate} as the archive describes it. */
    private static void store(Path fetched, Candidate candidate, Path deb) throws DebianException {
        if (!Files.isRegularFile(fetched)) {
            throw new DebianException("apt-get download %s reported success but wrote no %s".formatted(candidate.name(), candidate.fileName()));
        }
        if (!hasDigest(fetched, candidate)) {
            throw new DebianException("apt-get download %s gave a %s whose SHA-256 is not the archive's %s"
                    .formatted(candidate.name(), candidate.fileName(), candidate.sha256()));
        }
        try {
            Files.move(fetched, deb, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new DebianException("cannot store " + deb + ": " + FileErrors.reason(e));
        }
    }

    private static boolean hasDigest(Path file, Candidate candidate) throws DebianException {
        try {
            return Sha256.of(file).equals(candidate.sha256());
        } catch (IOException e) {
            throw new DebianException("cannot read " + file + ": " + FileErrors.reason(e));
        }
    }

    /** Removes what downloads that were killed left: no download is in progress while the caller holds the lock. */
    private static void removePartials(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path entry : entries.filter(path -> path.getFileName().toString().startsWith(PARTIAL)).toList()) {
                removeQuietly(entry);
            }
        }
    }

    /** Deletes a download's directory and the files apt-get left in it (it makes no subdirectories). */
    private static void removeQuietly(Path partial) {
        try (Stream<Path> files = Files.list(partial)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(partial);
        } catch (IOException ignored) {
            // Left for the next download to remove, under the lock.
        }
    }

    private String run(List<String> command, Optional<Path> directory, String packageName) throws DebianException {
        for (Path program : List.of(aptGet, Path.of(command.getFirst()))) {
            if (!Files.isExecutable(program)) {
                throw new DebianException(program.getFileName()
                        + " not found: Machina builds Linux guests from Debian packages; run on Debian or Ubuntu");
            }
        }
        if (!hasPackageLists()) {
            throw new DebianException("the package lists are empty: run `apt-get update` (as root) first");
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        directory.ifPresent(path -> builder.directory(path.toFile()));
        try {
            Process process = builder.start();
            String output;
            try (InputStream stdout = process.getInputStream()) {
                output = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new DebianException(String.join(" ", command) + " did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            if (process.exitValue() != 0) {
                throw failure(command, packageName, output);
            }
            return output;
        } catch (IOException e) {
            throw new DebianException("cannot run " + String.join(" ", command) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DebianException("interrupted while running " + String.join(" ", command));
        }
    }

    private static DebianException failure(List<String> command, String packageName, String output) {
        if (output.contains("Unable to locate package") || output.contains("No packages found")
                || output.contains("has no installation candidate")) {
            // Where several packages were asked for, apt names the one missing.
            Matcher named = MISSING_PACKAGE.matcher(output);
            return new DebianException("package " + (named.find() ? named.group(1) : packageName)
                    + " is not in the Debian archive's package lists");
        }
        Optional<String> fetchError = output.lines().filter(line -> line.contains("Failed to fetch")).findFirst();
        if (fetchError.isPresent()) {
            return new DebianException("cannot fetch " + packageName + " from the Debian archive: " + fetchError.get().strip());
        }
        List<String> errors = new ArrayList<>(output.lines().filter(line -> line.startsWith("E:")).toList());
        return new DebianException(String.join(" ", command) + " failed: "
                + (errors.isEmpty() ? output.strip() : String.join("; ", errors)));
    }

    /** Whether {@code apt-get update} has fetched any Packages index. */
    private boolean hasPackageLists() {
        try (Stream<Path> files = Files.list(lists)) {
            return files.anyMatch(file -> file.getFileName().toString().contains("_Packages"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String field(String stanza, String name, String packageName) throws DebianException {
        return stanza.lines()
                .filter(line -> line.startsWith(name + ": "))
                .map(line -> line.substring(name.length() + 2).strip())
                .findFirst()
                .orElseThrow(() -> new DebianException("apt-cache show " + packageName + " gave no " + name + " field"));
    }

    private static Path onPath(String program) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/bin:/bin");
        for (String directory : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(directory, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return Path.of("/usr/bin", program);
    }
}
