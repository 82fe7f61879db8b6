package dev.machina.cpu.execute;

import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.LongBinaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The integer SIMD instructions, SSE2 and MMX forms: random operands checked against a reference
 * written lane by lane from the SDM, plus hand-worked cases for the saturating, shuffling and
 * packing ones.
 */
class PackedIntegersTest {
    private final SimdMachine cpu = new SimdMachine();
    private final Random random = new Random(42);

    @AfterEach
    void close() {
        cpu.close();
    }

    /** xmm1 = xmm1 (op) xmm2 by {@code 66 0F opcode /r}. */
    private long[] xmmOp(int opcode, long[] a, long[] b) {
        cpu.xmm(1, a[0], a[1]).xmm(2, b[0], b[1]);
        cpu.run(0x66, 0x0F, opcode, 0xCA);
        return new long[] {cpu.low(1), cpu.high(1)};
    }

    private long[] randomVector() {
        // Bias towards lane values at the edges, where saturation and signedness show.
        long[] v = new long[2];
        for (int half = 0; half < 2; half++) {
            long x = 0;
            for (int b = 0; b < 8; b++) {
                int choice = random.nextInt(6);
                long value = choice == 0 ? 0x00 : choice == 1 ? 0xFF : choice == 2 ? 0x80 : choice == 3 ? 0x7F : random.nextInt(256);
                x |= value << (8 * b);
            }
            v[half] = x;
        }
        return v;
    }

    private static long lane(long[] v, int bits, int k) {
        int at = k * bits;
        long chunk = v[at / 64];
        return bits == 64 ? chunk : (chunk >>> (at % 64)) & ((1L << bits) - 1);
    }

    private static long signed(long value, int bits) {
        return (value << (64 - bits)) >> (64 - bits);
    }

    /** A reference result: {@code f} applied to each pair of lanes (as unsigned values), truncated. */
    private static long[] reference(long[] a, long[] b, int bits, LongBinaryOperator f) {
        long[] r = new long[2];
        for (int k = 0; k < 128 / bits; k++) {
            long value = f.applyAsLong(lane(a, bits, k), lane(b, bits, k));
            int at = k * bits;
            long masked = bits == 64 ? value : value & ((1L << bits) - 1);
            r[at / 64] |= masked << (at % 64);
        }
        return r;
    }

    private void check(int opcode, int bits, LongBinaryOperator f) {
        for (int n = 0; n < 6; n++) {
            long[] a = randomVector();
            long[] b = randomVector();
            assertThat(xmmOp(opcode, a, b)).as("opcode %02x on %s, %s", opcode, hex(a), hex(b))
                    .containsExactly(reference(a, b, bits, f));
        }
    }

    private static String hex(long[] v) {
        return Long.toHexString(v[1]) + ":" + Long.toHexString(v[0]);
    }

    private static long saturate(long value, long min, long max) {
        return Math.max(min, Math.min(max, value));
    }

    @Test
    void wrappingAdditionAndSubtractionPerLane() {
        check(0xFC, 8, Long::sum);
        check(0xFD, 16, Long::sum);
        check(0xFE, 32, Long::sum);
        check(0xD4, 64, Long::sum);
        check(0xF8, 8, (x, y) -> x - y);
        check(0xF9, 16, (x, y) -> x - y);
        check(0xFA, 32, (x, y) -> x - y);
        check(0xFB, 64, (x, y) -> x - y);
    }

    @Test
    void saturatingAdditionAndSubtraction() {
        check(0xEC, 8, (x, y) -> saturate(signed(x, 8) + signed(y, 8), -128, 127));
        check(0xED, 16, (x, y) -> saturate(signed(x, 16) + signed(y, 16), -32768, 32767));
        check(0xDC, 8, (x, y) -> saturate(x + y, 0, 255));
        check(0xDD, 16, (x, y) -> saturate(x + y, 0, 65535));
        check(0xE8, 8, (x, y) -> saturate(signed(x, 8) - signed(y, 8), -128, 127));
        check(0xE9, 16, (x, y) -> saturate(signed(x, 16) - signed(y, 16), -32768, 32767));
        check(0xD8, 8, (x, y) -> saturate(x - y, 0, 255));
        check(0xD9, 16, (x, y) -> saturate(x - y, 0, 65535));
    }

