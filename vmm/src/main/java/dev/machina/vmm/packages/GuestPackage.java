package dev.machina.vmm.packages;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.machina.vmm.config.ConfigSource;
import dev.machina.vmm.config.ConfigValues;
import dev.machina.vmm.config.GuestConfigFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
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
    /** Written last into a finished output directory: the hash of the recipe and its inputs. */
    static final String STAMP_FILE = ".inputs.sha256";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
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
            String problem = e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.toString();
            throw new PackageException(shownAs.resolve(RECIPE_FILE) + ": " + problem);
        }
    }

    /**
     * Builds the package's artifacts unless the output directory already holds a build of the same
     * recipe and inputs with all its outputs (or {@code force}). Returns whether it built.
     */
    public boolean build(Consumer<String> progress, boolean force) {
        Optional<Recipe> recipe = recipe();
        if (recipe.isEmpty()) {
            return false;
        }
        String hash = inputHash(recipe.get());
        Path stamp = outputDirectory.resolve(STAMP_FILE);
        try {
            if (!force && Files.exists(stamp) && Files.readString(stamp).strip().equals(hash)
                    && recipe.get().outputs().stream().allMatch(output -> Files.exists(outputDirectory.resolve(output)))) {
                return false;
            }
            progress.accept(name + ": building into " + outputDirectory);
            Files.createDirectories(outputDirectory.getParent());
            Path building = Files.createTempDirectory(outputDirectory.getParent(), name + ".building-");
            try {
                recipe.get().build(directory, building, new Tools(name, directory, progress, outputDirectory.getParent()));
                Files.writeString(building.resolve(STAMP_FILE), hash + "\n");
                deleteTree(outputDirectory);
                Files.move(building, outputDirectory);
            } finally {
                deleteTree(building);
            }
            progress.accept(name + ": built");
            return true;
        } catch (IOException e) {
            throw new PackageException(name + ": cannot build into " + outputDirectory + ": " + e);
        }
    }

    private String inputHash(Recipe recipe) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(Files.readAllBytes(directory.resolve(RECIPE_FILE)));
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
            throw new PackageException(name + ": cannot read the recipe's inputs: " + e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
