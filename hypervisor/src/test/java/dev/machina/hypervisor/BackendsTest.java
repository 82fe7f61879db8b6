package dev.machina.hypervisor;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsTest {
    private record FakeProvider(String name, Availability probe) implements HypervisorProvider {
        @Override
        public Hypervisor open() {
            throw new UnsupportedOperationException();
        }

        @Override
        public MemoryLimit memoryLimit() {
            throw new UnsupportedOperationException();
        }
    }

    private static final HypervisorProvider JAVA =
            new FakeProvider("java", new HypervisorProvider.Availability(true, false, "pure-Java x86-64 CPU"));

    @Test
    void autoTakesKvmOnlyWithHardwareVirtualization() {
        var kvm = new FakeProvider("kvm", new HypervisorProvider.Availability(true, true, "svm"));
        Backends.Choice choice = new Backends(List.of(JAVA, kvm)).choose("auto");
        assertThat(choice.provider()).isSameAs(kvm);
        assertThat(choice.explanation()).isEqualTo("backend: kvm (auto: svm)");
    }

    @Test
    void autoFallsBackToJavaWhenKvmWouldOnlyEmulate() {
        var kvm = new FakeProvider("kvm", new HypervisorProvider.Availability(true, false, "no vmx/svm"));
        Backends.Choice choice = new Backends(List.of(kvm, JAVA)).choose("AUTO");
        assertThat(choice.provider()).isSameAs(JAVA);
        assertThat(choice.explanation()).contains("java").contains("no vmx/svm");
    }

    @Test
    void anExplicitBackendIsTakenWhenUsableEvenWithoutAcceleration() {
        var kvm = new FakeProvider("kvm", new HypervisorProvider.Availability(true, false, "no vmx/svm"));
        assertThat(new Backends(List.of(kvm, JAVA)).choose("kvm").provider()).isSameAs(kvm);
    }

    @Test
    void anUnusableOrUnknownBackendIsAnErrorThatSaysWhy() {
        var kvm = new FakeProvider("kvm", new HypervisorProvider.Availability(false, false, "/dev/kvm: No such file or directory"));
        Backends backends = new Backends(List.of(kvm, JAVA));
        assertThatThrownBy(() -> backends.choose("kvm")).isInstanceOf(HypervisorException.class)
                .hasMessage("backend kvm cannot run here: /dev/kvm: No such file or directory");
        assertThatThrownBy(() -> backends.choose("xen")).hasMessageContaining("unknown backend 'xen'")
                .hasMessageContaining("kvm, java");
    }
}