    @Test
    void comparesGiveAllOnesOrZeros() {
        check(0x74, 8, (x, y) -> x == y ? -1 : 0);
        check(0x75, 16, (x, y) -> x == y ? -1 : 0);
        check(0x76, 32, (x, y) -> x == y ? -1 : 0);
        check(0x64, 8, (x, y) -> signed(x, 8) > signed(y, 8) ? -1 : 0);
        check(0x65, 16, (x, y) -> signed(x, 16) > signed(y, 16) ? -1 : 0);
        check(0x66, 32, (x, y) -> signed(x, 32) > signed(y, 32) ? -1 : 0);
    }

    @Test
    void equalBytesFindsTheTerminatorAsStrlenUsesIt() {
        // pcmpeqb against zero, then pmovmskb: the bit of each zero byte.
        cpu.xmm(1, 0x6F6C_6C65_6800_2121L, 0x0000_0000_0000_0021L).xmm(2, 0, 0);
        X86State after = cpu.run(0x66, 0x0F, 0x74, 0xCA, // pcmpeqb xmm1, xmm2
                0x66, 0x0F, 0xD7, 0xC1);                 // pmovmskb eax, xmm1
        assertThat(after.get(Register.RAX)).isEqualTo(0b1111_1110_0000_0100L);
    }

    @Test
    void minimumMaximumAverageAndLogic() {
        check(0xDA, 8, Math::min);
        check(0xDE, 8, Math::max);
        check(0xEA, 16, (x, y) -> Math.min(signed(x, 16), signed(y, 16)));
        check(0xEE, 16, (x, y) -> Math.max(signed(x, 16), signed(y, 16)));
        check(0xE0, 8, (x, y) -> (x + y + 1) >> 1);
        check(0xE3, 16, (x, y) -> (x + y + 1) >> 1);
        check(0xDB, 64, (x, y) -> x & y);
        check(0xDF, 64, (x, y) -> ~x & y);
        check(0xEB, 64, (x, y) -> x | y);
        check(0xEF, 64, (x, y) -> x ^ y);
    }

    @Test
    void multiplies() {
        check(0xD5, 16, (x, y) -> signed(x, 16) * signed(y, 16));
        check(0xE5, 16, (x, y) -> (signed(x, 16) * signed(y, 16)) >> 16);
        check(0xE4, 16, (x, y) -> (x * y) >>> 16);
        check(0xF4, 64, (x, y) -> (x & 0xFFFF_FFFFL) * (y & 0xFFFF_FFFFL));
        check(0xF5, 32, (x, y) -> signed(x & 0xFFFF, 16) * signed(y & 0xFFFF, 16) + signed(x >>> 16, 16) * signed(y >>> 16, 16));
    }

    @Test
    void sumOfAbsoluteDifferencesPerQuadword() {
        long[] r = xmmOp(0xF6, new long[] {0x0000_0000_0000_FF00L, 0x0101_0101_0101_0101L},
                new long[] {0x0000_0000_0000_00FFL, 0x0303_0303_0303_0303L});
        assertThat(r).containsExactly(0xFF + 0xFF, 16);
    }

    @Test
    void shiftsByRegisterAndByImmediate() {
        cpu.xmm(1, 0x8000_0001_F000_000FL, 0x0123_4567_89AB_CDEFL).xmm(2, 4, 0)
                .xmm(3, 0x8000_0001_F000_000FL, 0x0123_4567_89AB_CDEFL)
                .xmm(4, 0x8000_0001_F000_000FL, 0x0123_4567_89AB_CDEFL)
                .xmm(5, 0x8000_0001_F000_000FL, 0x0123_4567_89AB_CDEFL)
                .xmm(6, 0x8000_0001_F000_000FL, 0x0123_4567_89AB_CDEFL)
                .xmm(7, -1, -1).xmm(8, 17, 0);
        cpu.run(0x66, 0x0F, 0xE2, 0xCA,       // psrad xmm1, xmm2 (4)
                0x66, 0x0F, 0x71, 0xF3, 0x04, // psllw xmm3, 4
                0x66, 0x0F, 0x73, 0xD4, 0x08, // psrlq xmm4, 8
                0x66, 0x0F, 0x73, 0xFD, 0x03, // pslldq xmm5, 3
                0x66, 0x0F, 0x73, 0xDE, 0x09, // psrldq xmm6, 9
                0x66, 0x41, 0x0F, 0xD1, 0xF8); // psrlw xmm7, xmm8 (17: everything out)
        assertThat(cpu.low(1)).isEqualTo(0xF800_0000_FF00_0000L);
        assertThat(cpu.high(1)).isEqualTo(0x0012_3456_F89A_BCDEL);
        assertThat(cpu.low(3)).isEqualTo(0x0000_0010_0000_00F0L);
        assertThat(cpu.high(3)).isEqualTo(0x1230_5670_9AB0_DEF0L);
        assertThat(cpu.low(4)).isEqualTo(0x0080_0000_01F0_0000L);
        assertThat(cpu.high(4)).isEqualTo(0x0001_2345_6789_ABCDL);
        assertThat(cpu.low(5)).isEqualTo(0x01F0_0000_0F00_0000L);
        assertThat(cpu.high(5)).isEqualTo(0x6789_ABCD_EF80_0000L);
        assertThat(cpu.low(6)).isEqualTo(0x0001_2345_6789_ABCDL);
        assertThat(cpu.high(6)).isZero();
        assertThat(cpu.low(7)).isZero();
        assertThat(cpu.high(7)).isZero();
    }

