package dev.machina.kvm;

import dev.machina.hypervisor.Backends;
import dev.machina.hypervisor.HypervisorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KvmProviderTest {
    private static final String CPUINFO_HEAD = "processor\t: 0\nvendor_id\t: AuthenticAMD\n";

    @Test
    void findsSvmOrVmxAmongTheCpuFlags(@TempDir Path directory) throws IOException {
        Path amd = Files.writeString(directory.resolve("amd"), CPUINFO_HEAD + "flags\t\t: fpu vme svm sse2\n");
        Path intel = Files.writeString(directory.resolve("intel"), CPUINFO_HEAD + "flags\t\t: fpu vmx\n");
        Path none = Files.writeString(directory.resolve("none"), CPUINFO_HEAD + "flags\t\t: fpu svmx vmxe sse2\nbugs\t\t: svm\n");

        assertThat(KvmProvider.hardwareVirtualization(amd)).contains("svm");
        assertThat(KvmProvider.hardwareVirtualization(intel)).contains("vmx");
        assertThat(KvmProvider.hardwareVirtualization(none)).isEmpty();
        assertThat(KvmProvider.hardwareVirtualization(directory.resolve("missing"))).isEmpty();
    }

    @Test
    void probeSaysWhetherKvmRunsOnHardwareVirtualization() {
        HypervisorProvider.Availability availability = new KvmProvider().probe();
        assumeTrue(availability.usable(), "KVM is not usable here: " + availability.detail());

        boolean hardware = KvmProvider.hardwareVirtualization(Path.of("/proc/cpuinfo")).isPresent();
        assertThat(availability.accelerated()).isEqualTo(hardware);
        assertThat(availability.detail()).startsWith("/dev/kvm")
                .contains(hardware ? "hardware virtualization" : "no vmx/svm");
    }

    @Test
    void probeWithHardwareVirtualizationSaysWhich(@TempDir Path directory) throws IOException {
        assumeTrue(new KvmProvider().probe().usable(), "KVM is not usable here");
        Path cpuinfo = Files.writeString(directory.resolve("cpuinfo"), CPUINFO_HEAD + "flags\t\t: fpu svm\n");

        HypervisorProvider.Availability availability = new KvmProvider(Path.of("/dev/kvm"), cpuinfo).probe();

        assertThat(availability).isEqualTo(new HypervisorProvider.Availability(true, true, "/dev/kvm, hardware virtualization (svm)"));
    }

    @Test
    void probeOfAMissingDeviceSaysWhyItIsUnusable(@TempDir Path directory) {
        Path missing = directory.resolve("kvm");

        HypervisorProvider.Availability availability = new KvmProvider(missing, Path.of("/proc/cpuinfo")).probe();

        assertThat(availability).isEqualTo(new HypervisorProvider.Availability(false, false, missing + ": No such file or directory"));
    }

    @Test
    void probeOfADeviceThatIsNotKvmNamesTheFailingRequest() {
        HypervisorProvider.Availability availability = new KvmProvider(Path.of("/dev/null"), Path.of("/proc/cpuinfo")).probe();

        assertThat(availability.usable()).isFalse();
        assertThat(availability.detail()).startsWith("/dev/null is not KVM: KVM_GET_API_VERSION failed: ");
    }

    @Test
    void isInstalledAsTheKvmBackend() {
        assumeTrue(new KvmProvider().probe().usable(), "KVM is not usable here");

        Backends.Choice choice = Backends.installed().choose("kvm");

        assertThat(choice.provider()).isInstanceOf(KvmProvider.class);
        assertThat(choice.explanation()).startsWith("backend: kvm (/dev/kvm");
    }

    @Test
    void memoryIsLimitedByTheHostsPhysicalAddressesAndKvmsLargestSlot(@TempDir Path directory) throws IOException {
        Path narrow = Files.writeString(directory.resolve("narrow"), CPUINFO_HEAD + "address sizes\t: 39 bits physical, 48 bits virtual\n");
        Path wide = Files.writeString(directory.resolve("wide"), CPUINFO_HEAD + "address sizes\t: 52 bits physical, 57 bits virtual\n");
        Path silent = Files.writeString(directory.resolve("silent"), CPUINFO_HEAD);

        assertThat(KvmProvider.memoryLimit(narrow).bytes()).isEqualTo(511L << 30);
        assertThat(KvmProvider.memoryLimit(narrow).reason()).contains("39-bit physical addresses");
        assertThat(KvmProvider.memoryLimit(wide).bytes()).isEqualTo(8194L << 30);
        assertThat(KvmProvider.memoryLimit(wide).reason()).contains("memory slot");
        assertThat(KvmProvider.memoryLimit(silent).bytes()).as("the x86-64 baseline, 36 bits").isEqualTo(63L << 30);
        assertThat(KvmProvider.memoryLimit(directory.resolve("absent")).bytes()).isEqualTo(63L << 30);
    }
}
