package dev.machina.kvm;

import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;
import dev.machina.hypervisor.spi.AbstractVcpu;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.spi.Traps;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;

/**
 * A KVM vCPU: its descriptor, its {@code kvm_run} page and the resume loop, which enters the guest
 * with {@code KVM_RUN} and dispatches port and MMIO exits to the guest's traps on this thread. The
 * loop allocates nothing per exit on the I/O and MMIO paths. Exits KVM handles in the kernel are
 * counted from its statistics ({@link KernelExitStats}).
 *
 * <p>Stopping sets {@code immediate_exit} (for a loop about to enter) and sends the kick signal to
 * the thread (for a vCPU inside the guest or halted in the kernel); either makes KVM_RUN return
 * EINTR, and the loop sees the stop request.
 */
final class KvmVcpu extends AbstractVcpu implements AutoCloseable {
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** The local APIC's MSI window: address bits 19-12 name the destination APIC id. */
    private static final int MSI_DESTINATION_SHIFT = 12;

    private final int fd;
    private final KvmRun run;
    private final KvmVm vm;
    private final Traps traps;
    private final Doorbells doorbells;
    private final KernelExitStats kernelExits;
    private final Object kickLock = new Object();
    /** The vCPU thread's pthread id while the loop runs, else 0; guarded by {@link #kickLock}. */
    private long pthread;
    /** Whether the descriptor and page are released; guarded by {@link #kickLock}. */
    private boolean closed;

    private KvmVcpu(String guestName, int id, int fd, KvmRun run, KernelExitStats kernelExits, KvmVm vm, Traps traps,
                    Doorbells doorbells) {
        super(guestName, id);
        this.fd = fd;
        this.run = run;
        this.kernelExits = kernelExits;
        this.vm = vm;
        this.traps = traps;
        this.doorbells = doorbells;
    }

    /** Creates vCPU {@code id} in {@code vm}, with the host's CPUID and its APIC id equal to {@code id}. */
    static KvmVcpu create(String guestName, int id, KvmSystem system, KvmVm vm, Traps traps, Doorbells doorbells) {
        int fd = vm.createVcpu(id);
        KvmRun run = null;
        try {
            system.supportedCpuid().applyTo(fd, id);
            run = KvmRun.map(fd, system.vcpuMmapSize());
            return new KvmVcpu(guestName, id, fd, run, KernelExitStats.open(fd), vm, traps, doorbells);
        } catch (RuntimeException e) {
            if (run != null) {
                run.close();
            }
            Posix.close(fd);
            throw e;
        }
    }

    @Override
    protected VcpuExit run() {
        long self = VcpuSignals.prepareCurrentThread();
        synchronized (kickLock) {
            pthread = self;
        }
        try {
            return resumeLoop();
        } finally {
            synchronized (kickLock) {
                pthread = 0;
            }
            kernelExits.refresh(counters());
        }
    }

    private VcpuExit resumeLoop() {
        ExitCounters counters = counters();
        long request = KvmIoctls.RUN.request();
        while (!stopRequested()) {
            if (pauseRequested()) {
                holdWhilePaused();
                // The pause's kick left immediate_exit set; clear it before looking at the
                // requests again, so that a kick after this point still makes KVM_RUN return.
                run.clearImmediateExit();
                continue;
            }
            counters.entered();
            int result = Posix.ioctlOrErrno(fd, request, 0);
            if (result < 0) {
                if (-result != EINTR && -result != EAGAIN) {
                    throw new PosixException(KvmIoctls.RUN.name(), -result, Posix.describe(-result));
                }
                counters.exited(ExitReason.SIGNAL);
                continue;
            }
            VcpuExit exit = dispatch(counters);
            if (exit != null) {
                return exit;
            }
            kernelExits.refreshIfDue(counters, System.nanoTime());
        }
        completePendingAccess(request);
        return new VcpuExit.Stopped();
    }

    /**
     * KVM completes an I/O or MMIO exit only on the next KVM_RUN (an IN's value reaches the
     * register then); entering once more with {@code immediate_exit} set completes it without
     * running guest code, so the state read after the loop is whole.
     */
    private void completePendingAccess(long request) {
        run.requestImmediateExit();
        int result = Posix.ioctlOrErrno(fd, request, 0);
        if (result < 0 && -result != EINTR) {
            throw new PosixException(KvmIoctls.RUN.name() + " (completing the last exit)", -result, Posix.describe(-result));
        }
    }

