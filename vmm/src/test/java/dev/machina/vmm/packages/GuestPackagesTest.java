package dev.machina.vmm.packages;

import dev.machina.vmm.config.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class GuestPackagesTest {
    private static final String PROGRAM = """
            .globl _start
            _start: hlt
            """;
    private static final String LINKER_SCRIPT = """
            ENTRY(_start)
            SECTIONS { . = 0x100000; .text : { *(.text) } }
            """;
    private static final String RECIPE = """
            {"kind": "assemble", "sources": ["tiny.S"], "linker-script": "tiny.ld", "output": "tiny.elf"}""";

    @TempDir
    Path repository;
    @TempDir
    Path cache;
    @TempDir
    Path workingDirectory;

    private GuestPackages packages;
    private final List<String> progress = new ArrayList<>();

    @BeforeEach
    void createPackages() {
        packages = new GuestPackages(Optional.of(repository.resolve("packages")), cache, workingDirectory);
    }

    private Path writePackage(Path directory, String recipe) throws IOException {
        Files.createDirectories(directory);
        Files.writeString(directory.resolve("guest.cfg"), "{\"linux\": \"tiny.elf\", \"memory\": \"4M\"}");
        Files.writeString(directory.resolve("tiny.S"), PROGRAM);
        Files.writeString(directory.resolve("tiny.ld"), LINKER_SCRIPT);
        Files.writeString(directory.resolve("recipe.json"), recipe);
        return directory;
    }

    private static void assumeBinutils() {
        for (String tool : List.of("as", "ld")) {
            try {
                assumeTrue(new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor() == 0,
                        tool + " (GNU binutils) does not run here");
            } catch (IOException | InterruptedException e) {
                assumeTrue(false, tool + " (GNU binutils) is not installed");
            }
        }
    }

    /** The package "tiny" of the repository, assembled by binutils (the test is skipped without them). */
    private GuestPackage tinyPackage() throws IOException {
        assumeBinutils();
        writePackage(repository.resolve("packages/tiny"), RECIPE);
        return packages.locate("tiny");
    }

    @Test
    void aBareNameIsAPackageOfTheRepository() throws IOException {
        Path directory = writePackage(repository.resolve("packages/tiny"), RECIPE);
        GuestPackage found = packages.locate("tiny");
        assertThat(found.name()).isEqualTo("tiny");
        assertThat(found.directory()).isEqualTo(directory);
        assertThat(found.outputDirectory()).isEqualTo(cache.resolve("tiny"));
    }

    @Test
    void anythingElseIsADirectoryRelativeToTheWorkingDirectory() throws IOException {
        Path directory = writePackage(workingDirectory.resolve("guests/mine"), RECIPE);
        GuestPackage found = packages.locate("guests/mine");
        assertThat(found.directory()).isEqualTo(directory);
        assertThat(found.shownAs()).isEqualTo(Path.of("guests/mine"));
    }

    @Test
    void aNameWithoutGuestCfgIsAnError() {
        assertThatThrownBy(() -> packages.locate("nothing"))
                .isInstanceOf(PackageException.class)
                .hasMessage("no guest package \"nothing\": not a package in " + repository.resolve("packages")
                        + " nor a directory with a guest.cfg");
    }

    @Test
    void buildsOnceAndAgainWhenAnInputChangesOrAnOutputIsMissing() throws IOException {
        GuestPackage tiny = tinyPackage();

        assertThat(tiny.build(progress::add, false)).isTrue();
        Path elf = cache.resolve("tiny/tiny.elf");
        assertThat(Files.readAllBytes(elf)).startsWith(0x7F, 'E', 'L', 'F');
        assertThat(progress).contains("tiny: assembling tiny.S", "tiny: linking tiny.elf", "tiny: built");

        assertThat(tiny.build(progress::add, false)).isFalse();
        assertThat(tiny.build(progress::add, true)).isTrue();

        Files.writeString(tiny.directory().resolve("tiny.S"), PROGRAM + "nop\n");
        assertThat(tiny.build(progress::add, false)).isTrue();
        assertThat(tiny.build(progress::add, false)).isFalse();

        Files.delete(elf);
        assertThat(tiny.build(progress::add, false)).as("an output gone from the cache").isTrue();
        assertThat(elf).exists();
    }

    /** Writes garbage over bytes in the middle of {@code file}, keeping its size (as dd conv=notrunc does). */
    private static void corrupt(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            raf.write(new byte[] {(byte) 0xDE, (byte) 0xAD, (byte) 0xBE, (byte) 0xEF});
        }
    }

    @Test
    void anOutputWithGarbageInItOrTruncatedIsBuiltAgain() throws IOException {
        GuestPackage tiny = tinyPackage();
        tiny.build(progress::add, false);
        Path elf = cache.resolve("tiny/tiny.elf");
        byte[] built = Files.readAllBytes(elf);

        corrupt(elf);
        progress.clear();
        assertThat(tiny.build(progress::add, false)).isTrue();
        assertThat(progress).contains("tiny: tiny.elf is corrupt: its SHA-256 differs from the one recorded when it was built, building again");
        assertThat(Files.readAllBytes(elf)).isEqualTo(built);

        Files.write(elf, Arrays.copyOf(built, built.length / 2));
        progress.clear();
        assertThat(tiny.build(progress::add, false)).isTrue();
        assertThat(progress).contains("tiny: tiny.elf is corrupt: " + built.length / 2 + " bytes where the build wrote "
                + built.length + ", building again");
        assertThat(Files.readAllBytes(elf)).isEqualTo(built);
    }

    @Test
    void garbageBehindAnUnchangedTimeIsFoundByGuestBuildWhichHashesEveryOutput() throws IOException {
        GuestPackage tiny = tinyPackage();
        tiny.build(progress::add, false);
        Path elf = cache.resolve("tiny/tiny.elf");
        FileTime time = Files.getLastModifiedTime(elf);
        corrupt(elf);
        Files.setLastModifiedTime(elf, time);

        assertThat(tiny.build(progress::add, GuestPackage.Rebuild.WHEN_STALE)).as("a launch trusts size and time").isFalse();
        assertThat(tiny.build(progress::add, GuestPackage.Rebuild.WHEN_STALE_OR_CORRUPT)).isTrue();
        assertThat(tiny.build(progress::add, GuestPackage.Rebuild.WHEN_STALE_OR_CORRUPT)).isFalse();
    }

    @Test
    void aBuildRecordThatIsGarbageMeansBuildAgain() throws IOException {
        GuestPackage tiny = tinyPackage();
        tiny.build(progress::add, false);
        Files.writeString(cache.resolve("tiny/.build.json"), "{\"inputs\": ");
        assertThat(tiny.build(progress::add, false)).isTrue();
        assertThat(tiny.build(progress::add, false)).isFalse();
    }

    @Test
    void directoriesLeftByKilledBuildsAreRemoved() throws IOException {
        GuestPackage tiny = tinyPackage();
        tiny.build(progress::add, false);
        Path leftover = Files.createDirectories(cache.resolve("tiny.building-12345/deep"));
        Files.writeString(leftover.resolve("half-written"), "x");
        Path other = Files.createDirectories(cache.resolve("tiny2.building-1"));

        progress.clear();
        assertThat(tiny.build(progress::add, false)).as("the build itself is current").isFalse();
        assertThat(cache.resolve("tiny.building-12345")).doesNotExist();
        assertThat(other).as("another package's").exists();
        assertThat(progress).containsExactly("tiny: removed tiny.building-12345, left by a build that did not finish");
    }

    @Test
    void aSecondBuilderWaitsForTheLockThenBuilds() throws Exception {
        GuestPackage tiny = tinyPackage();
        CountDownLatch waited = new CountDownLatch(1);
        List<String> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Boolean> second;
        try (CacheLock first = CacheLock.acquire(cache, line -> { })) {
            second = CompletableFuture.supplyAsync(() -> tiny.build(line -> {
                seen.add(line);
                if (line.contains("waiting for another build")) {
                    waited.countDown();
                }
            }, false));
            assertThat(waited.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(cache.resolve("tiny")).as("nothing built while the lock is held").doesNotExist();
        }
        assertThat(second.get(60, TimeUnit.SECONDS)).isTrue();
        assertThat(seen.getFirst()).isEqualTo("tiny: waiting for another build to finish with the build cache ("
                + cache.resolve(".lock") + " is locked)");
        assertThat(seen).contains("tiny: built");
    }

    @Test
    void aBuildKeepsADiskTheGuestChangedAsideRatherThanDeletingIt() throws IOException {
        GuestPackage guest = new GuestPackage("disky", repository, cache.resolve("disky"), repository);
        Path disk = Files.createDirectories(guest.outputDirectory()).resolve("rootfs.img");
        Files.writeString(disk, "as built");
        BuildRecord built = BuildRecord.of("hash", guest.outputDirectory(), List.of("rootfs.img"), List.of("rootfs.img"), List.of());

        guest.keepChangedDisks(built, List.of("rootfs.img"), progress::add);
        assertThat(disk).as("as built: the new build's replaces it").hasContent("as built");
        assertThat(progress).isEmpty();

        Files.writeString(disk, "what the guest wrote");
        Instant written = Instant.parse("2026-12-06T21:30:05Z");
        Files.setLastModifiedTime(disk, FileTime.from(written));
        guest.keepChangedDisks(built, List.of("rootfs.img"), progress::add);

        Path kept = cache.resolve("disky.kept-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .format(written.atZone(ZoneId.systemDefault())) + ".rootfs.img");
        assertThat(kept).hasContent("what the guest wrote");
        assertThat(disk).doesNotExist();
        assertThat(progress).containsExactly("disky: rootfs.img, changed by the guest since it was built, is kept as " + kept
                + "; the new build has a fresh one");
    }

    @Test
    void configPathsAreFoundInTheBuildOutput() throws IOException {
        GuestPackage tiny = tinyPackage();
        assertThatThrownBy(() -> tiny.readConfig().resolve()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("key \"linux\": file \"tiny.elf\" does not exist");
        tiny.build(progress::add, false);
        assertThat(tiny.readConfig().resolve().kernel().path()).isEqualTo(cache.resolve("tiny/tiny.elf"));
    }

    @Test
    void aFailingStepReportsTheToolsOutput() throws IOException {
        assumeBinutils();
        Path directory = writePackage(repository.resolve("packages/tiny"), RECIPE);
        Files.writeString(directory.resolve("tiny.S"), "not_an_instruction %rax\n");
        GuestPackage tiny = packages.locate("tiny");
        assertThatThrownBy(() -> tiny.build(progress::add, false))
                .isInstanceOf(PackageException.class)
                .hasMessageStartingWith("tiny: assembling tiny.S failed: as --64")
                .hasMessageContaining("not_an_instruction");
        assertThat(cache.resolve("tiny")).doesNotExist();
    }

    @Test
    void aRecipeOfUnknownKindOrMissingKeysIsAnErrorNamingTheFile() throws IOException {
        writePackage(repository.resolve("packages/tiny"), "{\"kind\": \"bake\"}");
        assertThatThrownBy(() -> packages.locate("tiny").recipe())
                .isInstanceOf(PackageException.class)
                .hasMessageStartingWith(repository.resolve("packages/tiny/recipe.json") + ": ")
                .hasMessageContaining("bake");
        writePackage(repository.resolve("packages/tiny"), "{\"kind\": \"assemble\", \"sources\": [\"tiny.S\"]}");
        assertThatThrownBy(() -> packages.locate("tiny").recipe())
                .hasMessageContaining("an \"assemble\" recipe needs \"sources\", \"linker-script\" and \"output\"");
        writePackage(repository.resolve("packages/tiny"), "{\"kind\": \"debian-linux\", \"init\": \"init\"}");
        assertThatThrownBy(() -> packages.locate("tiny").recipe())
                .hasMessageContaining("a \"debian-linux\" recipe needs \"kernel\"");
        writePackage(repository.resolve("packages/tiny"),
                "{\"kind\": \"debian-linux\", \"kernel\": \"linux-image-amd64\", \"init\": \"init\", \"moduls\": []}");
        assertThatThrownBy(() -> packages.locate("tiny").recipe())
                .hasMessageStartingWith(repository.resolve("packages/tiny/recipe.json") + ": ")
                .hasMessageContaining("moduls");
    }

    @Test
    void theCacheFollowsMachinaCacheThenXdg() {
        Path home = Path.of("/home/someone");
        assertThat(GuestPackages.defaultCache(Map.of(), home)).isEqualTo(Path.of("/home/someone/.cache/machina"));
        assertThat(GuestPackages.defaultCache(Map.of("XDG_CACHE_HOME", "/xdg"), home)).isEqualTo(Path.of("/xdg/machina"));
        assertThat(GuestPackages.defaultCache(Map.of("XDG_CACHE_HOME", "/xdg", "MACHINA_CACHE", "/mc"), home))
                .isEqualTo(Path.of("/mc"));
    }
}
