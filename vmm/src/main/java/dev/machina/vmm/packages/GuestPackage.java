package dev.machina.vmm.packages;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.machina.vmm.config.ConfigSource;
import dev.machina.vmm.config.ConfigValues;
import dev.machina.vmm.config.GuestConfigFile;

import dev.machina.hypervisor.os.FileErrors;
import dev.machina.hypervisor.os.FileTrees;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A guest package: a directory with a guest.cfg and, optionally, a {@code recipe.json} whose
 * artifacts are built into {@code outputDirectory}. Relative paths in guest.cfg are looked up in
 * the package directory first, then in the output directory.
 *
 * @param shownAs how messages name the package's files: relative to the working directory when inside it
 */
public record GuestPackage(String name, Path directory, Path outputDirectory, Path shownAs) {
    public static final String RECIPE_FILE = "recipe.json";
    /** Ends the name of the directory a build writes into beside its output directory, before a random suffix. */
    static final String BUILDING = ".building-";
    private static final DateTimeFormatter KEPT_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            // As in guest.cfg: a recipe says why it holds what it does.
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();

    /** Reads guest.cfg; its problems are reported as {@link dev.machina.vmm.config.ConfigException}s. */
    public ConfigValues readConfig() {
        ConfigSource source = ConfigSource.file(shownAs.resolve(GuestConfigFile.NAME).toString(), List.of(directory, outputDirectory));
        return GuestConfigFile.read(directory.resolve(GuestConfigFile.NAME), source);
    }

