package dev.machina.vmm.packages;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.machina.vmm.packages.debian.Sha256;

import dev.machina.hypervisor.os.FileErrors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What a finished build was made from and what it wrote, in {@value #FILE}, written last into its
 * output directory: the hash of the recipe and its inputs, each output's size, modification time and
 * SHA-256 (a disk's without), and the exact package versions that went in. A launch checks the
 * outputs against it, so that a file damaged in the cache is built again rather than booted; a disk,
 * which the guest writes to, only for being there.
 *
 * @param inputs SHA-256 of the recipe and its input files
 * @param outputs by file name in the output directory
 * @param ingredients the downloaded packages the build used, in the order it used them
 */
record BuildRecord(String inputs, Map<String, Output> outputs, List<Ingredient> ingredients) {
    static final String FILE = ".build.json";

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    BuildRecord {
        outputs = Map.copyOf(outputs);
        ingredients = List.copyOf(ingredients);
    }

    /**
     * An output file as the build left it. The time is kept so that a launch hashes the file again
     * only when its size or time changed (writing into it changes its time): hashing linux_guest's
     * 16 MB of outputs costs a fresh JVM 70-120 ms, about 1% of its boot, on our 2-core EPYC.
     *
     * @param modified microseconds since the epoch
     * @param sha256 null for a disk: its content is the guest's, never compared with the build's, and
     *     hashing a 2 GiB image would cost a build seconds for nothing
     */
    record Output(long size, long modified, String sha256) {
        static Output of(Path file, boolean disk) throws IOException {
            return new Output(Files.size(file), modified(file), disk ? null : Sha256.of(file));
        }

        private static long modified(Path file) throws IOException {
            return Files.getLastModifiedTime(file).to(TimeUnit.MICROSECONDS);
        }
    }

    /**
     * A package a build used.
     *
     * @param request the name the recipe gives it (a meta-package such as linux-image-cloud-amd64)
     * @param name the package that was fetched for it
     * @param file where it was kept, relative to the build cache
     */
    record Ingredient(String request, String name, String version, String file) {
        String describe() {
            return (name.equals(request) ? "" : name + " ") + version;
        }
    }

    /** The record in {@code directory}; empty if there is none or it cannot be read, either of which means "build again". */
    static Optional<BuildRecord> read(Path directory) {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            BuildRecord record = JSON.readValue(file.toFile(), BuildRecord.class);
            return record.inputs() == null ? Optional.empty() : Optional.of(record);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Records the build of {@code outputNames} in {@code directory}, hashing each but the {@code disks}. */
    static BuildRecord of(String inputs, Path directory, List<String> outputNames, List<String> disks,
                          List<Ingredient> ingredients) throws IOException {
        Map<String, Output> outputs = new LinkedHashMap<>();
        for (String name : outputNames) {
            outputs.put(name, Output.of(directory.resolve(name), disks.contains(name)));
        }
        return new BuildRecord(inputs, outputs, ingredients);
    }

    void write(Path directory) throws IOException {
        Files.write(directory.resolve(FILE), JSON.writeValueAsBytes(this));
    }

    /**
     * The first of {@code outputNames} in {@code directory} that is missing or not what this build
     * wrote, as "NAME is ...", or empty if every one is as built. A file whose size and time are as
     * recorded is taken as built unless {@code rehash}. Of {@code disks}, which the guest writes to,
     * only that they are there is checked.
     */
    Optional<String> damage(Path directory, List<String> outputNames, List<String> disks, boolean rehash) {
        for (String name : outputNames) {
            Path file = directory.resolve(name);
            Output built = outputs.get(name);
            if (built == null) {
                return Optional.of(name + " is not in the build record");
            }
            try {
                if (!Files.isRegularFile(file)) {
                    return Optional.of(name + " is missing");
                }
                if (disks.contains(name)) {
                    continue;
                }
                long size = Files.size(file);
                if (size != built.size()) {
                    return Optional.of(name + " is corrupt: " + size + " bytes where the build wrote " + built.size());
                }
                if ((rehash || Output.modified(file) != built.modified()) && !Sha256.of(file).equals(built.sha256())) {
                    return Optional.of(name + " is corrupt: its SHA-256 differs from the one recorded when it was built");
                }
            } catch (IOException e) {
                return Optional.of(name + " cannot be read: " + FileErrors.reason(e));
            }
        }
        return Optional.empty();
    }

    /** Those of {@code names} in {@code directory} whose size or time is not as this build left them: a disk the guest wrote to. */
    List<String> changed(Path directory, List<String> names) throws IOException {
        List<String> changed = new ArrayList<>();
        for (String name : names) {
            Path file = directory.resolve(name);
            Output built = outputs.get(name);
            if (built != null && Files.isRegularFile(file)
                    && (Files.size(file) != built.size() || Output.modified(file) != built.modified())) {
                changed.add(name);
            }
        }
        return changed;
    }

    /** A line for each package whose version differs from {@code previous}'s, e.g. "busybox-static is now 1:1.36.1-9 (was 1:1.35.0-4)". */
    List<String> changesSince(BuildRecord previous) {
        List<String> changes = new ArrayList<>();
        for (Ingredient now : ingredients) {
            previous.ingredients().stream()
                    .filter(before -> before.request().equals(now.request()))
                    .filter(before -> !before.name().equals(now.name()) || !before.version().equals(now.version()))
                    .findFirst()
                    .ifPresent(before -> changes.add(now.request() + " is now " + now.describe() + " (was " + before.describe() + ")"));
        }
        return changes;
    }

    /** The files {@code previous} used that this build does not. */
    List<String> filesDroppedSince(BuildRecord previous) {
        List<String> kept = ingredients.stream().map(Ingredient::file).toList();
        return previous.ingredients().stream().map(Ingredient::file).filter(Objects::nonNull)
                .filter(file -> !kept.contains(file)).distinct().toList();
    }
}
