package dev.machina.kvm;

import dev.machina.hypervisor.os.Posix;
import dev.machina.kvm.KvmStructs.Run;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A vCPU's {@code kvm_run} page, shared with KVM: why the last {@code KVM_RUN} returned, and the
 * data of an I/O or MMIO exit, which the VMM reads and (for reads by the guest) fills in before
 * resuming. Accessors allocate nothing.
 */
final class KvmRun implements AutoCloseable {
    static final int EXIT_IO = 2;
    static final int EXIT_HLT = 5;
    static final int EXIT_MMIO = 6;
    static final int EXIT_IRQ_WINDOW_OPEN = 7;
    static final int EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9;
    static final int EXIT_INTR = 10;
    static final int EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24;

    static final int SYSTEM_EVENT_SHUTDOWN = 1;
    static final int SYSTEM_EVENT_RESET = 2;
    static final int SYSTEM_EVENT_CRASH = 3;

    private static final int IO_OUT = 1;

    private final MemorySegment page;

    private KvmRun(MemorySegment page) {
        this.page = page;
    }

    /** Maps the {@code kvm_run} page of vCPU descriptor {@code vcpuFd}. */
    static KvmRun map(int vcpuFd, long size) {
        return new KvmRun(Posix.mmap(size, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, vcpuFd, 0));
    }

    int exitReason() {
        return (int) Run.EXIT_REASON.get(page, 0L);
    }

    /**
     * Makes the next (or current, once a signal interrupts it) {@code KVM_RUN} return at once with
     * EINTR; written by the thread that stops the vCPU.
     */
    void requestImmediateExit() {
        Run.IMMEDIATE_EXIT.setVolatile(page, 0L, (byte) 1);
    }

    /** Lets KVM_RUN enter the guest again after {@link #requestImmediateExit()}; written by the vCPU thread. */
    void clearImmediateExit() {
        Run.IMMEDIATE_EXIT.setVolatile(page, 0L, (byte) 0);
    }

    boolean ioOut() {
        return (byte) Run.IO_DIRECTION.get(page, 0L) == IO_OUT;
    }

    int ioSize() {
        return (byte) Run.IO_SIZE.get(page, 0L);
    }

    int ioPort() {
        return Short.toUnsignedInt((short) Run.IO_PORT.get(page, 0L));
    }

    /** How many transfers a string instruction (INS/OUTS with REP) made in this exit. */
    int ioCount() {
        return (int) Run.IO_COUNT.get(page, 0L);
    }

    /** Where in the page the I/O data lies, {@link #ioSize()} bytes per transfer. */
    long ioDataOffset() {
        return (long) Run.IO_DATA_OFFSET.get(page, 0L);
    }

    long mmioAddress() {
        return (long) Run.MMIO_PHYS_ADDR.get(page, 0L);
    }

    int mmioLength() {
        return (int) Run.MMIO_LEN.get(page, 0L);
    }

    boolean mmioWrite() {
        return (byte) Run.MMIO_IS_WRITE.get(page, 0L) != 0;
    }

    long mmioDataOffset() {
        return Run.MMIO_DATA;
    }

    /** The little-endian value of {@code size} (at most 8) bytes at {@code offset} in the page. */
    long load(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (page.get(JAVA_BYTE, offset + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    /** Stores the low {@code size} (at most 8) bytes of {@code value}, little-endian, at {@code offset}. */
    void store(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            page.set(JAVA_BYTE, offset + i, (byte) (value >>> (8 * i)));
        }
    }

    /** What a failed entry reports: the hardware's reason and the host CPU. */
    String failEntry() {
        return "KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%x on host cpu %d".formatted(
                (long) Run.FAIL_ENTRY_REASON.get(page, 0L), (int) Run.FAIL_ENTRY_CPU.get(page, 0L));
    }

    /** What an internal error reports: the suberror (1 is an emulation failure) and its data words. */
    String internalError() {
        int count = Math.min((int) Run.INTERNAL_NDATA.get(page, 0L), 16);
        StringBuilder text = new StringBuilder("KVM_EXIT_INTERNAL_ERROR: suberror ")
                .append((int) Run.INTERNAL_SUBERROR.get(page, 0L)).append(", data [");
        for (int i = 0; i < count; i++) {
            text.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString((long) Run.INTERNAL_DATA.get(page, 0L, (long) i)));
        }
        return text.append(']').toString();
    }

    long hardwareExitReason() {
        return (long) Run.HARDWARE_EXIT_REASON.get(page, 0L);
    }

    int systemEventType() {
        return (int) Run.SYSTEM_EVENT_TYPE.get(page, 0L);
    }

    @Override
    public void close() {
        Posix.munmap(page);
    }
}