    /** Handles the exit KVM reported; returns why the loop ends, or null to resume the guest. */
    private VcpuExit dispatch(ExitCounters counters) {
        int reason = run.exitReason();
        switch (reason) {
            case KvmRun.EXIT_IO -> {
                counters.exited(ExitReason.IO);
                portIo();
            }
            case KvmRun.EXIT_MMIO -> {
                counters.exited(ExitReason.MMIO);
                mmio();
            }
            case KvmRun.EXIT_INTR -> counters.exited(ExitReason.SIGNAL);
            // Only without an in-kernel local APIC, which every Machina VM has: resume after the HLT.
            case KvmRun.EXIT_HLT -> counters.exited(ExitReason.HALT);
            case KvmRun.EXIT_IRQ_WINDOW_OPEN -> counters.exited(ExitReason.INTERRUPT_WINDOW);
            case KvmRun.EXIT_SHUTDOWN -> {
                counters.exited(ExitReason.SHUTDOWN);
                return new VcpuExit.Shutdown("KVM_EXIT_SHUTDOWN: triple fault");
            }
            case KvmRun.EXIT_SYSTEM_EVENT -> {
                counters.exited(ExitReason.SYSTEM_EVENT);
                return systemEvent();
            }
            case KvmRun.EXIT_FAIL_ENTRY -> {
                counters.exited(ExitReason.FAIL_ENTRY);
                return new VcpuExit.Failed(run.failEntry());
            }
            case KvmRun.EXIT_INTERNAL_ERROR -> {
                counters.exited(ExitReason.INTERNAL_ERROR);
                return new VcpuExit.Failed(run.internalError());
            }
            default -> {
                return new VcpuExit.Failed("unexpected KVM exit reason %d (hardware exit reason 0x%x)"
                        .formatted(reason, run.hardwareExitReason()));
            }
        }
        return null;
    }

    /** IN or OUT, or a string instruction's {@code count} transfers, through the IO traps. */
    private void portIo() {
        int port = run.ioPort();
        int size = run.ioSize();
        int count = run.ioCount();
        long data = run.ioDataOffset();
        boolean out = run.ioOut();
        for (int i = 0; i < count; i++, data += size) {
            if (out) {
                traps.writePort(port, size, run.load(data, size));
            } else {
                run.store(data, size, traps.readPort(port, size));
            }
        }
    }

    /** A read or write outside RAM, through the MEM traps (or a doorbell KVM had no ioeventfd for). */
    private void mmio() {
        long address = run.mmioAddress();
        int length = run.mmioLength();
        long data = run.mmioDataOffset();
        if (run.mmioWrite()) {
            traps.writeMemory(address, length, run.load(data, length), doorbells);
        } else {
            run.store(data, length, traps.readMemory(address, length));
        }
    }

    private VcpuExit systemEvent() {
        int type = run.systemEventType();
        return switch (type) {
            case KvmRun.SYSTEM_EVENT_SHUTDOWN -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Kind.SHUTDOWN);
            case KvmRun.SYSTEM_EVENT_RESET -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Kind.RESET);
            case KvmRun.SYSTEM_EVENT_CRASH -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Kind.CRASH);
            default -> new VcpuExit.Failed("unexpected KVM system event type " + type);
        };
    }

    @Override
    protected void kick() {
        synchronized (kickLock) {
            if (closed) {
                return;
            }
            run.requestImmediateExit();
            if (pthread != 0) {
                VcpuSignals.kick(pthread);
            }
        }
    }

    @Override
    public void interrupt(int vector) {
        if (vector < 0 || vector > 0xFF) {
            throw new IllegalArgumentException("interrupt vector " + vector + " is not 0..255");
        }
        vm.signalMsi(X86MemoryMap.LOCAL_APIC_BASE | (long) id() << MSI_DESTINATION_SHIFT, vector);
    }

    @Override
    protected X86State readStateNow() {
        return KvmState.read(fd);
    }

    @Override
    protected void writeStateNow(X86State state) {
        KvmState.write(fd, state);
    }

    @Override
    protected long readMsrNow(int index) {
        return KvmState.readMsr(fd, index);
    }

    @Override
    protected void writeMsrNow(int index, long value) {
        KvmState.writeMsr(fd, index, value);
    }

    /** Releases the page and the descriptor; the loop must have ended. */
    @Override
    public void close() {
        synchronized (kickLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        kernelExits.close();
        run.close();
        Posix.close(fd);
    }
}
