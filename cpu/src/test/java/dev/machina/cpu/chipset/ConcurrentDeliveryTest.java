package dev.machina.cpu.chipset;

import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Other threads set IRR bits while the owner takes them: no request may be lost. */
class ConcurrentDeliveryTest {
    private static final int SENDERS = 4;
    private static final int ROUNDS = 200;

    @Test
    void everyVectorSentFromOtherThreadsIsTakenOnce() throws Exception {
        FakeClock clock = new FakeClock(0);
        ApicBus bus = new ApicBus(vector -> { }, () -> -1);
        LocalApic apic = new LocalApic(0, new RecordingControl(), bus, new Tsc(clock, 0), clock);
        int vectorsPerSender = (256 - 16) / SENDERS;
        ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                Future<?>[] sent = new Future<?>[SENDERS];
                for (int s = 0; s < SENDERS; s++) {
                    int first = 16 + s * vectorsPerSender;
                    sent[s] = senders.submit(() -> {
                        for (int vector = first; vector < first + vectorsPerSender; vector++) {
                            bus.deliver(0, false, DeliveryMode.FIXED, vector, false);
                        }
                        return null;
                    });
                }
                BitSet taken = new BitSet();
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (taken.cardinality() < SENDERS * vectorsPerSender && System.nanoTime() < giveUp) {
                    int vector = apic.acknowledgeInterrupt();
                    if (vector >= 0) {
                        assertThat(taken.get(vector)).as("vector %d taken twice", vector).isFalse();
                        taken.set(vector);
                        apic.writeRegister(LocalApic.EOI, 0);
                    }
                }
                for (Future<?> future : sent) {
                    future.get(10, TimeUnit.SECONDS);
                }
                assertThat(taken.cardinality()).as("round %d", round).isEqualTo(SENDERS * vectorsPerSender);
                assertThat(apic.hasInterrupt()).isFalse();
            }
        } finally {
            senders.shutdownNow();
        }
    }
}
