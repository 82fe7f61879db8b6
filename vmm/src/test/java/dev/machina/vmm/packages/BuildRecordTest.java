package dev.machina.vmm.packages;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BuildRecordTest {
    private static final BuildRecord.Ingredient KERNEL_57 = new BuildRecord.Ingredient("linux-image-cloud-amd64",
            "linux-image-6.1.0-57-cloud-amd64", "6.1.192-3", "debian/linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb");
    private static final BuildRecord.Ingredient KERNEL_58 = new BuildRecord.Ingredient("linux-image-cloud-amd64",
            "linux-image-6.1.0-58-cloud-amd64", "6.1.200-1", "debian/linux-image-6.1.0-58-cloud-amd64_6.1.200-1_amd64.deb");
    private static final BuildRecord.Ingredient BUSYBOX = new BuildRecord.Ingredient("busybox-static",
            "busybox-static", "1:1.35.0-4", "debian/busybox-static_1%3a1.35.0-4_amd64.deb");

    @TempDir
    Path directory;

    @Test
    void namesEachPackageWhoseVersionChanged() {
        BuildRecord before = new BuildRecord("a", Map.of(), List.of(KERNEL_57, BUSYBOX));
        BuildRecord after = new BuildRecord("a", Map.of(), List.of(KERNEL_58, BUSYBOX));

        assertThat(after.changesSince(before)).containsExactly("linux-image-cloud-amd64 is now linux-image-6.1.0-58-cloud-amd64 "
                + "6.1.200-1 (was linux-image-6.1.0-57-cloud-amd64 6.1.192-3)");
        assertThat(after.filesDroppedSince(before)).containsExactly(KERNEL_57.file());
        assertThat(after.changesSince(after)).isEmpty();
        assertThat(after.filesDroppedSince(after)).isEmpty();
    }

    @Test
    void readsWhatItWroteAndNothingFromGarbage() throws Exception {
        Files.writeString(directory.resolve("vmlinuz"), "kernel");
        BuildRecord record = BuildRecord.of("hash", directory, List.of("vmlinuz"), List.of(), List.of(BUSYBOX));
        record.write(directory);

        assertThat(BuildRecord.read(directory)).contains(record);
        assertThat(record.damage(directory, List.of("vmlinuz"), List.of(), true)).isEmpty();
        assertThat(record.damage(directory, List.of("vmlinuz", "initrd.cpio"), List.of(), false)).contains("initrd.cpio is not in the build record");
        Files.delete(directory.resolve("vmlinuz"));
        assertThat(record.damage(directory, List.of("vmlinuz"), List.of(), false)).contains("vmlinuz is missing");

        Files.writeString(directory.resolve(BuildRecord.FILE), "\0\0garbage");
        assertThat(BuildRecord.read(directory)).isEmpty();
    }

    @Test
    void aDiskIsTheGuestsToChangeAndOnlyItsAbsenceIsDamage() throws Exception {
        Files.writeString(directory.resolve("vmlinuz"), "kernel");
        Files.writeString(directory.resolve("rootfs.img"), "a file system");
        BuildRecord record = BuildRecord.of("hash", directory, List.of("vmlinuz", "rootfs.img"), List.of("rootfs.img"), List.of());
        List<String> outputs = List.of("vmlinuz", "rootfs.img");
        assertThat(record.outputs().get("rootfs.img").sha256()).as("never compared, so not hashed").isNull();
        assertThat(record.outputs().get("vmlinuz").sha256()).hasSize(64);
        assertThat(record.changed(directory, List.of("rootfs.img"))).isEmpty();

        Files.writeString(directory.resolve("rootfs.img"), "what the guest wrote");
        assertThat(record.damage(directory, outputs, List.of("rootfs.img"), true)).isEmpty();
        assertThat(record.damage(directory, outputs, List.of(), false)).contains("rootfs.img is corrupt: 20 bytes where the build wrote 13");
        assertThat(record.changed(directory, List.of("rootfs.img", "vmlinuz", "never-built"))).containsExactly("rootfs.img");

        Files.delete(directory.resolve("rootfs.img"));
        assertThat(record.damage(directory, outputs, List.of("rootfs.img"), false)).contains("rootfs.img is missing");
        assertThat(record.changed(directory, List.of("rootfs.img"))).isEmpty();
    }
}
