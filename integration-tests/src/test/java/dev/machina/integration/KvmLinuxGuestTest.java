package dev.machina.integration;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** linux_guest on the KVM backend, where the host has hardware virtualization. */
class KvmLinuxGuestTest extends LinuxGuestTest {
    @Override
    String backend() {
        return "kvm";
    }

    @Override
    void assumeBackendRuns() {
        assumeHardwareVirtualization();
    }

    /** Under KVM the guest sees the host's CPU. */
    @Override
    String cpuModel() throws Exception {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(line -> line.startsWith("model name")).findFirst().orElseThrow()
                .replaceFirst("^model name\\s*:\\s*", "");
    }

    static void assumeHardwareVirtualization() {
        boolean present;
        try {
            String cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
            present = cpuinfo.matches("(?s).*\\bflags\\s*:.*\\b(vmx|svm)\\b.*") && Files.isWritable(Path.of("/dev/kvm"));
        } catch (java.io.IOException e) {
            present = false;
        }
        assumeTrue(present, "no hardware virtualization here (no vmx/svm in /proc/cpuinfo, or no writable /dev/kvm):"
                + " the KVM backend cannot run stock Linux guests on this host");
    }
}
