package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.x86.X86MemoryMap;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The boot-time marker, after Firecracker's boot timer: when the guest writes {@link #MAGIC} to
 * the first byte of its MMIO page at {@link X86MemoryMap#BOOT_TIMER_BASE} (linux_guest's init
 * does so with {@code devmem 0xfebf0000 8 123} once user space runs), the VMM reports the time
 * since the machine was launched. Memory rather than a port, because Debian's kernels have no
 * /dev/port. Other values and reads do nothing, so probing the page is harmless.
 */
public final class BootTimer implements TrapHandler {
    public static final int SIZE = 0x1000;
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
        if (offset == 0 && (value & 0xFF) == MAGIC) {
            report.accept(Duration.ofNanos(nanoTime.getAsLong() - launched));
        }
    }
}
