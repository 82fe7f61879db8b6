package dev.machina.cpu.decode;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SparsePageTest {
    @Test
    void everyOffsetKeepsItsOwnValue() {
        SparsePage<Integer> page = new SparsePage<>();
        for (int offset = 0; offset < 4096; offset += 3) {
            page.keep(offset, offset);
        }
        for (int offset = 0; offset < 4096; offset++) {
            assertThat(page.at(offset)).as("offset %d", offset).isEqualTo(offset % 3 == 0 ? Integer.valueOf(offset) : null);
        }
    }

    @Test
    void anOffsetNeverKeptIsEmptyAndAKeptOneCanBeReplaced() {
        SparsePage<String> page = new SparsePage<>();
        assertThat(page.at(0)).isNull();
        assertThat(page.at(4095)).isNull();
        page.keep(4095, "last");
        page.keep(4095, "replaced");
        assertThat(page.at(4095)).isEqualTo("replaced");
        assertThat(page.at(4094)).isNull();
    }
}
