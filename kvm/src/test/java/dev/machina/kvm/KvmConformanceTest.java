package dev.machina.kvm;

import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorProvider;
import dev.machina.testguests.HypervisorConformanceTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The test guests on the KVM backend. */
class KvmConformanceTest extends HypervisorConformanceTest {
    private static Hypervisor kvm;

    @BeforeAll
    static void open() {
        KvmProvider provider = new KvmProvider();
        HypervisorProvider.Availability availability = provider.probe();
        assumeTrue(availability.usable(), "KVM is not usable here: " + availability.detail());
        kvm = provider.open();
    }

    @AfterAll
    static void close() {
        if (kvm != null) {
            kvm.close();
        }
    }

    @Override
    protected Hypervisor hypervisor() {
        return kvm;
    }
}
