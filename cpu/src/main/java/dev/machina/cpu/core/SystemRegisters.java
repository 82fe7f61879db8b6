package dev.machina.cpu.core;

import dev.machina.cpu.chipset.Tsc;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.ModelSpecificRegisters;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Msr;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.function.IntSupplier;

/**
 * Control registers, MSRs, CPUID and the time-stamp counter: the system state whose writes have
 * side effects (TLB flushes, mode changes) beyond storing a value.
 */
public final class SystemRegisters {
    /** CPUID leaf 1 EDX: what this core implements of the baseline features. */
    static final int FEATURES_EDX = bit(0) /* FPU */ | bit(2) /* DE */ | bit(3) /* PSE */ | bit(4) /* TSC */ | bit(5) /* MSR */
            | bit(6) /* PAE */ | bit(8) /* CX8 */ | bit(12) /* MTRR */ | bit(13) /* PGE */ | bit(15) /* CMOV */
            | bit(16) /* PAT */ | bit(19) /* CLFSH */ | bit(23) /* MMX */ | bit(24) /* FXSR */ | bit(25) /* SSE */
            | bit(26) /* SSE2 */;
    static final int APIC_FEATURE = bit(9);
    /** CPUID leaf 1 EDX bit 28 (HTT): leaf 1 EBX[23:16] counts the package's logical processors. */
    static final int MULTI_CORE_PACKAGE = bit(28);
    private static final int TOPOLOGY_SMT = 1;
    private static final int TOPOLOGY_CORE = 2;
    /** CPUID leaf 1 ECX: CMPXCHG16B, POPCNT and RDRAND. */
    static final int FEATURES_ECX = bit(13) | bit(23) | bit(30);
    /** CPUID 0x80000001 EDX: SYSCALL, NX, 1 GiB pages, RDTSCP, long mode. */
    static final int EXTENDED_EDX = bit(11) | bit(20) | bit(26) | bit(27) | bit(29);
    /** CPUID 0x80000001 ECX: LAHF/SAHF in 64-bit mode, LZCNT. */
    static final int EXTENDED_ECX = bit(0) | bit(5);
    /** CPUID leaf 1 ECX with a local APIC: its TSC-deadline timer. */
    static final int TSC_DEADLINE_FEATURE = bit(24);
    /** CPUID 0x80000008 EAX[15:8]: 4-level paging's linear address bits. */
    private static final int VIRTUAL_ADDRESS_BITS = 48;
    /** CPUID 0x80000007 EDX: the TSC is invariant. */
    static final int INVARIANT_TSC = bit(8);
    /** CPUID leaf 7 EBX: the IA32_TSC_ADJUST MSR. */
    static final int STRUCTURED_EBX = bit(1);
    /** CPUID leaf 7 ECX: RDPID. */
    static final int STRUCTURED_ECX = bit(22);
    /** CPUID leaf 7 EDX: the IA32_ARCH_CAPABILITIES MSR exists. */
    static final int STRUCTURED_EDX = bit(29);
    /**
     * IA32_ARCH_CAPABILITIES: not affected by Meltdown (RDCL_NO), speculative store bypass, MDS,
     * TAA, the MMIO stale-data family, GDS or RFDS — true of a core that executes nothing
     * speculatively, and it spares the guest page-table isolation and buffer clearing on every
     * kernel exit, which cost an interpreter dearly.
     */
    static final long ARCH_CAPABILITIES = bit(0) /* RDCL_NO */ | bit(4) /* SSB_NO */ | bit(5) /* MDS_NO */
            | bit(6) /* PSCHANGE_MC_NO */ | bit(8) /* TAA_NO */ | bit(13) /* SBDR_SSDP_NO */ | bit(14) /* FBSDP_NO */
            | bit(15) /* PSDP_NO */ | bit(26) /* GDS_NO */ | bit(27) /* RFDS_NO */;
    /** Family 15, model 6, stepping 1: QEMU's kvm64 model, which Linux knows as a plain x86-64. */
    static final int SIGNATURE = 0x0F61;
    static final String VENDOR = "GenuineIntel";
    static final String BRAND = "Machina pure-Java x86-64 CPU";

