package dev.machina.vmm.packages;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DebianSystemRecipeTest {
    private static final String BOOT = """
            {"kernel": "linux-image-cloud-amd64", "userland": {"busybox-static": ["bin/busybox"]},
             "modules": ["virtio_blk"], "init": "init"}""";

    @TempDir
    Path repository;
    @TempDir
    Path cache;

    private Recipe read(String recipe) throws IOException {
        Path directory = Files.createDirectories(repository.resolve("packages/system"));
        Files.writeString(directory.resolve("guest.cfg"), "{\"linux\": \"vmlinuz\"}");
        Files.writeString(directory.resolve("recipe.json"), recipe);
        return new GuestPackages(Optional.of(repository.resolve("packages")), cache, repository).locate("system").recipe().orElseThrow();
    }

    @Test
    void composesTheBootRecipeAndAddsTheDisk() throws IOException {
        Recipe recipe = read("""
                {"kind": "debian-system",
                 // the kernel and its initramfs
                 "boot": %s,
                 "packages": ["?priority(required)", "systemd-sysv"], "setup": "setup", "image": "rootfs.img", "size": "2G"}
                """.formatted(BOOT));

        assertThat(recipe).isInstanceOf(DebianSystemRecipe.class);
        DebianSystemRecipe system = (DebianSystemRecipe) recipe;
        assertThat(system.boot()).isEqualTo(new DebianLinuxRecipe("linux-image-cloud-amd64",
                java.util.Map.of("busybox-static", List.of("bin/busybox")), List.of("virtio_blk"), "init"));
        assertThat(recipe.inputs()).containsExactly("init", "setup");
        assertThat(recipe.outputs()).containsExactly("vmlinuz", "initrd.cpio", "rootfs.img");
        assertThat(recipe.disks()).containsExactly("rootfs.img");
    }

    @Test
    void saysWhatARecipeLacksOrASizeThatIsNoDiskSize() {
        assertThatThrownBy(() -> read("{\"kind\": \"debian-system\", \"boot\": %s, \"packages\": [\"apt\"]}".formatted(BOOT)))
                .isInstanceOf(PackageException.class)
                .hasMessageContaining("a \"debian-system\" recipe needs \"boot\" (a debian-linux recipe), \"packages\", \"setup\","
                        + " \"image\" and \"size\"");
        String recipe = "{\"kind\": \"debian-system\", \"boot\": %s, \"packages\": [\"apt\"], \"setup\": \"setup\","
                + " \"image\": \"rootfs.img\", \"size\": \"%s\"}";
        assertThatThrownBy(() -> read(recipe.formatted(BOOT, "1M")))
                .hasMessageContaining("\"size\": 1M is not a disk size (whole KiB, at least 64M)");
        assertThatThrownBy(() -> read(recipe.formatted(BOOT, "two gigabytes")))
                .hasMessageContaining("\"two gigabytes\" is not a size");
        assertThatThrownBy(() -> read(recipe.formatted("{\"init\": \"init\"}", "2G")))
                .hasMessageContaining("a \"debian-linux\" recipe needs \"kernel\"");
        assertThatThrownBy(() -> read(recipe.formatted(BOOT.replaceFirst("\\{", "{\"kind\": \"assemble\", "), "2G")))
                .as("the boot recipe is a debian-linux one, without a kind of its own").hasMessageContaining("\"kind\"");
    }
}
