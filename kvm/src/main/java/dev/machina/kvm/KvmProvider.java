package dev.machina.kvm;

import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.HypervisorProvider;
import dev.machina.hypervisor.x86.X86MemoryMap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code kvm} backend as {@link java.util.ServiceLoader} finds it. Usable where
 * {@code /dev/kvm} opens read-write and speaks API version 12; accelerated only where the host CPU
 * also advertises hardware virtualization, for without vmx or svm KVM (nested, as under PVM)
 * emulates every guest instruction in software.
 */
public final class KvmProvider implements HypervisorProvider {
    public static final String NAME = "kvm";
    private static final Set<String> VIRTUALIZATION_FLAGS = Set.of("vmx", "svm");
    /** /proc/cpuinfo's "address sizes : 48 bits physical, 48 bits virtual". */
    private static final Pattern ADDRESS_SIZES = Pattern.compile("address sizes\\s*:\\s*(\\d+) bits physical,\\s*(\\d+) bits virtual");
    /** What every x86-64 CPU has, for a host whose cpuinfo does not say. */
    private static final int BASELINE_PHYSICAL_BITS = 36;
    private static final int BASELINE_VIRTUAL_BITS = 48;
    /** KVM_MEM_MAX_NR_PAGES: KVM refuses a memory slot of more pages, and RAM above 4 GiB is one slot. */
    private static final long MAX_SLOT_BYTES = ((1L << 31) - 1) << 12;
    private static final long GIB = 1L << 30;

    private final Path device;
    private final Path cpuinfo;

    public KvmProvider() {
        this(Path.of(KvmSystem.DEVICE), Path.of("/proc/cpuinfo"));
    }

    /** A provider that probes {@code device} as /dev/kvm and {@code cpuinfo} as /proc/cpuinfo. */
    KvmProvider(Path device, Path cpuinfo) {
        this.device = device;
        this.cpuinfo = cpuinfo;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability probe() {
        try {
            KvmSystem.open(device).close();
        } catch (HypervisorException e) {
            return new Availability(false, false, e.getMessage());
        }
        return hardwareVirtualization(cpuinfo)
                .map(flag -> new Availability(true, true, device + ", hardware virtualization (" + flag + ")"))
                .orElseGet(() -> new Availability(true, false,
                        device + " opens but the host CPU has no vmx/svm: KVM would emulate every instruction"));
    }

    @Override
    public Hypervisor open() {
        return new KvmHypervisor(KvmSystem.open(device));
    }

    @Override
    public MemoryLimit memoryLimit() {
        return memoryLimit(cpuinfo);
    }

    /**
     * The guest's physical addresses are the host CPU's (KVM offers no more), its RAM is one
     * mapping in the VMM's half of the host's virtual address space, and its RAM above 4 GiB one
     * memory slot.
     */
    static MemoryLimit memoryLimit(Path cpuinfo) {
        int[] bits = addressSizes(cpuinfo);
        MemoryLimit physical = new MemoryLimit(X86MemoryMap.maxRam(bits[0]),
                "the host CPU's %d-bit physical addresses, less the 1 GiB hole below 4 GiB".formatted(bits[0]));
        MemoryLimit virtual = new MemoryLimit(1L << (bits[1] - 1),
                "half the host's %d-bit virtual address space, the user space RAM is mapped in".formatted(bits[1]));
        MemoryLimit slot = new MemoryLimit((X86MemoryMap.MMIO_HOLE_START + MAX_SLOT_BYTES) & -GIB,
                "KVM's largest memory slot, 2^31 - 1 pages, above 4 GiB");
        return physical.min(virtual).min(slot);
    }

    /** The host's physical and virtual address bits, as cpuinfo says them (the baseline if it does not). */
    private static int[] addressSizes(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.map(ADDRESS_SIZES::matcher).filter(Matcher::find).findFirst()
                    .map(m -> new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))})
                    .filter(b -> b[0] >= 32 && b[0] <= 52 && b[1] >= 39 && b[1] <= 57)
                    .orElse(new int[] {BASELINE_PHYSICAL_BITS, BASELINE_VIRTUAL_BITS});
        } catch (IOException | java.io.UncheckedIOException e) {
            return new int[] {BASELINE_PHYSICAL_BITS, BASELINE_VIRTUAL_BITS};
        }
    }

    /** The virtualization flag ({@code vmx} or {@code svm}) that {@code cpuinfo} lists, if any. */
    static Optional<String> hardwareVirtualization(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(line -> line.startsWith("flags"))
                    .flatMap(line -> Stream.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+")))
                    .filter(VIRTUALIZATION_FLAGS::contains)
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