    /** CR4 bits this core honours or may ignore: TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT. */
    private static final long CR4_SUPPORTED = 0x7FC;
    private static final int PLATFORM_ID = 0x17;
    private static final int ARCH_CAPABILITIES_MSR = 0x10A;
    /** IA32_FEATURE_CONTROL reads as locked with VMX off, as firmware leaves it. */
    private static final int FEATURE_CONTROL = 0x3A;
    private static final long FEATURE_CONTROL_LOCKED = 1;
    /** IA32_BIOS_SIGN_ID: the microcode revision, 0; writes (the "load" request) are ignored. */
    private static final int BIOS_SIGN_ID = 0x8B;
    private static final int DEBUG_CONTROL = 0x1D9;
    private static final int MTRR_CAPABILITIES = 0xFE;
    private static final int MTRR_DEFAULT_TYPE = 0x2FF;
    private static final int MTRR_VARIABLE_FIRST = 0x200;
    private static final int[] MTRR_FIXED = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
    private static final long APIC_BASE_DEFAULT = 0xFEE0_0000L | (1L << 11);
    private static final long EFER_WRITABLE = ControlRegisters.EFER_SCE | ControlRegisters.EFER_LME | ControlRegisters.EFER_NXE;

    private final Processor cpu;
    private final CpuState state;
    private final int apicId;
    private Tsc tsc = new Tsc(System::nanoTime, System.nanoTime());
    /** The cores of the package this core is one of; a guest's vCPUs are all cores of one package. */
    private IntSupplier packageCores = () -> 1;
    private long apicBaseWithoutApic;
    /**
     * RDRAND's source: the host's, as a hardware generator's output comes from a physical noise
     * source. A guest kernel seeds its random pool from RDRAND at boot; without it, Linux gathers
     * entropy by timing its own scheduling (BLAKE2s over jitter until the timer has fired some
     * hundreds of times), which on a software CPU took a tenth of linux_guest's boot.
     */
    private final SecureRandom randomSource = new SecureRandom();

    SystemRegisters(Processor cpu, int apicId) {
        this.cpu = cpu;
        this.state = cpu.state;
        this.apicId = apicId;
        this.apicBaseWithoutApic = APIC_BASE_DEFAULT | (apicId == 0 ? 1L << 8 : 0);
    }

    /** A random number for RDRAND, from the host's generator. */
    public long randomNumber() {
        return randomSource.nextLong();
    }

    private static int bit(int n) {
        return 1 << n;
    }

    // ---- control registers ----------------------------------------------------------------------

    public long readControl(int number) {
        return switch (number) {
            case 0 -> state.cr0;
            case 2 -> state.cr2;
            case 3 -> state.cr3;
            case 4 -> state.cr4;
            case 8 -> state.cr8;
            default -> throw CpuException.invalidOpcode();
        };
    }

    public void writeControl(int number, long value) {
        switch (number) {
            case 0 -> writeCr0(value);
            case 2 -> state.cr2 = value;
            case 3 -> {
                state.cr3 = value;
                cpu.mmu().flushNonGlobal();
            }
            case 4 -> {
                if ((value & ~CR4_SUPPORTED) != 0) {
                    throw CpuException.generalProtection();
                }
                state.cr4 = value;
                cpu.mmu().flushAll();
            }
            case 8 -> state.cr8 = value & 0xF;
            default -> throw CpuException.invalidOpcode();
        }
    }

    public void writeCr0(long value) {
        long cr0 = (value & 0xFFFF_FFFFL) | ControlRegisters.CR0_ET;
        boolean paging = (cr0 & ControlRegisters.CR0_PG) != 0;
        if (paging && (cr0 & ControlRegisters.CR0_PE) == 0) {
            throw CpuException.generalProtection();
        }
        if (paging && !state.pagingEnabled() && (state.efer & ControlRegisters.EFER_LME) != 0) {
            if ((state.cr4 & ControlRegisters.CR4_PAE) == 0) {
                throw CpuException.generalProtection();
            }
            state.efer |= ControlRegisters.EFER_LMA;
        } else if (!paging) {
            state.efer &= ~ControlRegisters.EFER_LMA;
        }
        state.cr0 = cr0;
        cpu.mmu().flushAll();
    }

    // ---- MSRs ---------------------------------------------------------------------------------

    public long readMsr(int index) {
        ModelSpecificRegisters m = state.msrs;
        return switch (index) {
            case Msr.IA32_TSC -> timeStamp();
            case Msr.IA32_TSC_ADJUST -> tsc.adjustment();
            case Msr.IA32_APIC_BASE -> cpu.apic() != null ? cpu.apic().apicBase() : apicBaseWithoutApic;
            case Msr.IA32_TSC_DEADLINE -> cpu.apic() != null ? cpu.apic().tscDeadline() : 0;
            case Msr.IA32_MISC_ENABLE -> m.miscEnable;
            case Msr.IA32_PAT -> m.pat;
            case Msr.IA32_SYSENTER_CS -> m.sysenterCs;
            case Msr.IA32_SYSENTER_ESP -> m.sysenterEsp;
            case Msr.IA32_SYSENTER_EIP -> m.sysenterEip;
            case Msr.EFER -> state.efer;
            case Msr.STAR -> m.star;
            case Msr.LSTAR -> m.lstar;
            case Msr.CSTAR -> m.cstar;
            case Msr.SFMASK -> m.sfmask;
            case Msr.FS_BASE -> state.segments[CpuState.FS].base;
            case Msr.GS_BASE -> state.segments[CpuState.GS].base;
            case Msr.KERNEL_GS_BASE -> m.kernelGsBase;
            case Msr.TSC_AUX -> m.tscAux;
            case MTRR_CAPABILITIES -> ModelSpecificRegisters.MTRR_COUNT | (1 << 8) | (1 << 10);
            case PLATFORM_ID, BIOS_SIGN_ID -> 0;
            case FEATURE_CONTROL -> FEATURE_CONTROL_LOCKED;
            case ARCH_CAPABILITIES_MSR -> ARCH_CAPABILITIES;
            case DEBUG_CONTROL -> m.debugControl;
            case MTRR_DEFAULT_TYPE -> m.mtrrDefaultType;
            default -> readMtrr(index);
        };
    }

