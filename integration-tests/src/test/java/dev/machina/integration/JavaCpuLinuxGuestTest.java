package dev.machina.integration;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Test
    @Order(2)
    void theBootMarkerCountsTheGuestInstructionsExecuted() {
        Matcher marker = Pattern.compile("boot marker reached [\\d.]+ s after launch, ([\\d,]+) guest instructions")
                .matcher(transcript());
        assertThat(marker.find()).as("the boot marker line with an instruction count").isTrue();
        assertThat(Long.parseLong(marker.group(1).replace(",", ""))).as("Linux boots to init in hundreds of millions")
                .isGreaterThan(100_000_000L);
    }

    /** The Java CPU advertises exactly what it implements: no SSE3 and later, no AVX, no XSAVE. */
    @Override
    void checkFlags(List<String> flags) {
        super.checkFlags(flags);
        assertThat(flags).doesNotContain("sse3", "ssse3", "sse4_1", "avx", "xsave");
    }
}
