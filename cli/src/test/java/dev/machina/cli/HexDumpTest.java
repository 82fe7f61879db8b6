package dev.machina.cli;

import dev.machina.cli.instance.InstanceException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HexDumpTest {
    @Test
    void linesOfSixteenBytesWithTheirAscii() {
        byte[] bytes = "console=ttyS0 panic=-1\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(HexDump.format(0x20000, bytes)).isEqualTo("""
                0000000000020000  63 6f 6e 73 6f 6c 65 3d  74 74 79 53 30 20 70 61  |console=ttyS0 pa|
                0000000000020010  6e 69 63 3d 2d 31 0a                              |nic=-1.|
                """);
    }

    @Test
    void addressesAreHexWithOrWithout0x() {
        assertThat(HexDump.parseHex("ADDR", "0x2f000")).isEqualTo(0x2f000);
        assertThat(HexDump.parseHex("ADDR", "2F000")).isEqualTo(0x2f000);
        assertThatThrownBy(() -> HexDump.parseHex("LEN", "ten")).isInstanceOf(InstanceException.class)
                .hasMessage("LEN: \"ten\" is not a hexadecimal number");
    }
}