    private long readMtrr(int index) {
        ModelSpecificRegisters m = state.msrs;
        if (index >= MTRR_VARIABLE_FIRST && index < MTRR_VARIABLE_FIRST + m.mtrrVariable.length) {
            return m.mtrrVariable[index - MTRR_VARIABLE_FIRST];
        }
        for (int i = 0; i < MTRR_FIXED.length; i++) {
            if (MTRR_FIXED[i] == index) {
                return m.mtrrFixed[i];
            }
        }
        throw CpuException.generalProtection();
    }

    public void writeMsr(int index, long value) {
        ModelSpecificRegisters m = state.msrs;
        switch (index) {
            case Msr.IA32_TSC -> tsc.write(value);
            case Msr.IA32_TSC_ADJUST -> tsc.adjust(value);
            case Msr.IA32_APIC_BASE -> {
                if (cpu.apic() != null) {
                    cpu.apic().setApicBase(value);
                } else {
                    apicBaseWithoutApic = value;
                }
            }
            case Msr.IA32_TSC_DEADLINE -> {
                if (cpu.apic() != null) {
                    cpu.apic().setTscDeadline(value);
                }
            }
            case Msr.IA32_MISC_ENABLE -> m.miscEnable = value;
            case Msr.IA32_PAT -> m.pat = value;
            case Msr.IA32_SYSENTER_CS -> m.sysenterCs = value;
            case Msr.IA32_SYSENTER_ESP -> m.sysenterEsp = value;
            case Msr.IA32_SYSENTER_EIP -> m.sysenterEip = value;
            case Msr.EFER -> writeEfer(value);
            case Msr.STAR -> m.star = value;
            case Msr.LSTAR -> m.lstar = requireCanonical(value);
            case Msr.CSTAR -> m.cstar = requireCanonical(value);
            case Msr.SFMASK -> m.sfmask = value & 0xFFFF_FFFFL;
            case Msr.FS_BASE -> state.segments[CpuState.FS].base = requireCanonical(value);
            case Msr.GS_BASE -> state.segments[CpuState.GS].base = requireCanonical(value);
            case Msr.KERNEL_GS_BASE -> m.kernelGsBase = requireCanonical(value);
            case Msr.TSC_AUX -> m.tscAux = value & 0xFFFF_FFFFL;
            case MTRR_DEFAULT_TYPE -> m.mtrrDefaultType = value;
            case BIOS_SIGN_ID -> {
                // A microcode update request: there is no microcode to update.
            }
            case DEBUG_CONTROL -> m.debugControl = value;
            default -> writeMtrr(index, value);
        }
    }

    private void writeMtrr(int index, long value) {
        ModelSpecificRegisters m = state.msrs;
        if (index >= MTRR_VARIABLE_FIRST && index < MTRR_VARIABLE_FIRST + m.mtrrVariable.length) {
            m.mtrrVariable[index - MTRR_VARIABLE_FIRST] = value;
            return;
        }
        for (int i = 0; i < MTRR_FIXED.length; i++) {
            if (MTRR_FIXED[i] == index) {
                m.mtrrFixed[i] = value;
                return;
            }
        }
        throw CpuException.generalProtection();
    }

    private void writeEfer(long value) {
        if ((value & ~(EFER_WRITABLE | ControlRegisters.EFER_LMA)) != 0) {
            throw CpuException.generalProtection();
        }
        boolean lme = (value & ControlRegisters.EFER_LME) != 0;
        if (state.pagingEnabled() && lme != ((state.efer & ControlRegisters.EFER_LME) != 0)) {
            throw CpuException.generalProtection();
        }
        state.efer = (value & EFER_WRITABLE) | (state.efer & ControlRegisters.EFER_LMA);
        cpu.mmu().flushAll();
    }

