package dev.machina.vmm.packages;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RootNamespaceTest {
    @Test
    void rootGetsMountAndPidNamespacesAndAnotherUserAUserNamespaceMappingItsSubordinateIds() {
        List<String> command = List.of("mke2fs", "-d", "root", "disk.img");

        assertThat(new RootNamespace(true).command(command)).containsExactly("unshare", "--mount", "--pid", "--fork",
                "--kill-child", "--", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "mke2fs", "-d", "root", "disk.img");
        assertThat(new RootNamespace(false).command(command)).containsExactly("unshare", "--user", "--map-root-user",
                "--map-auto", "--mount", "--pid", "--fork", "--kill-child", "--", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "LC_ALL=C", "mke2fs", "-d", "root", "disk.img");
    }

    @Test
    void subordinateIdsAreTheUsersFirstRangeByNameOrIdAndMustCoverSixteenBits() {
        List<String> subuid = List.of("alice:100000:65536", "bob:165536:1000", "bob:300000:65536", "1002:400000:65536", "carol:x:y");

        assertThat(RootNamespace.hasSubordinateIds(subuid, "alice", 1000)).isTrue();
        assertThat(RootNamespace.hasSubordinateIds(subuid, "bob", 1001)).as("unshare --map-auto maps the first range only").isFalse();
        assertThat(RootNamespace.hasSubordinateIds(subuid, "dave", 1002)).as("named by uid").isTrue();
        assertThat(RootNamespace.hasSubordinateIds(subuid, "carol", 1003)).isFalse();
        assertThat(RootNamespace.hasSubordinateIds(subuid, "erin", 1004)).isFalse();
        assertThat(RootNamespace.hasSubordinateIds(List.of(), "alice", 1000)).isFalse();
    }
}
