package dev.machina.kvm;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.memory.RamRegion;
import dev.machina.hypervisor.os.Posix;
import dev.machina.kvm.KvmStructs.Irqfd;
import dev.machina.kvm.KvmStructs.Ioeventfd;
import dev.machina.kvm.KvmStructs.MemoryRegion;
import dev.machina.kvm.KvmStructs.Msi;
import dev.machina.kvm.KvmStructs.PitConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A KVM virtual machine: its descriptor and the VM-wide requests, each with its argument struct
 * filled here. Set up as a PC: in-kernel PIC, IOAPIC and local APICs, and the in-kernel PIT.
 */
final class KvmVm implements AutoCloseable {
    /**
     * Three pages KVM needs below 4 GiB for the real-mode TSS on Intel, and the page before them
     * for the identity page table of unrestricted real mode: at the top of the 32-bit MMIO hole,
     * under the firmware area, where no RAM or device sits.
     */
    static final long IDENTITY_MAP_ADDRESS = 0xFFFB_C000L;
    static final long TSS_ADDRESS = 0xFFFB_D000L;

    /** Each calling thread's own argument struct, so that signalling an MSI allocates nothing. */
    private static final ThreadLocal<MemorySegment> MSI = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Msi.LAYOUT));

    private final int fd;

    private KvmVm(int fd) {
        this.fd = fd;
    }

    /** Creates a VM with an in-kernel irqchip and PIT and {@code memory} as its RAM. */
    static KvmVm create(KvmSystem system, GuestMemory memory) {
        KvmVm vm = new KvmVm(system.createVm());
        try {
            vm.setUp(memory);
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    private void setUp(GuestMemory memory) {
        try (Arena arena = Arena.ofConfined()) {
            KvmIoctls.SET_IDENTITY_MAP_ADDR.call(fd, arena.allocateFrom(JAVA_LONG, IDENTITY_MAP_ADDRESS));
            KvmIoctls.SET_TSS_ADDR.call(fd, TSS_ADDRESS);
            KvmIoctls.CREATE_IRQCHIP.call(fd, 0);
            MemorySegment pit = arena.allocate(PitConfig.LAYOUT);
            PitConfig.FLAGS.set(pit, 0L, PitConfig.SPEAKER_DUMMY);
            KvmIoctls.CREATE_PIT2.call(fd, pit);
            int slot = 0;
            for (RamRegion region : memory.regions()) {
                MemorySegment slotRegion = arena.allocate(MemoryRegion.LAYOUT);
                MemoryRegion.SLOT.set(slotRegion, 0L, slot++);
                MemoryRegion.GUEST_PHYS_ADDR.set(slotRegion, 0L, region.guestAddress());
                MemoryRegion.MEMORY_SIZE.set(slotRegion, 0L, region.size());
                MemoryRegion.USERSPACE_ADDR.set(slotRegion, 0L, memory.mapping().address() + region.hostOffset());
                KvmIoctls.SET_USER_MEMORY_REGION.call(fd, slotRegion);
            }
        }
    }

    /** Creates vCPU {@code id}; the caller owns the returned descriptor. */
    int createVcpu(int id) {
        return KvmIoctls.CREATE_VCPU.call(fd, id);
    }

    /** Binds {@code irqfd} to line {@code gsi}: each signal is one edge on the line. */
    void assignIrqfd(EventFd irqfd, int gsi) {
        irqfd(irqfd, gsi, 0, null);
    }

    /**
     * Binds {@code irqfd} to line {@code gsi} as a level: a signal asserts the line until the
     * guest's EOI lowers it again and signals {@code resamplefd}.
     */
    void assignResamplingIrqfd(EventFd irqfd, EventFd resamplefd, int gsi) {
        irqfd(irqfd, gsi, Irqfd.RESAMPLE, resamplefd);
    }

    void deassignIrqfd(EventFd irqfd, int gsi) {
        irqfd(irqfd, gsi, Irqfd.DEASSIGN, null);
    }

    private void irqfd(EventFd irqfd, int gsi, int flags, EventFd resamplefd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment request = arena.allocate(Irqfd.LAYOUT);
            Irqfd.FD.set(request, 0L, irqfd.fd());
            Irqfd.GSI.set(request, 0L, gsi);
            Irqfd.FLAGS.set(request, 0L, flags);
            Irqfd.RESAMPLEFD.set(request, 0L, resamplefd == null ? 0 : resamplefd.fd());
            KvmIoctls.IRQFD.call(fd, request);
        }
    }

    /**
     * Makes a guest write of any width to guest-physical {@code address} signal {@code eventFd}
     * inside KVM, without the vCPU leaving the kernel (length 0 matches every width).
     */
    void assignIoeventfd(EventFd eventFd, long address) {
        ioeventfd(eventFd, address, 0);
    }

    void deassignIoeventfd(EventFd eventFd, long address) {
        ioeventfd(eventFd, address, Ioeventfd.DEASSIGN);
    }

    private void ioeventfd(EventFd eventFd, long address, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ioeventfd = arena.allocate(Ioeventfd.LAYOUT);
            Ioeventfd.ADDR.set(ioeventfd, 0L, address);
            Ioeventfd.LEN.set(ioeventfd, 0L, 0);
            Ioeventfd.FD.set(ioeventfd, 0L, eventFd.fd());
            Ioeventfd.FLAGS.set(ioeventfd, 0L, flags);
            KvmIoctls.IOEVENTFD.call(fd, ioeventfd);
        }
    }

    /** Delivers an MSI as a device's write of {@code data} to {@code address} would. */
    void signalMsi(long address, int data) {
        MemorySegment msi = MSI.get();
        Msi.ADDRESS_LO.set(msi, 0L, (int) address);
        Msi.ADDRESS_HI.set(msi, 0L, (int) (address >>> 32));
        Msi.DATA.set(msi, 0L, data);
        KvmIoctls.SIGNAL_MSI.call(fd, msi);
    }

    @Override
    public void close() {
        Posix.close(fd);
    }
}
