package dev.machina.loader;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SizesTest {
    @Test
    void aSmallSizeNeverReadsAsZeroMebibytes() {
        assertThat(Sizes.describe(16L << 20)).isEqualTo("16 MiB");
        assertThat(Sizes.describe(640L << 10)).isEqualTo("640 KiB");
        assertThat(Sizes.describe(5000)).isEqualTo("4.9 KiB");
        assertThat(Sizes.describe((5L << 20) + 300_000)).isEqualTo("5.3 MiB");
        assertThat(Sizes.describe(100)).isEqualTo("100 bytes");
        assertThat(Sizes.describe(1)).isEqualTo("1 byte");
    }
}
