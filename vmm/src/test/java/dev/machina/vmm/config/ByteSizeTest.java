package dev.machina.vmm.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ByteSizeTest {
    @Test
    void suffixesArePowersOf1024() {
        assertThat(ByteSize.parse("4096")).isEqualTo(4096);
        assertThat(ByteSize.parse("7b")).isEqualTo(7);
        assertThat(ByteSize.parse("3k")).isEqualTo(3072);
        assertThat(ByteSize.parse("512M")).isEqualTo(536_870_912L);
        assertThat(ByteSize.parse("2G")).isEqualTo(2_147_483_648L);
        assertThat(ByteSize.parse("2g")).isEqualTo(2_147_483_648L);
    }

    @Test
    void formatsInTheLargestUnitThatDividesSoTheTextParsesBack() {
        assertThat(ByteSize.format(96L << 20)).isEqualTo("96M");
        assertThat(ByteSize.format(1023L << 30)).isEqualTo("1023G");
        assertThat(ByteSize.format(1536L << 10)).isEqualTo("1536k");
        assertThat(ByteSize.format(100)).isEqualTo("100b");
        assertThat(ByteSize.format(0)).isEqualTo("0b");
        for (long bytes : new long[] {96L << 20, 1023L << 30, 1536L << 10, 100}) {
            assertThat(ByteSize.parse(ByteSize.format(bytes))).isEqualTo(bytes);
        }
    }

    @Test
    void rejectsWhatIsNotASize() {
        for (String text : new String[] {"", "M", "1.5G", "-1M", "12Q", "1 G"}) {
            assertThatThrownBy(() -> ByteSize.parse(text)).hasMessage('"' + text + "\" is not a size (use b, k, M or G)");
        }
        assertThatThrownBy(() -> ByteSize.parse("9999999999999G")).hasMessage("\"9999999999999G\" is too large a size");
    }
}