    /** The package's recipe, if it has one. */
    public Optional<Recipe> recipe() {
        Path file = directory.resolve(RECIPE_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Recipe.class));
        } catch (IOException e) {
            String problem = e instanceof JsonProcessingException json ? json.getOriginalMessage() : FileErrors.reason(e);
            throw new PackageException(shownAs.resolve(RECIPE_FILE) + ": " + problem);
        }
    }

    /** When {@link #build} builds. */
    public enum Rebuild {
        /** When the recipe or its inputs changed, or an output is missing or its size or time is not as built (a launch). */
        WHEN_STALE,
        /** As {@link #WHEN_STALE}, and when an output's content differs from what was built ({@code guest build}). */
        WHEN_STALE_OR_CORRUPT,
        /** Always ({@code guest build --force}). */
        ALWAYS
    }

    /** {@link #build(Consumer, Rebuild)}: always if {@code force}, else when stale. */
    public boolean build(Consumer<String> progress, boolean force) {
        return build(progress, force ? Rebuild.ALWAYS : Rebuild.WHEN_STALE);
    }

    /**
     * Builds the package's artifacts unless the output directory holds a build of the same recipe
     * and inputs whose outputs are as that build wrote them (see {@link Rebuild}). Returns whether it
     * built. Building holds the cache's {@link CacheLock}: a second launch waits for the first's
     * build, then uses it.
     */
    public boolean build(Consumer<String> progress, Rebuild when) {
        Optional<Recipe> recipe = recipe();
        if (recipe.isEmpty()) {
            return false;
        }
        String hash = inputHash(recipe.get());
        Path cache = outputDirectory.getParent();
        // Checked first without the lock, so that launches of a built package never wait for a build of another.
        if (when != Rebuild.ALWAYS && leftovers(cache).isEmpty() && whyBuild(recipe.get(), hash, when).isEmpty()) {
            return false;
        }
        try (CacheLock lock = CacheLock.acquire(cache, line -> progress.accept(name + ": " + line))) {
            removeLeftovers(cache, progress);
            Optional<String> why = when == Rebuild.ALWAYS ? Optional.of("") : whyBuild(recipe.get(), hash, when);
            if (why.isEmpty()) {
                return false;
            }
            if (!why.get().isEmpty()) {
                progress.accept(name + ": " + why.get() + ", building again");
            }
            buildAnew(recipe.get(), hash, cache, progress);
            return true;
        } catch (IOException e) {
            throw new PackageException(name + ": cannot build into " + outputDirectory + ": " + FileErrors.reason(e));
        }
    }

    /**
     * Why the cached build cannot be used: empty if it can, "" if there is none of this recipe and
     * these inputs, else how an output differs from what was built.
     */
    private Optional<String> whyBuild(Recipe recipe, String hash, Rebuild when) {
        Optional<BuildRecord> record = BuildRecord.read(outputDirectory).filter(built -> built.inputs().equals(hash));
        if (record.isEmpty()) {
            return Optional.of("");
        }
        return record.get().damage(outputDirectory, recipe.outputs(), recipe.disks(), when == Rebuild.WHEN_STALE_OR_CORRUPT);
    }

    /** Builds into a fresh directory beside the output directory, which takes its place once recorded. */
    private void buildAnew(Recipe recipe, String hash, Path cache, Consumer<String> progress) throws IOException {
        progress.accept(name + ": building into " + outputDirectory);
        Optional<BuildRecord> previous = BuildRecord.read(outputDirectory);
        Path building = Files.createTempDirectory(cache, name + BUILDING);
        BuildRecord built;
        try {
            Tools tools = new Tools(name, directory, progress, cache);
            recipe.build(directory, building, tools);
            built = BuildRecord.of(hash, building, recipe.outputs(), recipe.disks(), tools.used());
            built.write(building);
            if (previous.isPresent()) {
                keepChangedDisks(previous.get(), recipe.disks(), progress);
            }
            FileTrees.delete(outputDirectory);
            Files.move(building, outputDirectory);
        } finally {
            FileTrees.delete(building);
        }
        if (previous.isPresent()) {
            built.changesSince(previous.get()).forEach(change -> progress.accept(name + ": " + change));
            prune(built.filesDroppedSince(previous.get()), cache, progress);
        }
        progress.accept(name + ": built");
    }

    /**
     * Moves each of {@code disks} that the guest changed since {@code previous} built it out of the
     * output directory, beside it in the cache, named after the package, the time of its last
     * change and the disk: a build makes a fresh disk, but never deletes what a user did in a guest.
     */
    void keepChangedDisks(BuildRecord previous, List<String> disks, Consumer<String> progress) throws IOException {
        for (String disk : previous.changed(outputDirectory, disks)) {
            Path file = outputDirectory.resolve(disk);
            String changed = KEPT_TIME.format(Files.getLastModifiedTime(file).toInstant().atZone(ZoneId.systemDefault()));
            Path kept = outputDirectory.resolveSibling(name + ".kept-" + changed + "." + disk);
            Files.move(file, kept);
            progress.accept(name + ": " + disk + ", changed by the guest since it was built, is kept as " + kept
                    + "; the new build has a fresh one");
        }
    }

    /** Deletes the downloads an earlier build of this package used and no build in the cache uses now. */
    private void prune(List<String> dropped, Path cache, Consumer<String> progress) throws IOException {
        if (dropped.isEmpty()) {
            return;
        }
        Set<String> used = new HashSet<>();
        try (Stream<Path> builds = Files.list(cache)) {
            builds.filter(Files::isDirectory).filter(build -> !build.equals(outputDirectory))
                    .flatMap(build -> BuildRecord.read(build).stream())
                    .forEach(record -> record.ingredients().forEach(ingredient -> used.add(ingredient.file())));
        }
        Path root = cache.toAbsolutePath().normalize();
        for (String file : dropped) {
            Path path = root.resolve(file).normalize();
            // A record is a file in the cache anyone could edit: never delete outside the cache.
            if (!used.contains(file) && path.startsWith(root) && !path.equals(root) && Files.deleteIfExists(path)) {
                progress.accept(name + ": removed " + file + " from the cache, no longer used");
            }
        }
    }

    /** Directories of builds that were killed: the build in progress holds the lock, so under it every one is a leftover. */
    private List<Path> leftovers(Path cache) {
        if (!Files.isDirectory(cache)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(cache)) {
            return entries.filter(path -> path.getFileName().toString().startsWith(name + BUILDING)).toList();
        } catch (IOException e) {
            throw new PackageException("cannot read the build cache " + cache + ": " + FileErrors.reason(e));
        }
    }

    private void removeLeftovers(Path cache, Consumer<String> progress) throws IOException {
        for (Path leftover : leftovers(cache)) {
            try {
                FileTrees.delete(leftover);
            } catch (AccessDeniedException e) {
                // A Debian system being assembled by a user other than root, whose files are owned by the user's
                // subordinate ids (see RootNamespace): the user is their owner only inside a namespace.
                RootNamespace.forThisUser().delete(leftover);
            }
            progress.accept(name + ": removed " + leftover.getFileName() + ", left by a build that did not finish");
        }
    }

    private String inputHash(Recipe recipe) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(Files.readAllBytes(directory.resolve(RECIPE_FILE)));
            digest.update(("builder revision " + recipe.builderRevision()).getBytes(StandardCharsets.UTF_8));
            for (String input : recipe.inputs()) {
                Path file = directory.resolve(input);
                if (!Files.isRegularFile(file)) {
                    throw new PackageException(shownAs.resolve(RECIPE_FILE) + ": input \"" + input + "\" does not exist");
                }
                digest.update(input.getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(Files.readAllBytes(file));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new PackageException(name + ": cannot read the recipe's inputs: " + FileErrors.reason(e));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
