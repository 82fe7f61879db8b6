package dev.machina.cpu;

import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorProvider;

/** The pure-Java backend as {@link java.util.ServiceLoader} finds it: always usable, never accelerated. */
public final class JavaHypervisorProvider implements HypervisorProvider {
    public static final String NAME = "java";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability probe() {
        return new Availability(true, false, "pure-Java x86-64 CPU");
    }

    @Override
    public Hypervisor open() {
        return new JavaHypervisor();
    }
}
