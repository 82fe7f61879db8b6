package dev.machina.vmm.devices.serial;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleWriterTest {
    /** An output whose first write waits for {@code released}, as a slow terminal would. */
    private static final class SlowOutput extends OutputStream {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final AtomicInteger writes = new AtomicInteger();
        final CountDownLatch released = new CountDownLatch(1);

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] bytes, int offset, int length) {
            if (writes.getAndIncrement() == 0) {
                try {
                    released.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            received.write(bytes, offset, length);
        }
    }

    @Test
    void bytesQueuedWhileTheOutputIsSlowGoOutTogetherInOrder() {
        SlowOutput output = new SlowOutput();
        ConsoleWriter writer = new ConsoleWriter(output, "test-console");
        int count = 3 * ConsoleWriter.CAPACITY / 4;
        for (int i = 0; i < count; i++) {
            writer.accept(i & 0xFF); // the queue holds them all while the first write waits
        }
        output.released.countDown();
        writer.close();

        byte[] received = output.received.toByteArray();
        assertThat(received).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(received[i] & 0xFF).as("byte %d", i).isEqualTo(i & 0xFF);
        }
        // The first byte alone, if the writer took it before the rest came, then all the others at once.
        assertThat(output.writes.get()).as("writes for %d bytes", count).isLessThanOrEqualTo(2);
    }

    @Test
    void moreThanTheQueueHoldsWaitsForRoomAndNothingIsLost() {
        SlowOutput output = new SlowOutput();
        output.released.countDown();
        ConsoleWriter writer = new ConsoleWriter(output, "test-console");
        int count = 5 * ConsoleWriter.CAPACITY + 123;
        for (int i = 0; i < count; i++) {
            writer.accept(i % 251);
        }
        writer.close();

        byte[] received = output.received.toByteArray();
        assertThat(received).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(received[i] & 0xFF).as("byte %d", i).isEqualTo(i % 251);
        }
    }
}
