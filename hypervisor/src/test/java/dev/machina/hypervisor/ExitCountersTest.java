package dev.machina.hypervisor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ExitCountersTest {
    @Test
    void countsEntriesAndExitsByReason() throws InterruptedException {
        ExitCounters counters = new ExitCounters();
        Thread vcpu = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 1000; i++) {
                counters.entered();
                counters.exited(i % 4 == 0 ? ExitReason.MMIO : ExitReason.IO);
            }
            counters.add(ExitReason.HALT, 7);
        });
        vcpu.join();
        assertThat(counters.entries()).isEqualTo(1000);
        assertThat(counters.exits(ExitReason.IO)).isEqualTo(750);
        assertThat(counters.exits(ExitReason.MMIO)).isEqualTo(250);
        assertThat(counters.exits()).isEqualTo(1007);
        assertThat(counters.byReason()).containsEntry(ExitReason.HALT, 7L).containsEntry(ExitReason.CPUID, 0L);
    }
}
