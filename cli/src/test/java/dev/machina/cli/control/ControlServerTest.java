package dev.machina.cli.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceException;
import dev.machina.hypervisor.ExitReason;
import dev.machina.vmm.MachineStatistics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The control API's endpoints, through the verbs' client, on a guest that records what it is asked. */
class ControlServerTest {
    @TempDir
    Path directory;

    private final List<String> calls = new ArrayList<>();
    private ControlServer server;
    private ControlClient client;

    private final class RecordingGuest implements ControlledGuest {
        private boolean paused;

        @Override
        public GuestDescription describe() {
            return new GuestDescription("abcd0123", paused ? GuestDescription.PAUSED : GuestDescription.RUNNING, "0.1.0", "Machina",
                    "web", "linux_guest", "java", 2, 256 << 20, 1_000, 9_500L, 42);
        }

        @Override
        public void pause() {
            calls.add("pause");
            paused = true;
        }

        @Override
        public void resume() {
            calls.add("resume");
            paused = false;
        }

        @Override
        public void stop(long graceMillis) {
            calls.add("stop " + graceMillis);
        }

        @Override
        public MachineStatistics statistics() {
            return new MachineStatistics(List.of(new MachineStatistics.VcpuStatistics(0, 10, Map.of(ExitReason.IO, 7L), 1234L)),
                    List.of(new MachineStatistics.DiskStatistics("virtio-blk0", 1, 512, 2, 1024, 3, 0)));
        }

        @Override
        public byte[] readMemory(long address, int length) {
            if (address >= 0x1000) {
                throw new IllegalArgumentException("guest-physical range 0x%x..0x%x is not guest RAM".formatted(address, address + length));
            }
            byte[] bytes = new byte[length];
            bytes[0] = (byte) address;
            return bytes;
        }
    }

    @BeforeEach
    void start() throws Exception {
        Instance instance = new Instance("abcd0123", Optional.of("web"), directory);
        server = ControlServer.start(instance.controlSocket(), new RecordingGuest());
        client = new ControlClient(instance);
    }

    @AfterEach
    void close() {
        server.close();
    }

    @Test
    void theSocketIsTheOwnersOnly() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("control.sock")))).isEqualTo("rw-------");
    }

    @Test
    void instanceInformationHasFirecrackersFieldsAndMachinas() {
        JsonNode info = client.getJson("/");
        assertThat(info.path("id").asText()).isEqualTo("abcd0123");
        assertThat(info.path("state").asText()).isEqualTo("Running");
        assertThat(info.path("app_name").asText()).isEqualTo("Machina");
        assertThat(info.path("vmm_version").asText()).isEqualTo("0.1.0");
        assertThat(info.path("memory_bytes").asLong()).isEqualTo(256 << 20);
    }

    @Test
    void pauseAndResumeChangeTheState() {
        client.change("PATCH", "/vm", Map.of("state", "Paused"));
        assertThat(client.getJson("/").path("state").asText()).isEqualTo("Paused");
        client.change("PATCH", "/vm", Map.of("state", "Resumed"));
        assertThat(calls).containsExactly("pause", "resume");
    }

    @Test
    void badRequestsAreFaultsThatChangeNothing() {
        assertThatThrownBy(() -> client.change("PATCH", "/vm", Map.of("state", "Sleeping")))
                .isInstanceOf(InstanceException.class)
                .hasMessage("guest abcd0123 (web): state must be \"Paused\" or \"Resumed\", not Sleeping");
        assertThatThrownBy(() -> client.change("PATCH", "/vm", Map.of("state", "Paused", "extra", 1)))
                .hasMessage("guest abcd0123 (web): unknown field \"extra\" (known: state)");
        assertThatThrownBy(() -> client.change("PUT", "/actions", Map.of("action_type", "Explode")))
                .hasMessageContaining("action_type must be FlushMetrics, SendCtrlAltDel or InstanceStart, not Explode");
        assertThatThrownBy(() -> client.change("PUT", "/machina/stop", Map.of("grace_ms", -1)))
                .hasMessageContaining("grace_ms must not be negative");
        assertThatThrownBy(() -> client.getJson("/nowhere"))
                .hasMessage("guest abcd0123 (web): Invalid request method and/or path: GET /nowhere");
        assertThat(calls).isEmpty();
        assertThat(client.getJson("/").path("state").asText()).as("still answering").isEqualTo("Running");
    }

    @Test
    void metricsAreTheStatistics() {
        client.change("PUT", "/actions", Map.of("action_type", "FlushMetrics"));
        JsonNode metrics = client.getJson("/metrics");
        assertThat(metrics.path("vcpus").path(0).path("exits").path("IO").asLong()).isEqualTo(7);
        assertThat(metrics.path("vcpus").path(0).path("instructionsRetired").asLong()).isEqualTo(1234);
        assertThat(metrics.path("disks").path(0).path("bytesWritten").asLong()).isEqualTo(1024);
    }

    @Test
    void metricsInPrometheusFormat() {
        String text = new String(client.getBytes("/metrics?format=prometheus"), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(text).contains("# TYPE machina_vcpu_exits_total counter\n", "machina_vcpu_exits_total{vcpu=\"0\",reason=\"io\"} 7\n",
                "machina_vcpu_instructions_retired_total{vcpu=\"0\"} 1234\n",
                "machina_disk_bytes_total{disk=\"virtio-blk0\",direction=\"write\"} 1024\n");
        assertThatThrownBy(() -> client.getBytes("/metrics?format=xml")).hasMessageContaining("format must be json or prometheus, not xml");
    }

    @Test
    void memoryIsReadWithinBoundsAndStopPassesItsGrace() {
        assertThat(client.getBytes("/machina/memory?address=0x20&length=4")).containsExactly(0x20, 0, 0, 0);
        assertThatThrownBy(() -> client.getBytes("/machina/memory?address=0x2000&length=4"))
                .hasMessageContaining("0x2000..0x2004 is not guest RAM");
        assertThatThrownBy(() -> client.getBytes("/machina/memory?address=0&length=0"))
                .hasMessageContaining("length must be 1 to 1048576, not 0");
        assertThatThrownBy(() -> client.getBytes("/machina/memory?length=4")).hasMessageContaining("address is missing");
        client.change("PUT", "/machina/stop", Map.of("grace_ms", 5000));
        assertThat(calls).containsExactly("stop 5000");
    }

    @Test
    void aClosedServerIsAGuestThatDoesNotAnswer() {
        server.close();
        assertThatThrownBy(() -> client.getJson("/")).isInstanceOf(InstanceException.class)
                .hasMessageStartingWith("guest abcd0123 (web) does not answer on its control socket");
    }
}