    private static long requireCanonical(long value) {
        long high = value >> 47;
        if (high != 0 && high != -1) {
            throw CpuException.generalProtection();
        }
        return value;
    }

    // ---- time and identification ----------------------------------------------------------------

    /** Uses the chipset's counter for this core (the one its TSC-deadline timer compares against). */
    /** Where CPUID's topology leaves learn how many cores the package has (all vCPUs exist before any runs). */
    public void usePackageCores(IntSupplier cores) {
        this.packageCores = cores;
    }

    public void useTsc(Tsc counter) {
        this.tsc = counter;
    }

    /** RDTSC: an invariant counter at {@link Tsc#FREQUENCY_HZ}. */
    public long timeStamp() {
        return tsc.read();
    }

    public int apicId() {
        return apicId;
    }

    /** The APIC ID bits that number the cores of a package of {@code cores}. */
    private static int coreIdBits(int cores) {
        return 32 - Integer.numberOfLeadingZeros(Math.max(cores, 1) - 1);
    }

    /** Fills EAX, EBX, ECX, EDX for CPUID leaf EAX, subleaf ECX. */
    public void cpuid() {
        long[] r = state.registers;
        int leaf = (int) r[CpuState.RAX];
        int eax = 0;
        int ebx = 0;
        int ecx = 0;
        int edx = 0;
        switch (leaf) {
            case 0 -> {
                eax = 0x16;
                ebx = word(VENDOR, 0);
                edx = word(VENDOR, 4);
                ecx = word(VENDOR, 8);
            }
            case 1 -> {
                int cores = packageCores.getAsInt();
                eax = SIGNATURE;
                ebx = (8 << 8) | (1 << coreIdBits(cores)) << 16 | (apicId << 24);
                ecx = FEATURES_ECX | (cpu.apic() != null ? TSC_DEADLINE_FEATURE : 0);
                edx = FEATURES_EDX | (cpu.apic() != null ? APIC_FEATURE : 0) | (cores > 1 ? MULTI_CORE_PACKAGE : 0);
            }
            case 0xB -> {
                // Extended topology: one thread per core (level 0, SMT), every vCPU a core of one package (level 1).
                int level = (int) r[CpuState.RCX] & 0xFF;
                int cores = packageCores.getAsInt();
                switch (level) {
                    case 0 -> {
                        ebx = 1;
                        ecx = TOPOLOGY_SMT << 8;
                    }
                    case 1 -> {
                        eax = coreIdBits(cores);
                        ebx = cores;
                        ecx = TOPOLOGY_CORE << 8 | 1;
                    }
                    default -> ecx = level;
                }
                edx = apicId;
            }
            case 0x15 -> {
                eax = 1;
                ebx = (int) (Tsc.FREQUENCY_HZ / Tsc.CRYSTAL_HZ);
                ecx = (int) Tsc.CRYSTAL_HZ;
            }
            case 0x16 -> {
                eax = (int) (Tsc.FREQUENCY_HZ / 1_000_000);
                ebx = eax;
                ecx = 100;
            }
            case 7 -> {
                if ((int) r[CpuState.RCX] == 0) {
                    ebx = STRUCTURED_EBX;
                    ecx = STRUCTURED_ECX;
                    edx = STRUCTURED_EDX;
                }
            }
            case 0x8000_0000 -> eax = 0x8000_0008;
            case 0x8000_0001 -> {
                ecx = EXTENDED_ECX;
                edx = EXTENDED_EDX;
            }
            case 0x8000_0002, 0x8000_0003, 0x8000_0004 -> {
                int offset = (leaf - 0x8000_0002) * 16;
                eax = word(BRAND, offset);
                ebx = word(BRAND, offset + 4);
                ecx = word(BRAND, offset + 8);
                edx = word(BRAND, offset + 12);
            }
            case 0x8000_0007 -> edx = INVARIANT_TSC;
            case 0x8000_0008 -> eax = VIRTUAL_ADDRESS_BITS << 8 | Mmu.PHYSICAL_ADDRESS_BITS;
            default -> {
                // Unknown leaves read as zeros, as on hardware above the maximum leaf.
            }
        }
        r[CpuState.RAX] = eax & 0xFFFF_FFFFL;
        r[CpuState.RBX] = ebx & 0xFFFF_FFFFL;
        r[CpuState.RCX] = ecx & 0xFFFF_FFFFL;
        r[CpuState.RDX] = edx & 0xFFFF_FFFFL;
    }

    /** Four characters of {@code text} from {@code offset} as a little-endian register value (zero-padded). */
    private static int word(String text, int offset) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int at = offset + i;
            value |= (at < bytes.length ? bytes[at] & 0xFF : 0) << (8 * i);
        }
        return value;
    }
}
