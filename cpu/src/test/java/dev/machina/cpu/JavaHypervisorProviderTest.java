package dev.machina.cpu;

import dev.machina.cpu.decode.CodeCache;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JavaHypervisorProviderTest {
    @Test
    void aSmallHeapLimitsMemoryByTheCodeCachesTables() {
        var limit = JavaHypervisorProvider.memoryLimit(1L << 30);
        assertThat(limit.bytes()).isEqualTo(128L << 30);
        assertThat(limit.reason()).contains("8 bytes of heap per 4 KiB", "1024 MiB heap");
    }

    @Test
    void aLargeHeapLeavesTheLimitAtTheCpusFortyBitPhysicalAddresses() {
        var limit = JavaHypervisorProvider.memoryLimit(64L << 30);
        assertThat(limit.bytes()).isEqualTo((1L << 40) - (1L << 30));
        assertThat(limit.reason()).contains("40-bit physical addresses");
    }

    @Test
    void theCodeCacheRefusesMorePagesThanAnIntIndexes() {
        // 16 TiB is 2^32 pages: before, the count wrapped to 0 and vCPU 0 died indexing an empty table.
        assertThatThrownBy(() -> new CodeCache(16L << 40)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pages the code cache can index");
        assertThat(CodeCache.maxRam(Long.MAX_VALUE, 4)).isEqualTo(CodeCache.MAX_PAGES << 12);
    }
}
