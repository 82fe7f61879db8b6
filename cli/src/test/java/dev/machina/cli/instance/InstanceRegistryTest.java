package dev.machina.cli.instance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InstanceRegistryTest {
    @TempDir
    Path base;

    private InstanceRegistry registry() {
        return new InstanceRegistry(base.resolve("machina"));
    }

    @Test
    void anInstanceHasAPrivateDirectoryFoundByIdAndNameAndRemovedWhenClosed() throws IOException {
        InstanceRegistry registry = registry();
        Instance instance;
        try (InstanceDirectory directory = registry.create(Optional.of("web"))) {
            instance = directory.instance();
            assertThat(instance.id()).matches("[0-9a-f]{8}");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(instance.directory()))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(base.resolve("machina")))).isEqualTo("rwx------");
            assertThat(registry.running()).containsExactly(instance);
            assertThat(registry.find(instance.id())).isEqualTo(instance);
            assertThat(registry.find("web")).isEqualTo(instance);
            assertThatThrownBy(() -> registry.create(Optional.of("web"))).isInstanceOf(InstanceException.class)
                    .hasMessage("--name web: a running guest already has that name");
        }
        assertThat(instance.directory()).doesNotExist();
        assertThat(registry.running()).isEmpty();
        assertThatThrownBy(() -> registry.find("web")).isInstanceOf(InstanceException.class)
                .hasMessage("no running guest has the id or name web (guest list shows them)");
    }

    @Test
    void aDirectoryWhoseLockNoVmmHoldsIsStaleAndRemoved() throws IOException {
        Path stale = Files.createDirectories(base.resolve("machina/0badc0de"));
        Files.createFile(stale.resolve("lock"));
        Files.createFile(stale.resolve("control.sock"));
        assertThat(registry().running()).isEmpty();
        assertThat(stale).doesNotExist();
    }

    @Test
    void aNameMustBeAWordAndTheBaseMustBePrivate() throws IOException {
        assertThatThrownBy(() -> registry().create(Optional.of("../x"))).isInstanceOf(InstanceException.class)
                .hasMessageStartingWith("--name ../x: a name is letters, digits");
        Path open = Files.createDirectories(base.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(() -> new InstanceRegistry(open).create(Optional.empty())).isInstanceOf(InstanceException.class)
                .hasMessageContaining("can be entered by other users (rwxr-xr-x)");
    }

    @Test
    void theUsersRegistryIsInTheRuntimeDirectoryElseInTheCache() throws IOException {
        Path cache = base.resolve("cache");
        try (InstanceDirectory directory = InstanceRegistry.forUser(Map.of("XDG_RUNTIME_DIR", base.toString()), cache).create(Optional.empty())) {
            assertThat(directory.instance().directory().getParent()).isEqualTo(base.resolve("machina"));
        }
        try (InstanceDirectory directory = InstanceRegistry.forUser(Map.of(), cache).create(Optional.empty())) {
            assertThat(directory.instance().directory().getParent()).isEqualTo(cache.resolve("run"));
        }
    }

    @Test
    void awaitEndReturnsOnceTheDirectoryIsGone() throws Exception {
        InstanceRegistry registry = registry();
        Instance instance;
        try (InstanceDirectory directory = registry.create(Optional.empty())) {
            instance = directory.instance();
        }
        assertThat(registry.awaitEnd(instance, Duration.ZERO)).isTrue();
    }
}
