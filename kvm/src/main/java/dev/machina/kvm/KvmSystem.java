package dev.machina.kvm;

import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;
import dev.machina.kvm.KvmStructs.Cpuid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The open {@code /dev/kvm}: checked for the stable API, and asked once for what every VM and vCPU
 * needs from it (the size of the shared vCPU page, the CPUID the host supports).
 */
final class KvmSystem implements AutoCloseable {
    static final String DEVICE = "/dev/kvm";
    /** The one KVM API version there has been since Linux 2.6.22. */
    static final int API_VERSION = 12;

    private final int fd;
    private final long vcpuMmapSize;
    private final CpuidTable supportedCpuid;

    private KvmSystem(int fd, long vcpuMmapSize, CpuidTable supportedCpuid) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
        this.supportedCpuid = supportedCpuid;
    }

    /**
     * Opens {@code /dev/kvm} and checks its API version.
     *
     * @throws HypervisorException saying why KVM cannot be used ("/dev/kvm: Permission denied")
     */
    static KvmSystem open() {
        return open(Path.of(DEVICE));
    }

    /** Opens {@code device} as the KVM device, with the checks of {@link #open()}. */
    static KvmSystem open(Path device) {
        int fd;
        try {
            fd = Posix.open(device.toString(), Posix.O_RDWR);
        } catch (PosixException e) {
            throw new HypervisorException(device + ": " + Posix.describe(e.errno()), e);
        }
        try {
            int version;
            try {
                version = KvmIoctls.GET_API_VERSION.call(fd, 0);
            } catch (PosixException e) {
                throw new HypervisorException(device + " is not KVM: " + e.getMessage(), e);
            }
            if (version != API_VERSION) {
                throw new HypervisorException(device + " speaks KVM API version " + version + ", not " + API_VERSION);
            }
            long mmapSize = KvmIoctls.GET_VCPU_MMAP_SIZE.call(fd, 0);
            return new KvmSystem(fd, mmapSize, CpuidTable.supported(fd));
        } catch (RuntimeException e) {
            Posix.close(fd);
            throw e;
        }
    }

    /** Creates a VM (machine type 0, the default); the caller owns the returned descriptor. */
    int createVm() {
        return KvmIoctls.CREATE_VM.call(fd, 0);
    }

    /** The size of each vCPU's {@code kvm_run} mapping. */
    long vcpuMmapSize() {
        return vcpuMmapSize;
    }

    CpuidTable supportedCpuid() {
        return supportedCpuid;
    }

    @Override
    public void close() {
        Posix.close(fd);
    }

    /** The CPUID leaves KVM supports on this host, to give each vCPU with its own APIC id. */
    static final class CpuidTable {
        private static final int LEAF_FEATURES = 0x1;
        private static final int LEAF_TOPOLOGY = 0xB;
        private static final int LEAF_TOPOLOGY_V2 = 0x1F;

        private final MemorySegment table;

        private CpuidTable(MemorySegment table) {
            this.table = table;
        }

        static CpuidTable supported(int kvmFd) {
            MemorySegment table = Arena.ofAuto().allocate(Cpuid.TABLE);
            Cpuid.NENT.set(table, 0L, Cpuid.MAX_ENTRIES);
            KvmIoctls.GET_SUPPORTED_CPUID.call(kvmFd, table);
            return new CpuidTable(table);
        }

        /** Gives vCPU {@code vcpuFd} these leaves, with {@code apicId} where CPUID reports the APIC id. */
        void applyTo(int vcpuFd, int apicId) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment own = arena.allocate(Cpuid.TABLE).copyFrom(table);
                int entries = (int) Cpuid.NENT.get(own, 0L);
                for (int i = 0; i < entries; i++) {
                    long entry = Cpuid.HEADER.byteSize() + i * Cpuid.ENTRY.byteSize();
                    int function = (int) Cpuid.FUNCTION.get(own, entry);
                    if (function == LEAF_FEATURES) {
                        int ebx = (int) Cpuid.EBX.get(own, entry);
                        Cpuid.EBX.set(own, entry, (ebx & 0x00FF_FFFF) | apicId << 24);
                    } else if (function == LEAF_TOPOLOGY || function == LEAF_TOPOLOGY_V2) {
                        Cpuid.EDX.set(own, entry, apicId);
                    }
                }
                KvmIoctls.SET_CPUID2.call(vcpuFd, own);
            }
        }
    }
}
