package dev.machina.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.machina.cli.control.ControlClient;
import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceException;
import dev.machina.vmm.config.ByteSize;
import picocli.CommandLine.Command;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code guest list}: the running guests, one line each, from each one's {@code GET /}. */
@Command(name = "list", description = "Lists the running guests: id, name, package, backend, vCPUs, memory, state, uptime and when the guest wrote its boot marker.")
final class ListCommand implements Callable<Integer> {
    private static final String FORMAT = "%-8s  %-16s  %-16s  %-7s  %5s  %8s  %-8s  %8s  %s%n";

    private final Environment environment;

    ListCommand(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() throws Exception {
        StringBuilder table = new StringBuilder(FORMAT.formatted("ID", "NAME", "PACKAGE", "BACKEND", "VCPUS", "MEMORY", "STATE", "UPTIME", "BOOTED"));
        for (Instance instance : environment.instances().running()) {
            table.append(row(instance));
        }
        environment.consoleOutput().write(table.toString().getBytes(StandardCharsets.UTF_8));
        environment.consoleOutput().flush();
        return 0;
    }

    /** A guest whose VMM holds its directory but does not answer (starting, or ending) is listed as such. */
    private static String row(Instance instance) {
        JsonNode info;
        try {
            info = new ControlClient(instance).getJson("/");
        } catch (InstanceException e) {
            return FORMAT.formatted(instance.id(), instance.name().orElse("-"), "-", "-", "-", "-", "starting", "-", "-");
        }
        Duration uptime = Duration.ofMillis(System.currentTimeMillis() - info.path("started_ms").asLong());
        return FORMAT.formatted(instance.id(), instance.name().orElse("-"), info.path("package").asText(),
                info.path("backend").asText(), info.path("vcpus").asInt(), ByteSize.format(info.path("memory_bytes").asLong()),
                info.path("state").asText().toLowerCase(Locale.ROOT), uptime(uptime), booted(info.path("boot_marker_ms")));
    }

    /** When the guest wrote the boot marker, in seconds after launch; "-" before it has. */
    private static String booted(JsonNode bootMarkerMillis) {
        return bootMarkerMillis.isNumber() ? String.format(Locale.ROOT, "%.3f s", bootMarkerMillis.asLong() / 1e3) : "-";
    }

    private static String uptime(Duration uptime) {
        return "%d:%02d:%02d".formatted(uptime.toHours(), uptime.toMinutesPart(), uptime.toSecondsPart());
    }
}
