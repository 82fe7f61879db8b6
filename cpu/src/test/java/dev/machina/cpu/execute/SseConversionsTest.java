package dev.machina.cpu.execute;

import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The SSE conversions: expected values from Java's own conversions and the SDM's rounding and indefinite rules. */
class SseConversionsTest {
    private static final int PE = 1 << 5;
    private static final int IE = 1;
    private static final int OE = 1 << 3;
    private static final long MARK = 0x5555_5555_5555_5555L;

    private final SimdMachine cpu = new SimdMachine();

    @AfterEach
    void close() {
        cpu.close();
    }

    private static long bits(double value) {
        return Double.doubleToRawLongBits(value);
    }

    private static long singles(float low, float high) {
        return (Float.floatToRawIntBits(low) & 0xFFFF_FFFFL) | (long) Float.floatToRawIntBits(high) << 32;
    }

    private static long integers(int low, int high) {
        return (low & 0xFFFF_FFFFL) | (long) high << 32;
    }

    @Test
    void integerToFloatingPointBySizeWithRounding() {
        cpu.xmm(1, MARK, MARK).xmm(2, MARK, MARK).xmm(3, MARK, MARK);
        X86State start = cpu.start().with(Register.RAX, 0x1234_5678_FFFF_FFFBL).with(Register.RCX, (1L << 62) + 1)
                .with(Register.RDX, 16_777_217);
        cpu.run(start, 0xF2, 0x0F, 0x2A, 0xC8, // cvtsi2sd xmm1, eax
                0xF2, 0x48, 0x0F, 0x2A, 0xD1,  // cvtsi2sd xmm2, rcx
                0xF3, 0x48, 0x0F, 0x2A, 0xDA); // cvtsi2ss xmm3, rdx
        assertThat(cpu.low(1)).isEqualTo(bits(-5.0));
        assertThat(cpu.high(1)).isEqualTo(MARK);
        assertThat(cpu.low(2)).isEqualTo(bits((double) ((1L << 62) + 1)));
        assertThat(cpu.low(3)).isEqualTo(singles(16_777_216f, 0) | (MARK & 0xFFFF_FFFF_0000_0000L));
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(PE);
        cpu.mxcsr(0x1F80 | 2 << 13); // round up
        cpu.run(start, 0xF3, 0x48, 0x0F, 0x2A, 0xDA);
        assertThat(cpu.low(3) & 0xFFFF_FFFFL).isEqualTo(singles(16_777_218f, 0));
    }

    @Test
    void floatingPointToIntegerRoundsOrTruncates() {
        cpu.xmm(1, bits(2.5), 0).xmm(2, bits(-3.5), 0).xmm(3, bits(-2.9), 0).xmm(4, singles(2.99f, 0), 0);
        X86State after = cpu.run(0xF2, 0x0F, 0x2D, 0xC1, // cvtsd2si eax, xmm1
                0xF2, 0x48, 0x0F, 0x2D, 0xCA,              // cvtsd2si rcx, xmm2
                0xF2, 0x0F, 0x2C, 0xD3,                    // cvttsd2si edx, xmm3
                0xF3, 0x48, 0x0F, 0x2C, 0xF4);             // cvttss2si rsi, xmm4
        assertThat(after.get(Register.RAX)).isEqualTo(2);
        assertThat(after.get(Register.RCX)).isEqualTo(-4L);
        assertThat(after.get(Register.RDX)).isEqualTo(0xFFFF_FFFEL);
        assertThat(after.get(Register.RSI)).isEqualTo(2);
        cpu.mxcsr(0x1F80 | 1 << 13); // round down
        X86State down = cpu.run(0xF2, 0x0F, 0x2D, 0xC1);
        assertThat(down.get(Register.RAX)).isEqualTo(2);
    }

    @Test
    void outOfRangeAndNanGiveTheIntegerIndefinite() {
        cpu.xmm(1, bits(3e9), 0).xmm(2, bits(Double.NaN), 0);
        X86State after = cpu.run(0xF2, 0x0F, 0x2D, 0xC1, // cvtsd2si eax, xmm1
                0xF2, 0x48, 0x0F, 0x2D, 0xC9,              // cvtsd2si rcx, xmm1 (fits in 64 bits)
                0xF2, 0x48, 0x0F, 0x2C, 0xD2);             // cvttsd2si rdx, xmm2
        assertThat(after.get(Register.RAX)).isEqualTo(0x8000_0000L);
        assertThat(after.get(Register.RCX)).isEqualTo(3_000_000_000L);
        assertThat(after.get(Register.RDX)).isEqualTo(Long.MIN_VALUE);
        assertThat(cpu.mxcsr() & IE).isEqualTo(IE);
    }

