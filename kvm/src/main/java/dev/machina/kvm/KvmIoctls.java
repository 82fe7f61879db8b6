package dev.machina.kvm;

import dev.machina.kvm.KvmStructs.Cpuid;
import dev.machina.kvm.KvmStructs.Irqfd;
import dev.machina.kvm.KvmStructs.Ioeventfd;
import dev.machina.kvm.KvmStructs.MemoryRegion;
import dev.machina.kvm.KvmStructs.MpState;
import dev.machina.kvm.KvmStructs.Msi;
import dev.machina.kvm.KvmStructs.Msrs;
import dev.machina.kvm.KvmStructs.PitConfig;
import dev.machina.kvm.KvmStructs.Regs;
import dev.machina.kvm.KvmStructs.Sregs;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The KVM ioctl requests Machina issues, numbered as {@code <linux/kvm.h>} numbers them. */
final class KvmIoctls {
    private static final int KVMIO = 0xAE;

    // On /dev/kvm.
    static final Ioctl GET_API_VERSION = Ioctl.io("KVM_GET_API_VERSION", KVMIO, 0x00);
    static final Ioctl CREATE_VM = Ioctl.io("KVM_CREATE_VM", KVMIO, 0x01);
    static final Ioctl GET_VCPU_MMAP_SIZE = Ioctl.io("KVM_GET_VCPU_MMAP_SIZE", KVMIO, 0x04);
    static final Ioctl GET_SUPPORTED_CPUID = Ioctl.iowr("KVM_GET_SUPPORTED_CPUID", KVMIO, 0x05, Cpuid.HEADER);

    // On a VM.
    static final Ioctl CREATE_VCPU = Ioctl.io("KVM_CREATE_VCPU", KVMIO, 0x41);
    static final Ioctl SET_USER_MEMORY_REGION = Ioctl.iow("KVM_SET_USER_MEMORY_REGION", KVMIO, 0x46, MemoryRegion.LAYOUT);
    static final Ioctl SET_TSS_ADDR = Ioctl.io("KVM_SET_TSS_ADDR", KVMIO, 0x47);
    static final Ioctl SET_IDENTITY_MAP_ADDR = Ioctl.iow("KVM_SET_IDENTITY_MAP_ADDR", KVMIO, 0x48, JAVA_LONG);
    static final Ioctl CREATE_IRQCHIP = Ioctl.io("KVM_CREATE_IRQCHIP", KVMIO, 0x60);
    static final Ioctl IRQFD = Ioctl.iow("KVM_IRQFD", KVMIO, 0x76, Irqfd.LAYOUT);
    static final Ioctl CREATE_PIT2 = Ioctl.iow("KVM_CREATE_PIT2", KVMIO, 0x77, PitConfig.LAYOUT);
    static final Ioctl IOEVENTFD = Ioctl.iow("KVM_IOEVENTFD", KVMIO, 0x79, Ioeventfd.LAYOUT);
    static final Ioctl SIGNAL_MSI = Ioctl.iow("KVM_SIGNAL_MSI", KVMIO, 0xA5, Msi.LAYOUT);

    // On a vCPU.
    static final Ioctl RUN = Ioctl.io("KVM_RUN", KVMIO, 0x80);
    static final Ioctl GET_REGS = Ioctl.ior("KVM_GET_REGS", KVMIO, 0x81, Regs.LAYOUT);
    static final Ioctl SET_REGS = Ioctl.iow("KVM_SET_REGS", KVMIO, 0x82, Regs.LAYOUT);
    static final Ioctl GET_SREGS = Ioctl.ior("KVM_GET_SREGS", KVMIO, 0x83, Sregs.LAYOUT);
    static final Ioctl SET_SREGS = Ioctl.iow("KVM_SET_SREGS", KVMIO, 0x84, Sregs.LAYOUT);
    static final Ioctl GET_MSRS = Ioctl.iowr("KVM_GET_MSRS", KVMIO, 0x88, Msrs.HEADER);
    static final Ioctl SET_MSRS = Ioctl.iow("KVM_SET_MSRS", KVMIO, 0x89, Msrs.HEADER);
    static final Ioctl SET_CPUID2 = Ioctl.iow("KVM_SET_CPUID2", KVMIO, 0x90, Cpuid.HEADER);
    static final Ioctl SET_MP_STATE = Ioctl.iow("KVM_SET_MP_STATE", KVMIO, 0x99, MpState.LAYOUT);
    static final Ioctl GET_STATS_FD = Ioctl.io("KVM_GET_STATS_FD", KVMIO, 0xCE);

    private KvmIoctls() {
    }
}