    @Test
    void unpacksInterleaveTheDestinationFirst() {
        long[] a = {0x0706_0504_0302_0100L, 0x0F0E_0D0C_0B0A_0908L};
        long[] b = {0x1716_1514_1312_1110L, 0x1F1E_1D1C_1B1A_1918L};
        assertThat(xmmOp(0x60, a, b)).containsExactly(0x1303_1202_1101_1000L, 0x1707_1606_1505_1404L);
        assertThat(xmmOp(0x69, a, b)).containsExactly(0x1B1A_0B0A_1918_0908L, 0x1F1E_0F0E_1D1C_0D0CL);
        assertThat(xmmOp(0x62, a, b)).containsExactly(0x1312_1110_0302_0100L, 0x1716_1514_0706_0504L);
        assertThat(xmmOp(0x6D, a, b)).containsExactly(a[1], b[1]);
        // UNPCKLPS is PUNPCKLDQ under another name.
        cpu.xmm(1, a[0], a[1]).xmm(2, b[0], b[1]);
        cpu.run(0x0F, 0x14, 0xCA);
        assertThat(cpu.low(1)).isEqualTo(0x1312_1110_0302_0100L);
    }

    @Test
    void packsSaturate() {
        // Words 0x0100 (256), 0xFF80 (-128), 0x007F, 0x8000 | 0x0050, 0xFFFF (-1), 0x7FFF, 0x0000.
        long[] a = {0x8000_007F_FF80_0100L, 0x0000_7FFF_FFFF_0050L};
        long[] b = {0, 0x0001_0002_0003_0004L};
        assertThat(xmmOp(0x63, a, b)).containsExactly(0x007F_FF50_807F_807FL, 0x0102_0304_0000_0000L);
        assertThat(xmmOp(0x67, a, b)).containsExactly(0x00FF_0050_007F_00FFL, 0x0102_0304_0000_0000L);
        long[] c = {0x0001_0000_FFFF_0000L, 0x7FFF_FFFF_8000_0000L};
        assertThat(xmmOp(0x6B, c, b)).containsExactly(0x7FFF_8000_7FFF_8000L, 0x7FFF_7FFF_0000_0000L);
    }

    @Test
    void shufflesPickLanesByTheImmediate() {
        cpu.xmm(2, 0x1111_1111_0000_0000L, 0x3333_3333_2222_2222L)
                .xmm(4, 0x0003_0002_0001_0000L, 0x0007_0006_0005_0004L)
                .xmm(6, 0x0003_0002_0001_0000L, 0x0007_0006_0005_0004L)
                .xmm(7, 0xAAAA_AAAA_BBBB_BBBBL, 0xCCCC_CCCC_DDDD_DDDDL);
        cpu.run(0x66, 0x0F, 0x70, 0xCA, 0x1B, // pshufd xmm1, xmm2, 00 01 10 11: reversed
                0xF2, 0x0F, 0x70, 0xDC, 0x1B, // pshuflw xmm3, xmm4, reversed
                0xF3, 0x0F, 0x70, 0xEE, 0x00, // pshufhw xmm5, xmm6, all word 4
                0x0F, 0xC6, 0xFA, 0x4E);      // shufps xmm7, xmm2, 01 00 11 10
        assertThat(cpu.low(1)).isEqualTo(0x2222_2222_3333_3333L);
        assertThat(cpu.high(1)).isEqualTo(0x0000_0000_1111_1111L);
        assertThat(cpu.low(3)).isEqualTo(0x0000_0001_0002_0003L);
        assertThat(cpu.high(3)).isEqualTo(0x0007_0006_0005_0004L);
        assertThat(cpu.low(5)).isEqualTo(0x0003_0002_0001_0000L);
        assertThat(cpu.high(5)).isEqualTo(0x0004_0004_0004_0004L);
        // Low two from xmm7 (lanes 2, 3), high two from xmm2 (lanes 0, 1).
        assertThat(cpu.low(7)).isEqualTo(0xCCCC_CCCC_DDDD_DDDDL);
        assertThat(cpu.high(7)).isEqualTo(0x1111_1111_0000_0000L);
    }

