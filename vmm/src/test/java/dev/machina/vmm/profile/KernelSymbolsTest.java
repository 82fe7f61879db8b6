package dev.machina.vmm.profile;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KernelSymbolsTest {
    private static final KernelSymbols MAP = KernelSymbols.parseSystemMap(List.of(
            "0000000000000000 A fixed_percpu_data",
            "ffffffff81000000 T _text",
            "ffffffff81000000 T startup_64",
            "ffffffff81000100 t secondary_startup_64",
            "ffffffff81001000 T do_idle",
            "ffffffff81001200 W arch_cpu_idle",
            "ffffffff81002000 T _etext",
            "ffffffff82000000 D init_task",
            "not a symbol line",
            "ffffffff8200zzzz T broken"), "test map");

    @Test
    void anAddressIsInTheNearestFunctionAtOrBelowIt() {
        assertThat(MAP.functionAt(0xffffffff81000100L)).contains("secondary_startup_64");
        assertThat(MAP.functionAt(0xffffffff81000fffL)).contains("secondary_startup_64");
        assertThat(MAP.functionAt(0xffffffff81001010L)).contains("do_idle");
        assertThat(MAP.functionAt(0xffffffff81001200L)).contains("arch_cpu_idle");
        assertThat(MAP.functions()).isEqualTo(6);
    }

    @Test
    void ofAliasesAtOneAddressAFunctionIsNamed() {
        assertThat(MAP.functionAt(0xffffffff81000000L)).hasValueSatisfying(name -> assertThat(name).isIn("_text", "startup_64"));
    }

    @Test
    void addressesOutsideTheCodeAreInNoFunction() {
        assertThat(MAP.functionAt(0x1000000L)).as("the kernel before it runs where it was linked: below every text symbol").isEmpty();
        assertThat(MAP.functionAt(0xffffffff80000000L)).as("below the first symbol").isEmpty();
        assertThat(MAP.functionAt(0xffffffff82000010L)).as("past the code, in data").isEmpty();
    }

    @Test
    void debiansPlaceholderNamesNoFunction() {
        KernelSymbols placeholder = KernelSymbols.parseSystemMap(List.of(
                "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package"), "placeholder");
        assertThat(placeholder.functions()).isZero();
        assertThat(placeholder.functionAt(0xffffffff81000000L)).isEmpty();
    }
}
