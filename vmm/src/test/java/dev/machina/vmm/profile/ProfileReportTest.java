package dev.machina.vmm.profile;

import dev.machina.cpu.GuestPosition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProfileReportTest {
    private static final KernelSymbols SYMBOLS = KernelSymbols.parseSystemMap(List.of(
            "ffffffff81000000 T clear_page_erms",
            "ffffffff81000100 T memcpy",
            "ffffffff82000000 D data"), "test map");

    @Test
    void reportsSharesAndTheFunctionsByCountWithTheirShareOfAllSamples() {
        Samples samples = new Samples(1, Duration.ofMillis(1));
        add(samples, 5, new GuestPosition.Executing(0xffffffff81000010L, 0));
        add(samples, 3, new GuestPosition.Executing(0xffffffff81000020L, 0)); // the same function
        add(samples, 4, new GuestPosition.Executing(0xffffffff81000180L, 0));
        add(samples, 2, new GuestPosition.Executing(0x1000abcL, 0));          // below every symbol
        add(samples, 3, new GuestPosition.Executing(0x401234L, 3));
        add(samples, 1, new GuestPosition.Executing(0x401ff0L, 3));           // the same page
        add(samples, 2, GuestPosition.IDLE);
        samples.spanned(Duration.ofMillis(2500));

        String report = ProfileReport.format(samples, SYMBOLS, 3);

        assertThat(report).isEqualTo("""
                Guest profile: 20 samples of 1 vCPU, one every 1000 µs each, over 2.5 s
                Kernel symbols: test map

                        14   70.0%  kernel
                         4   20.0%  user
                         2   10.0%  idle (halted)

                Top 3 functions (share of all samples)
                   samples       %  function
                         8   40.0%  clear_page_erms
                         4   20.0%  [user] page 0x401000
                         4   20.0%  memcpy
                """);
    }

    @Test
    void anEmptyProfileHasNoFunctions() {
        String report = ProfileReport.format(new Samples(2, Duration.ofMillis(1)), KernelSymbols.none("none here"), 40);
        assertThat(report).contains("0 samples of 2 vCPUs", "Kernel symbols: none here", "0    0.0%  kernel", "Top 0 functions");
    }

    private static void add(Samples samples, int times, GuestPosition position) {
        for (int i = 0; i < times; i++) {
            samples.add(position);
        }
    }
}
