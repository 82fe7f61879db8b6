package dev.machina.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code GET /metrics} as {@code guest stats} prints it: a row per vCPU and their total, with
 * entries, instructions retired (where the backend counts them) and a column per exit reason any
 * vCPU has seen; then a line per disk. Given an earlier reading, the counts become rates per second
 * since it, as {@code kstats -v} shows them.
 */
final class StatisticsTable {
    /** Wide enough for 1,000,000,000,000 instructions. */
    private static final int MIN_WIDTH = 18;
    private StatisticsTable() {
    }

    /** The totals in {@code now}. */
    static String totals(JsonNode now) {
        return format(now, null, 1);
    }

    /** The rates per second from {@code before} to {@code now}, {@code seconds} apart. */
    static String rates(JsonNode now, JsonNode before, double seconds) {
        return format(now, before, seconds);
    }

    private static String format(JsonNode now, JsonNode before, double seconds) {
        List<String> columns = new ArrayList<>(List.of("entries"));
        boolean counted = now.path("vcpus").path(0).path("instructionsRetired").isNumber();
        if (counted) {
            columns.add("instructions");
        }
        Set<String> reasons = new LinkedHashSet<>();
        for (JsonNode vcpu : now.path("vcpus")) {
            vcpu.path("exits").properties().forEach(exit -> {
                if (exit.getValue().asLong() != 0) {
                    reasons.add(exit.getKey());
                }
            });
        }
        columns.addAll(reasons);
        StringBuilder text = new StringBuilder(before == null ? "" : String.format(Locale.ROOT, "per second over %.1f s%n", seconds));
        text.append(String.format("%-6s", "vCPU"));
        List<String> headings = columns.stream().map(column -> column.toLowerCase(Locale.ROOT).replace('_', ' ')).toList();
        int[] widths = new int[headings.size()];
        for (int c = 0; c < headings.size(); c++) {
            widths[c] = Math.max(MIN_WIDTH, headings.get(c).length() + 2);
            text.append(String.format("%" + widths[c] + "s", headings.get(c)));
        }
        text.append('\n');
        long[] total = new long[columns.size()];
        for (int v = 0; v < now.path("vcpus").size(); v++) {
            JsonNode vcpu = now.path("vcpus").path(v);
            JsonNode earlier = before == null ? null : before.path("vcpus").path(v);
            text.append(String.format("%-6d", vcpu.path("id").asInt()));
            for (int c = 0; c < columns.size(); c++) {
                long value = Math.round((count(vcpu, columns.get(c)) - (earlier == null ? 0 : count(earlier, columns.get(c)))) / seconds);
                total[c] += value;
                text.append(String.format(Locale.ROOT, "%," + widths[c] + "d", value));
            }
            text.append('\n');
        }
        text.append(String.format("%-6s", "total"));
        for (int c = 0; c < total.length; c++) {
            text.append(String.format(Locale.ROOT, "%," + widths[c] + "d", total[c]));
        }
        text.append('\n');
        for (JsonNode disk : now.path("disks")) {
            text.append(String.format(Locale.ROOT, "%s: %,d reads (%,d bytes), %,d writes (%,d bytes), %,d flushes, %,d failures%n",
                    disk.path("name").asText(), disk.path("reads").asLong(), disk.path("bytesRead").asLong(),
                    disk.path("writes").asLong(), disk.path("bytesWritten").asLong(), disk.path("flushes").asLong(),
                    disk.path("failures").asLong()));
        }
        return text.toString();
    }

    private static long count(JsonNode vcpu, String column) {
        return switch (column) {
            case "entries" -> vcpu.path("entries").asLong();
            case "instructions" -> vcpu.path("instructionsRetired").asLong();
            default -> vcpu.path("exits").path(column).asLong();
        };
    }
}
