package dev.machina.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class EscapeFilterTest {
    private final AtomicInteger quits = new AtomicInteger();
    private final StringBuilder switched = new StringBuilder();
    private final StringBuilder read = new StringBuilder();

    private String filter(String typed) throws IOException {
        EscapeFilter filter = new EscapeFilter(new ByteArrayInputStream(typed.getBytes()), quits::incrementAndGet,
                () -> switched.append("switch after \"").append(read).append('"'));
        for (int value = filter.read(); value >= 0; value = filter.read()) {
            read.append((char) value);
        }
        return read.toString();
    }

    @Test
    void ordinaryKeysPassThrough() throws IOException {
        assertThat(filter("ls -l\r\u0003")).isEqualTo("ls -l\r\u0003");
        assertThat(quits).hasValue(0);
    }

    @Test
    void ctrlAThenXQuitsAndEndsTheInput() throws IOException {
        assertThat(filter("ab\u0001xcd")).isEqualTo("ab");
        assertThat(quits).hasValue(1);
    }

    @Test
    void ctrlATwiceSendsOneCtrlA() throws IOException {
        assertThat(filter("\u0001\u0001a")).isEqualTo("\u0001a");
        assertThat(quits).hasValue(0);
    }

    @Test
    void ctrlAThenCSwitchesConsolesBetweenTheKeysAroundIt() throws IOException {
        assertThat(filter("ab\u0001cd")).isEqualTo("abd");
        assertThat(switched).hasToString("switch after \"ab\"");
        assertThat(quits).hasValue(0);
    }

    @Test
    void ctrlABeforeAnotherKeyDropsBoth() throws IOException {
        assertThat(filter("a\u0001zb")).isEqualTo("ab");
    }
}
