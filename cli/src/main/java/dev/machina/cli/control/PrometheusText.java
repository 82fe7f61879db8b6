package dev.machina.cli.control;

import dev.machina.hypervisor.ExitReason;
import dev.machina.vmm.MachineStatistics;

import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/** {@code GET /metrics?format=prometheus}: the statistics in Prometheus's text exposition format (0.0.4). */
final class PrometheusText {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText() {
    }

    static String format(MachineStatistics statistics) {
        StringBuilder text = new StringBuilder();
        perVcpu(text, statistics, "machina_vcpu_entries_total", "Entries into the guest, by vCPU.",
                MachineStatistics.VcpuStatistics::entries);
        counter(text, "machina_vcpu_exits_total", "Exits from the guest, by vCPU and reason.");
        for (MachineStatistics.VcpuStatistics vcpu : statistics.vcpus()) {
            for (Map.Entry<ExitReason, Long> exit : vcpu.exits().entrySet()) {
                sample(text, "machina_vcpu_exits_total", "vcpu=\"%d\",reason=\"%s\"".formatted(vcpu.id(),
                        exit.getKey().name().toLowerCase(Locale.ROOT)), exit.getValue());
            }
        }
        if (statistics.vcpus().stream().allMatch(vcpu -> vcpu.instructionsRetired() != null)) {
            perVcpu(text, statistics, "machina_vcpu_instructions_retired_total",
                    "Guest instructions executed, by vCPU (the Java CPU counts them).", MachineStatistics.VcpuStatistics::instructionsRetired);
        }
        counter(text, "machina_disk_requests_total", "Requests served, by disk and kind.");
        for (MachineStatistics.DiskStatistics disk : statistics.disks()) {
            String name = "disk=\"" + disk.name() + "\"";
            sample(text, "machina_disk_requests_total", name + ",kind=\"read\"", disk.reads());
            sample(text, "machina_disk_requests_total", name + ",kind=\"write\"", disk.writes());
            sample(text, "machina_disk_requests_total", name + ",kind=\"flush\"", disk.flushes());
        }
        counter(text, "machina_disk_bytes_total", "Bytes moved, by disk and direction.");
        for (MachineStatistics.DiskStatistics disk : statistics.disks()) {
            sample(text, "machina_disk_bytes_total", "disk=\"" + disk.name() + "\",direction=\"read\"", disk.bytesRead());
            sample(text, "machina_disk_bytes_total", "disk=\"" + disk.name() + "\",direction=\"write\"", disk.bytesWritten());
        }
        counter(text, "machina_disk_failures_total", "Requests that failed on the host (I/O errors), by disk.");
        for (MachineStatistics.DiskStatistics disk : statistics.disks()) {
            sample(text, "machina_disk_failures_total", "disk=\"" + disk.name() + "\"", disk.failures());
        }
        return text.toString();
    }

    private static void perVcpu(StringBuilder text, MachineStatistics statistics, String name, String help,
                                ToLongFunction<MachineStatistics.VcpuStatistics> value) {
        counter(text, name, help);
        for (MachineStatistics.VcpuStatistics vcpu : statistics.vcpus()) {
            sample(text, name, "vcpu=\"" + vcpu.id() + "\"", value.applyAsLong(vcpu));
        }
    }

    private static void counter(StringBuilder text, String name, String help) {
        text.append("# HELP ").append(name).append(' ').append(help).append('\n');
        text.append("# TYPE ").append(name).append(" counter\n");
    }

    private static void sample(StringBuilder text, String name, String labels, long value) {
        text.append(name).append('{').append(labels).append("} ").append(value).append('\n');
    }
}
