package dev.machina.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StatisticsTableTest {
    private static JsonNode metrics(long io, long halt, long retired) throws Exception {
        return new ObjectMapper().readTree("""
                {"vcpus": [{"id": 0, "entries": 10, "exits": {"IO": %d, "HALT": %d, "MMIO": 0, "INTERRUPT_WINDOW": 1}, "instructionsRetired": %d},
                           {"id": 1, "entries": 20, "exits": {"IO": 1, "HALT": 0, "MMIO": 0, "INTERRUPT_WINDOW": 0}, "instructionsRetired": 5}],
                 "disks": [{"name": "virtio-blk0", "reads": 2, "bytesRead": 1024, "writes": 1, "bytesWritten": 512, "flushes": 1, "failures": 0}]}
                """.formatted(io, halt, retired));
    }

    @Test
    void totalsShowEveryReasonAnyVcpuHasSeenAndTheDisks() throws Exception {
        assertThat(StatisticsTable.totals(metrics(3_000, 4, 1_234_567))).isEqualTo("""
                vCPU             entries      instructions                io              halt  interrupt window
                0                     10         1,234,567             3,000                 4                 1
                1                     20                 5                 1                 0                 0
                total                 30         1,234,572             3,001                 4                 1
                virtio-blk0: 2 reads (1,024 bytes), 1 writes (512 bytes), 1 flushes, 0 failures
                """);
    }

    @Test
    void ratesAreTheDifferencePerSecond() throws Exception {
        String rates = StatisticsTable.rates(metrics(3_000, 4, 2_000_000), metrics(1_000, 4, 1_000_000), 2);
        assertThat(rates).startsWith("per second over 2.0 s\n")
                .contains("0                      0           500,000             1,000                 0                 0\n");
    }
}
