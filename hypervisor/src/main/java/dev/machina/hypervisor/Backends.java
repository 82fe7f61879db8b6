package dev.machina.hypervisor;

import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Chooses the backend at launch: {@code kvm}, {@code java}, or {@code auto}, which takes KVM only
 * where it runs guests on hardware virtualization (/dev/kvm opens and the host CPU advertises vmx
 * or svm) and the Java CPU everywhere else.
 */
public final class Backends {
    public static final String AUTO = "auto";
    public static final String KVM = "kvm";
    public static final String JAVA = "java";

    private final List<HypervisorProvider> providers;

    public Backends(List<HypervisorProvider> providers) {
        this.providers = List.copyOf(providers);
    }

    /** The backends on the class path. */
    public static Backends installed() {
        return new Backends(ServiceLoader.load(HypervisorProvider.class).stream().map(ServiceLoader.Provider::get).toList());
    }

    /** A chosen backend, and the one line that says which and why. */
    public record Choice(HypervisorProvider provider, String explanation) {
    }

    /**
     * Chooses by name ({@code auto}, {@code kvm} or {@code java}).
     *
     * @throws HypervisorException naming what is missing when the named backend cannot run here
     */
    public Choice choose(String requested) {
        String name = requested.toLowerCase(Locale.ROOT);
        if (name.equals(AUTO)) {
            HypervisorProvider kvm = find(KVM);
            if (kvm != null) {
                HypervisorProvider.Availability availability = kvm.probe();
                if (availability.usable() && availability.accelerated()) {
                    return new Choice(kvm, "backend: kvm (auto: " + availability.detail() + ")");
                }
                HypervisorProvider java = require(JAVA);
                return new Choice(java, "backend: java (auto: kvm not used: " + availability.detail() + ")");
            }
            return new Choice(require(JAVA), "backend: java (auto: no kvm backend installed)");
        }
        HypervisorProvider provider = require(name);
        HypervisorProvider.Availability availability = provider.probe();
        if (!availability.usable()) {
            throw new HypervisorException("backend " + name + " cannot run here: " + availability.detail());
        }
        return new Choice(provider, "backend: " + name + " (" + availability.detail() + ")");
    }

    private HypervisorProvider find(String name) {
        return providers.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
    }

    private HypervisorProvider require(String name) {
        HypervisorProvider provider = find(name);
        if (provider == null) {
            throw new HypervisorException("unknown backend '" + name + "' (installed: "
                    + String.join(", ", providers.stream().map(HypervisorProvider::name).toList()) + ", or auto)");
        }
        return provider;
    }
}
