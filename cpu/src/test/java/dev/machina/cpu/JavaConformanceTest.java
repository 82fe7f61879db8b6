package dev.machina.cpu;

import dev.machina.hypervisor.Hypervisor;
import dev.machina.testguests.HypervisorConformanceTest;

/** The backend-independent conformance suite on the pure-Java CPU. */
class JavaConformanceTest extends HypervisorConformanceTest {
    private static final Hypervisor JAVA = new JavaHypervisorProvider().open();

    @Override
    protected Hypervisor hypervisor() {
        return JAVA;
    }
}
