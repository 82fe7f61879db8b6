package dev.machina.cpu.decode;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The code cache keeps one record for equal decodings, whatever their address. */
class CodeCacheTest {
    private final CodeCache code = new CodeCache(1 << 20);
    private final Decoder decoder = new Decoder();

    @Test
    void equalDecodingsShareOneRecord() {
        Instruction first = code.canonical(decode(0x55));               // push rbp
        Instruction again = decode(0x55);
        assertThat(again).isNotSameAs(first).isEqualTo(first);
        assertThat(code.canonical(again)).isSameAs(first);
    }

    @Test
    void decodingsThatDifferInAnyPartStayApart() {
        Instruction pushRbp = code.canonical(decode(0x55));
        Instruction pushRbx = code.canonical(decode(0x53));
        Instruction loadNear = code.canonical(decode(0x48, 0x8B, 0x45, 0x08));   // mov rax, [rbp + 8]
        Instruction loadFar = code.canonical(decode(0x48, 0x8B, 0x45, 0x10));    // mov rax, [rbp + 16]
        assertThat(pushRbx).isNotSameAs(pushRbp);
        assertThat(loadFar).isNotSameAs(loadNear);
        assertThat(loadFar.displacement()).isEqualTo(16);
        assertThat(code.canonical(decode(0x48, 0x8B, 0x45, 0x08))).isSameAs(loadNear);
    }

    @Test
    void aDecodingInAnotherModeIsAnotherRecord() {
        Instruction longMode = code.canonical(decodeIn(64, 0x50));             // push rax
        Instruction protectedMode = code.canonical(decodeIn(32, 0x50));        // push eax
        assertThat(protectedMode).isNotSameAs(longMode);
        assertThat(protectedMode.mode()).isEqualTo(32);
        assertThat(code.canonical(decodeIn(64, 0x50))).isSameAs(longMode);
    }

    private Instruction decode(int... bytes) {
        return decodeIn(64, bytes);
    }

    private Instruction decodeIn(int mode, int... bytes) {
        return decoder.decode(index -> bytes[index], mode);
    }
}
