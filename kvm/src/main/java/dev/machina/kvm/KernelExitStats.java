package dev.machina.kvm;

import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;
import dev.machina.kvm.KvmStructs.StatsDescriptor;
import dev.machina.kvm.KvmStructs.StatsHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The exits KVM handles inside the kernel, which the resume loop never sees: HLT with an in-kernel
 * local APIC, external interrupts, interrupt windows. They are read from the vCPU's binary
 * statistics ({@code KVM_GET_STATS_FD}, Linux 5.14+) and added to its {@link ExitCounters}, on the
 * vCPU thread: at most every {@link #REFRESH_INTERVAL_NANOS} while exits reach user space, and
 * when the loop ends. Exits user space also sees (I/O, MMIO, signals) are counted by the loop and
 * not taken from here, so no exit is counted twice.
 */
final class KernelExitStats implements AutoCloseable {
    static final long REFRESH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private static final Map<String, ExitReason> KERNEL_ONLY = Map.of(
            "halt_exits", ExitReason.HALT,
            "irq_exits", ExitReason.INTERRUPT,
            "irq_window_exits", ExitReason.INTERRUPT_WINDOW);
    private static final MethodHandle PREAD = Posix.errnoCall("pread", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final int ENOTTY = 25;

    /** Where KVM has no binary statistics: counts nothing. */
    static final KernelExitStats NONE = new KernelExitStats(-1, null, null, 0, new ExitReason[0], new long[0]);

    private final int fd;
    private final Arena arena;
    private final MemorySegment data;
    private final long dataOffset;
    private final ExitReason[] reasons;
    private final long[] offsets;
    private final long[] counted;
    private long lastRefresh;

    private KernelExitStats(int fd, Arena arena, MemorySegment data, long dataOffset, ExitReason[] reasons, long[] offsets) {
        this.fd = fd;
        this.arena = arena;
        this.data = data;
        this.dataOffset = dataOffset;
        this.reasons = reasons;
        this.offsets = offsets;
        this.counted = new long[reasons.length];
    }

    /** The statistics of vCPU {@code vcpuFd}, or {@link #NONE} where the kernel has none. */
    static KernelExitStats open(int vcpuFd) {
        int fd;
        try {
            fd = KvmIoctls.GET_STATS_FD.call(vcpuFd, 0);
        } catch (PosixException e) {
            if (e.errno() == ENOTTY) {
                return NONE;
            }
            throw e;
        }
        Arena arena = Arena.ofShared();
        try {
            return describe(fd, arena);
        } catch (RuntimeException e) {
            arena.close();
            Posix.close(fd);
            throw e;
        }
    }

    /** Reads the descriptors once and keeps the offsets of the kernel-only exit counts. */
    private static KernelExitStats describe(int fd, Arena arena) {
        MemorySegment header = arena.allocate(StatsHeader.LAYOUT);
        readFully(fd, header, 0);
        int nameSize = (int) StatsHeader.NAME_SIZE.get(header, 0L);
        int count = (int) StatsHeader.NUM_DESC.get(header, 0L);
        long descriptorSize = StatsDescriptor.LAYOUT.byteSize() + nameSize;
        MemorySegment descriptors = arena.allocate(descriptorSize * count);
        readFully(fd, descriptors, Integer.toUnsignedLong((int) StatsHeader.DESC_OFFSET.get(header, 0L)));

        List<ExitReason> reasons = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        long dataSize = 0;
        for (int i = 0; i < count; i++) {
            long descriptor = i * descriptorSize;
            long offset = Integer.toUnsignedLong((int) StatsDescriptor.OFFSET.get(descriptors, descriptor));
            long size = Short.toUnsignedLong((short) StatsDescriptor.SIZE.get(descriptors, descriptor));
            dataSize = Math.max(dataSize, offset + size * JAVA_LONG.byteSize());
            String name = descriptors.getString(descriptor + StatsDescriptor.LAYOUT.byteSize());
            ExitReason reason = KERNEL_ONLY.get(name);
            if (reason != null) {
                reasons.add(reason);
                offsets.add(offset);
            }
        }
        return new KernelExitStats(fd, arena, arena.allocate(dataSize, JAVA_LONG.byteAlignment()),
                Integer.toUnsignedLong((int) StatsHeader.DATA_OFFSET.get(header, 0L)),
                reasons.toArray(ExitReason[]::new), offsets.stream().mapToLong(Long::longValue).toArray());
    }

    private static void readFully(int fd, MemorySegment target, long fileOffset) {
        long read = Posix.checked("pread(KVM stats)",
                () -> (long) PREAD.invokeExact(Posix.errnoCapture(), fd, target, target.byteSize(), fileOffset));
        if (read != target.byteSize()) {
            throw new HypervisorException("KVM statistics: read " + read + " of " + target.byteSize() + " bytes");
        }
    }

    /** Refreshes {@code counters} if the last refresh is older than the interval. */
    void refreshIfDue(ExitCounters counters, long now) {
        if (now - lastRefresh >= REFRESH_INTERVAL_NANOS) {
            lastRefresh = now;
            refresh(counters);
        }
    }

    /** Adds to {@code counters} the kernel-only exits since the last refresh. */
    void refresh(ExitCounters counters) {
        if (reasons.length == 0) {
            return;
        }
        readFully(fd, data, dataOffset);
        for (int i = 0; i < reasons.length; i++) {
            long total = data.get(JAVA_LONG, offsets[i]);
            counters.add(reasons[i], total - counted[i]);
            counted[i] = total;
        }
    }

    @Override
    public void close() {
        if (this != NONE) {
            Posix.close(fd);
            arena.close();
        }
    }
}
