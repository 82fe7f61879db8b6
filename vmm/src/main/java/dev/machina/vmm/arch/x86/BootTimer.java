package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.TrapHandler;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The boot-time marker, after Firecracker's boot timer: when the guest writes {@link #MAGIC} to
 * port {@link #PORT} (its init does so once user space runs), the VMM reports the time since the
 * machine was launched. Other values and reads do nothing, so probing the port is harmless.
 */
public final class BootTimer implements TrapHandler {
    public static final int PORT = 0x440;
    public static final int MAGIC = 123;

    private final LongSupplier nanoTime;
    private final long launched;
    private final Consumer<Duration> report;

    /** Measures from now on {@code nanoTime}'s clock; each marker's time goes to {@code report}. */
    public BootTimer(LongSupplier nanoTime, Consumer<Duration> report) {
        this.nanoTime = nanoTime;
        this.launched = nanoTime.getAsLong();
        this.report = report;
    }

    @Override
    public long read(long offset, int size) {
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if ((value & 0xFF) == MAGIC) {
            report.accept(Duration.ofNanos(nanoTime.getAsLong() - launched));
        }
    }
}