    @Test
    void wordInsertAndExtract() {
        cpu.xmm(1, 0, 0x0000_BEEF_0000_0000L);
        X86State after = cpu.run(cpu.start().with(Register.RAX, 0x1234_5678),
                0x66, 0x0F, 0xC4, 0xC8, 0x05, // pinsrw xmm1, eax, 5
                0x66, 0x0F, 0xC5, 0xD1, 0x06); // pextrw edx, xmm1, 6
        assertThat(cpu.high(1)).isEqualTo(0x0000_BEEF_5678_0000L);
        assertThat(after.get(Register.RDX)).isEqualTo(0xBEEF);
    }

    @Test
    void mmxFormsWorkOnTheX87RegistersAndEmmsEmptiesThem() {
        cpu.scratch(0, 0x00FF_7F80_0102_0304L).scratch(8, 0x0101_0101_0101_0101L);
        cpu.run(0x0F, 0x6F, 0x03,         // movq mm0, [rbx]
                0x0F, 0x6F, 0x4B, 0x08,   // movq mm1, [rbx+8]
                0x0F, 0xEC, 0xC1,         // paddsb mm0, mm1
                0x0F, 0x7F, 0x43, 0x10,   // movq [rbx+16], mm0
                0xD9, 0x73, 0x20,         // fnstenv [rbx+32]
                0x0F, 0x77,               // emms
                0xD9, 0x73, 0x40);        // fnstenv [rbx+64]
        assertThat(cpu.scratch(16)).isEqualTo(0x0100_7F81_0203_0405L);
        // The tag word: every register in use in MMX state, FNSTENV classifying each by its contents
        // (MM0 and MM1 were written, so their exponents are all ones: special; the rest hold zeros);
        // all empty after EMMS.
        assertThat(cpu.scratch(32 + 8) & 0xFFFF).isEqualTo(0x555A);
        assertThat(cpu.scratch(64 + 8) & 0xFFFF).isEqualTo(0xFFFF);
        // TOP is 0 in MMX state.
        assertThat((cpu.scratch(32 + 4) >> 11) & 7).isZero();
    }

    @Test
    void moreMmxForms() {
        cpu.scratch(0, 0x0706_0504_0302_0100L).scratch(8, 0x1716_1514_1312_1110L).scratch(0x30, 0x80FF_0000_0000_7F80L);
        X86State after = cpu.run(0x0F, 0x6F, 0x03, 0x0F, 0x6F, 0x4B, 0x08, // movq mm0, [rbx]; movq mm1, [rbx+8]
                0x0F, 0x60, 0xC1, 0x0F, 0x7F, 0x43, 0x10,   // punpcklbw mm0, mm1; movq [rbx+16], mm0
                0x0F, 0x73, 0xF1, 0x08, 0x0F, 0x7F, 0x4B, 0x18, // psllq mm1, 8; movq [rbx+24], mm1
                0x0F, 0x70, 0x13, 0x1B, 0x0F, 0x7F, 0x53, 0x20, // pshufw mm2, [rbx], reversed; movq [rbx+32], mm2
                0x0F, 0x6F, 0x5B, 0x30, 0x0F, 0xD7, 0xC3,   // movq mm3, [rbx+48]; pmovmskb eax, mm3
                0x0F, 0xC5, 0xCA, 0x03,                     // pextrw ecx, mm2, 3
                0x0F, 0x77);
        assertThat(cpu.scratch(0x10)).isEqualTo(0x1303_1202_1101_1000L);
        assertThat(cpu.scratch(0x18)).isEqualTo(0x1615_1413_1211_1000L);
        assertThat(cpu.scratch(0x20)).isEqualTo(0x0100_0302_0504_0706L);
        assertThat(after.get(Register.RAX)).isEqualTo(0xC1);
        assertThat(after.get(Register.RCX)).isEqualTo(0x0100);
    }
}
