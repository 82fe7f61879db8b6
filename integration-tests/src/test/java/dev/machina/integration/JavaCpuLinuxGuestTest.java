package dev.machina.integration;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** linux_guest on the pure-Java x86-64 CPU, which runs on every host. */
class JavaCpuLinuxGuestTest extends LinuxGuestTest {
    @Override
    String backend() {
        return "java";
    }

    @Override
    String cpuModel() {
        return "Machina pure-Java x86-64 CPU";
    }

    /** The Java CPU advertises exactly what it implements: no SSE3 and later, no AVX, no XSAVE. */
    @Override
    void checkFlags(List<String> flags) {
        super.checkFlags(flags);
        assertThat(flags).doesNotContain("sse3", "ssse3", "sse4_1", "avx", "xsave");
    }
}
