package dev.machina.kvm;

import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.HypervisorProvider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
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
