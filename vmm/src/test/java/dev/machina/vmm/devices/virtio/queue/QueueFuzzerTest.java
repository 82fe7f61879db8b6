package dev.machina.vmm.devices.virtio.queue;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class QueueFuzzerTest {
    @Test
    void aFixedSeedRunsTwoHundredThousandChainsWithNothingButQueueFaults() {
        QueueFuzzer.Result result = QueueFuzzer.run(0x5EED, 200_000, memory -> QueueFuzzer.echo());
        System.out.println("QueueFuzzer: " + result);
        assertThat(result.chains()).isGreaterThanOrEqualTo(200_000);
        assertThat(result.wraps()).isPositive();
        // The run reached every check a driver can trip (but the 2 GiB total, past this small RAM).
        for (String kind : List.of(
                "an indirect table inside an indirect table",
                "INDIRECT and NEXT both set",
                "is not a positive multiple of",
                "indirect table #+# is not guest RAM",
                "is longer than the queue size",
                "a device-readable buffer after a device-writable one",
                "buffer #+# is not guest RAM",
                "next index # is outside the table",
                "more than the queue size # ahead",
                "head index # is outside the descriptor table",
                "queue size # is not a power of",
                "descriptor table at # is not #-byte aligned",
                "available ring at # is not #-byte aligned",
                "used ring at # is not #-byte aligned",
                "descriptor table #+# of a #-entry queue is not guest RAM",
                "available ring #+# of a #-entry queue is not guest RAM",
                "used ring #+# of a #-entry queue is not guest RAM")) {
            assertThat(result.faultKinds().keySet()).as("fault kinds").anyMatch(found -> found.contains(kind));
        }
    }

    /** {@code -Dmachina.fuzz.chains=N} (and optionally {@code -Dmachina.fuzz.seed=S}) runs N chains and prints the figures. */
    @Test
    void onDemand() {
        String chains = System.getProperty("machina.fuzz.chains");
        assumeTrue(chains != null, "set -Dmachina.fuzz.chains=N to fuzz N chains");
        long seed = Long.getLong("machina.fuzz.seed", System.nanoTime());
        System.out.println("QueueFuzzer: seed " + seed + " (-Dmachina.fuzz.seed to run it again)");
        System.out.println("QueueFuzzer: " + QueueFuzzer.run(seed, Long.parseLong(chains), memory -> QueueFuzzer.echo()));
    }
}