    @Test
    void scalarPrecisionChangesMergeIntoTheDestination() {
        cpu.xmm(5, MARK, MARK).xmm(6, singles(0.1f, 7f), MARK).xmm(7, MARK, MARK).xmm(8, bits(1e300), 0)
                .xmm(9, MARK, MARK).xmm(10, bits(1.0 / 3), 0);
        cpu.run(0xF3, 0x0F, 0x5A, 0xEE,        // cvtss2sd xmm5, xmm6
                0xF2, 0x41, 0x0F, 0x5A, 0xF8,  // cvtsd2ss xmm7, xmm8
                0xF2, 0x45, 0x0F, 0x5A, 0xCA); // cvtsd2ss xmm9, xmm10
        assertThat(cpu.low(5)).isEqualTo(bits(0.1f));
        assertThat(cpu.high(5)).isEqualTo(MARK);
        assertThat(cpu.low(7)).isEqualTo(singles(Float.POSITIVE_INFINITY, 0) | (MARK & 0xFFFF_FFFF_0000_0000L));
        assertThat(cpu.low(9) & 0xFFFF_FFFFL).isEqualTo(singles((float) (1.0 / 3), 0));
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(OE | PE);
    }

    @Test
    void packedConversions() {
        cpu.xmm(1, MARK, MARK).xmm(2, singles(1.5f, -0.25f), singles(1e20f, 3f))
                .xmm(3, MARK, MARK).xmm(4, bits(1.5), bits(-2.5))
                .xmm(5, MARK, MARK).xmm(6, integers(-7, 1 << 30), integers(3, 16_777_217))
                .xmm(7, MARK, MARK).xmm(8, singles(0.5f, 1.5f), singles(-1.7f, 3e9f))
                .xmm(9, MARK, MARK).xmm(10, MARK, MARK).xmm(11, MARK, MARK).xmm(12, MARK, MARK);
        cpu.run(0x0F, 0x5A, 0xCA,               // cvtps2pd xmm1, xmm2
                0x66, 0x0F, 0x5A, 0xDC,         // cvtpd2ps xmm3, xmm4
                0x0F, 0x5B, 0xEE,               // cvtdq2ps xmm5, xmm6
                0x66, 0x41, 0x0F, 0x5B, 0xF8,   // cvtps2dq xmm7, xmm8 (round to nearest even)
                0xF3, 0x45, 0x0F, 0x5B, 0xC8,   // cvttps2dq xmm9, xmm8
                0xF3, 0x44, 0x0F, 0xE6, 0xD6,   // cvtdq2pd xmm10, xmm6
                0xF2, 0x44, 0x0F, 0xE6, 0xDC,   // cvtpd2dq xmm11, xmm4
                0x66, 0x44, 0x0F, 0xE6, 0xE4);  // cvttpd2dq xmm12, xmm4
        assertThat(cpu.low(1)).isEqualTo(bits(1.5));
        assertThat(cpu.high(1)).isEqualTo(bits(-0.25));
        assertThat(cpu.low(3)).isEqualTo(singles(1.5f, -2.5f));
        assertThat(cpu.high(3)).isZero();
        assertThat(cpu.low(5)).isEqualTo(singles(-7f, (float) (1 << 30)));
        assertThat(cpu.high(5)).isEqualTo(singles(3f, 16_777_216f));
        assertThat(cpu.low(7)).isEqualTo(integers(0, 2));
        assertThat(cpu.high(7)).isEqualTo(integers(-2, 0x8000_0000));
        assertThat(cpu.low(9)).isEqualTo(integers(0, 1));
        assertThat(cpu.high(9)).isEqualTo(integers(-1, 0x8000_0000));
        assertThat(cpu.low(10)).isEqualTo(bits(-7.0));
        assertThat(cpu.high(10)).isEqualTo(bits(1 << 30));
        assertThat(cpu.low(11)).isEqualTo(integers(2, -2));
        assertThat(cpu.high(11)).isZero();
        assertThat(cpu.low(12)).isEqualTo(integers(1, -2));
        assertThat(cpu.high(12)).isZero();
    }

    @Test
    void conversionsWithMmxRegisters() {
        cpu.scratch(0, integers(-3, 10)).xmm(1, MARK, MARK).xmm(2, singles(2.5f, -1.5f), 0).xmm(4, bits(-7.9), bits(8.9));
        cpu.run(0x0F, 0x6F, 0x03,         // movq mm0, [rbx]
                0x0F, 0x2A, 0xC8,         // cvtpi2ps xmm1, mm0
                0x66, 0x0F, 0x2A, 0xD8,   // cvtpi2pd xmm3, mm0
                0x0F, 0x2D, 0xCA,         // cvtps2pi mm1, xmm2
                0x66, 0x0F, 0x2C, 0xD4,   // cvttpd2pi mm2, xmm4
                0x0F, 0x7F, 0x4B, 0x08,   // movq [rbx+8], mm1
                0x0F, 0x7F, 0x53, 0x10,   // movq [rbx+16], mm2
                0x0F, 0x77);              // emms
        assertThat(cpu.low(1)).isEqualTo(singles(-3f, 10f));
        assertThat(cpu.high(1)).isEqualTo(MARK);
        assertThat(cpu.low(3)).isEqualTo(bits(-3.0));
        assertThat(cpu.high(3)).isEqualTo(bits(10.0));
        assertThat(cpu.scratch(8)).isEqualTo(integers(2, -2));
        assertThat(cpu.scratch(16)).isEqualTo(integers(-7, 8));
    }
}
