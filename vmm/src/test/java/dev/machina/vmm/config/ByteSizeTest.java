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
    void rejectsWhatIsNotASize() {
        for (String text : new String[] {"", "M", "1.5G", "-1M", "12Q", "1 G"}) {
            assertThatThrownBy(() -> ByteSize.parse(text)).hasMessage('"' + text + "\" is not a size (use b, k, M or G)");
        }
        assertThatThrownBy(() -> ByteSize.parse("9999999999999G")).hasMessage("\"9999999999999G\" is too large a size");
    }
}
