package dev.machina.cpu.execute;

import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.DoubleBinaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** Packed and scalar SSE arithmetic, compares and MXCSR, checked against Java's float and double arithmetic. */
class SseFloatingPointTest {
    private static final int PE = 1 << 5;
    private static final int ZE = 1 << 2;
    private static final int IE = 1;
    private static final int DE = 1 << 1;
    private static final int UE = 1 << 4;

    private final SimdMachine cpu = new SimdMachine();
    private final Random random = new Random(3);

    @AfterEach
    void close() {
        cpu.close();
    }

    private static long singles(float low, float high) {
        return (Float.floatToRawIntBits(low) & 0xFFFF_FFFFL) | (long) Float.floatToRawIntBits(high) << 32;
    }

    private static float single(long chunk, int lane) {
        return Float.intBitsToFloat((int) (chunk >>> (32 * lane)));
    }

    private static long bits(double value) {
        return Double.doubleToRawLongBits(value);
    }

    private static double number(long bits) {
        return Double.longBitsToDouble(bits);
    }

    private float randomFloat() {
        return (float) (random.nextGaussian() * Math.pow(10, random.nextInt(10) - 5));
    }

    private void checkPacked(int opcode, DoubleBinaryOperator op) {
        for (int n = 0; n < 4; n++) {
            float[] a = {randomFloat(), randomFloat(), randomFloat(), randomFloat()};
            float[] b = {randomFloat(), randomFloat(), randomFloat(), randomFloat()};
            double[] c = {random.nextGaussian() * 1e10, random.nextGaussian()};
            double[] d = {random.nextGaussian(), random.nextGaussian() * 1e-10};
            cpu.xmm(1, singles(a[0], a[1]), singles(a[2], a[3])).xmm(2, singles(b[0], b[1]), singles(b[2], b[3]))
                    .xmm(3, bits(c[0]), bits(c[1])).xmm(4, bits(d[0]), bits(d[1]))
                    .xmm(5, singles(a[0], a[1]), singles(a[2], a[3])).xmm(6, bits(c[0]), bits(c[1]));
            cpu.run(0x0F, opcode, 0xCA,            // ..ps xmm1, xmm2
                    0x66, 0x0F, opcode, 0xDC,      // ..pd xmm3, xmm4
                    0xF3, 0x0F, opcode, 0xEA,      // ..ss xmm5, xmm2
                    0xF2, 0x0F, opcode, 0xF4);     // ..sd xmm6, xmm4
            for (int lane = 0; lane < 4; lane++) {
                float expected = (float) op.applyAsDouble(a[lane], b[lane]);
                if (opcode != 0x51) {
                    expected = floatOp(opcode, a[lane], b[lane]);
                }
                long chunk = lane < 2 ? cpu.low(1) : cpu.high(1);
                assertThat(single(chunk, lane & 1)).as("lane %d of %s, %s", lane, a[lane], b[lane]).isEqualTo(expected);
            }
            assertThat(number(cpu.low(3))).isEqualTo(op.applyAsDouble(c[0], d[0]));
            assertThat(number(cpu.high(3))).isEqualTo(op.applyAsDouble(c[1], d[1]));
            assertThat(single(cpu.low(5), 0)).isEqualTo(opcode == 0x51 ? (float) Math.sqrt(b[0]) : floatOp(opcode, a[0], b[0]));
            assertThat(single(cpu.low(5), 1)).isEqualTo(a[1]);
            assertThat(cpu.high(5)).isEqualTo(singles(a[2], a[3]));
            assertThat(number(cpu.low(6))).isEqualTo(op.applyAsDouble(c[0], d[0]));
            assertThat(number(cpu.high(6))).isEqualTo(c[1]);
        }
    }

    /** The single-precision result as Java computes it in float (not rounded twice through double). */
    private static float floatOp(int opcode, float a, float b) {
        return switch (opcode) {
            case 0x58 -> a + b;
            case 0x5C -> a - b;
            case 0x59 -> a * b;
            case 0x5E -> a / b;
            case 0x5D -> a < b ? a : b;
            default -> a > b ? a : b;
        };
    }

    @Test
    void arithmeticOnEveryLaneAndOnTheLowLaneOnly() {
        checkPacked(0x58, Double::sum);
        checkPacked(0x5C, (x, y) -> x - y);
        checkPacked(0x59, (x, y) -> x * y);
        checkPacked(0x5E, (x, y) -> x / y);
        checkPacked(0x5D, (x, y) -> x < y ? x : y);
        checkPacked(0x5F, (x, y) -> x > y ? x : y);
    }

    @Test
    void squareRootOfTheSourceOperand() {
        cpu.xmm(1, 0, 0).xmm(2, singles(2f, 9f), singles(0.25f, -0f)).xmm(3, 0, 0).xmm(4, bits(2.0), bits(1e300));
        cpu.run(0x0F, 0x51, 0xCA, 0x66, 0x0F, 0x51, 0xDC);
        assertThat(single(cpu.low(1), 0)).isEqualTo((float) Math.sqrt(2f));
        assertThat(single(cpu.low(1), 1)).isEqualTo(3f);
        assertThat(single(cpu.high(1), 0)).isEqualTo(0.5f);
        assertThat(Float.floatToRawIntBits(single(cpu.high(1), 1))).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(number(cpu.low(3))).isEqualTo(Math.sqrt(2.0));
        assertThat(number(cpu.high(3))).isEqualTo(Math.sqrt(1e300));
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(PE);
    }

    @Test
    void minimumAndMaximumReturnTheSourceForNansAndEqualZeros() {
        double nan = Double.NaN;
        cpu.xmm(1, bits(nan), bits(0.0)).xmm(2, bits(1.0), bits(-0.0)).xmm(3, bits(2.0), bits(-0.0)).xmm(4, bits(nan), bits(0.0));
        cpu.run(0x66, 0x0F, 0x5D, 0xCA,  // minpd xmm1, xmm2
                0x66, 0x0F, 0x5F, 0xDC); // maxpd xmm3, xmm4
        assertThat(number(cpu.low(1))).isEqualTo(1.0);
        assertThat(cpu.high(1)).isEqualTo(bits(-0.0));
        assertThat(Double.isNaN(number(cpu.low(3)))).isTrue();
        assertThat(cpu.high(3)).isEqualTo(bits(0.0));
        // MIN and MAX signal invalid on quiet NaNs.
        assertThat(cpu.mxcsr() & IE).isEqualTo(IE);
    }

    @Test
    void comparePredicatesGiveLaneMasks() {
        float nan = Float.NaN;
        long a = singles(1f, 2f);
        long b = singles(2f, 2f);
        long c = singles(nan, 3f);
        long d = singles(1f, 1f);
        for (int predicate = 0; predicate < 8; predicate++) {
            cpu.xmm(1, a, c).xmm(2, b, d);
            X86State after = cpu.run(0x0F, 0xC2, 0xCA, predicate, // cmpps xmm1, xmm2, predicate
                    0x0F, 0x50, 0xC1);                            // movmskps eax, xmm1
            // Lanes: 1 vs 2 (less), 2 vs 2 (equal), NaN vs 1 (unordered), 3 vs 1 (greater).
            int mask = switch (predicate) {
                case 0 -> 0b0010;
                case 1 -> 0b0001;
                case 2 -> 0b0011;
                case 3 -> 0b0100;
                case 4 -> 0b1101;
                case 5 -> 0b1110;
                case 6 -> 0b1100;
                default -> 0b1011;
            };
            assertThat(after.get(Register.RAX)).as("predicate %d", predicate).isEqualTo(mask);
        }
    }

    @Test
    void ordinalComparesSetZeroParityCarry() {
        cpu.xmm(1, bits(1.0), 0).xmm(2, bits(2.0), 0).xmm(3, bits(Double.NaN), 0)
                .xmm(4, singles(3f, 0f), 0).xmm(5, singles(1f, 0f), 0);
        X86State less = cpu.run(0x66, 0x0F, 0x2F, 0xCA); // comisd xmm1, xmm2
        assertThat(less.get(Register.RFLAGS) & Flags.ARITHMETIC).isEqualTo(Flags.CF);
        assertThat(cpu.mxcsr() & IE).isZero();
        X86State equal = cpu.run(0x66, 0x0F, 0x2E, 0xC9); // ucomisd xmm1, xmm1
        assertThat(equal.get(Register.RFLAGS) & Flags.ARITHMETIC).isEqualTo(Flags.ZF);
        X86State greater = cpu.run(0x0F, 0x2E, 0xE5); // ucomiss xmm4, xmm5
        assertThat(greater.get(Register.RFLAGS) & Flags.ARITHMETIC).isZero();
        X86State unordered = cpu.run(0x66, 0x0F, 0x2E, 0xCB); // ucomisd xmm1, xmm3: quiet NaN, no IE
        assertThat(unordered.get(Register.RFLAGS) & Flags.ARITHMETIC).isEqualTo(Flags.ZF | Flags.PF | Flags.CF);
        assertThat(cpu.mxcsr() & IE).isZero();
        cpu.run(0x66, 0x0F, 0x2F, 0xCB); // comisd signals on a quiet NaN
        assertThat(cpu.mxcsr() & IE).isEqualTo(IE);
    }

    @Test
    void roundingControlAndStickyFlagsInMxcsr() {
        cpu.xmm(1, bits(1.0), 0).xmm(2, bits(3.0), 0).xmm(3, bits(1.0), 0);
        cpu.mxcsr(0x1F80 | 2 << 13); // round up
        cpu.run(0xF2, 0x0F, 0x5E, 0xCA,  // divsd xmm1, xmm2
                0xF2, 0x0F, 0x58, 0xDB); // addsd xmm3, xmm3 (exact)
        assertThat(number(cpu.low(1))).isEqualTo(Math.nextUp(1.0 / 3));
        assertThat(cpu.mxcsr()).isEqualTo(0x1F80 | 2 << 13 | PE);
        cpu.mxcsr(0x1F80 | 1 << 13); // round down
        cpu.run(0xF2, 0x0F, 0x5E, 0xCA);
        assertThat(number(cpu.low(1))).isEqualTo(1.0 / 3);
    }

    @Test
    void aNanOperandOrAnInvalidOperationOutranksTheDenormalFlag() {
        double denormal = Double.MIN_NORMAL / 4;
        cpu.xmm(1, bits(Double.NaN), bits(2.0)).xmm(2, bits(denormal), bits(3.0));
        cpu.run(0x66, 0x0F, 0x58, 0xCA); // addpd xmm1, xmm2: NaN + denormal
        assertThat(cpu.mxcsr() & 0x3F).isZero();
        cpu.xmm(3, bits(-denormal), 0);
        cpu.run(0xF2, 0x0F, 0x51, 0xE3); // sqrtsd xmm4, xmm3: the square root of a negative number
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(IE);
        cpu.mxcsr(0x1F80).xmm(7, bits(denormal), 0).xmm(0, 0, 0);
        cpu.run(0xF2, 0x0F, 0x5E, 0xF8); // divsd xmm7, xmm0: a denormal divided by zero
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(ZE);
        cpu.mxcsr(0x1F80).xmm(5, bits(denormal), bits(Double.NaN)).xmm(6, bits(1.0), bits(denormal));
        cpu.run(0x66, 0x0F, 0x58, 0xEE); // addpd xmm5, xmm6: the low lane's DE stands
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(DE | PE);
    }

    @Test
    void minimumAndMaximumReturnADenormalReadAsZeroUnderDaz() {
        double denormal = Double.MIN_NORMAL / 4;
        cpu.mxcsr(0x1F80 | 1 << 6).xmm(1, bits(-denormal), bits(1.0)).xmm(2, bits(1.0), bits(denormal));
        cpu.run(0x66, 0x0F, 0x5D, 0xCA); // minpd xmm1, xmm2
        assertThat(cpu.low(1)).isEqualTo(bits(-0.0));
        assertThat(cpu.high(1)).isEqualTo(bits(0.0));
    }

    @Test
    void denormalsAreZeroAndFlushToZero() {
        double denormal = Double.MIN_NORMAL / 4;
        cpu.xmm(1, bits(1.0), 0).xmm(2, bits(denormal), 0).xmm(3, bits(Double.MIN_NORMAL), 0).xmm(4, bits(0.25), 0);
        cpu.run(0xF2, 0x0F, 0x58, 0xCA); // addsd xmm1, xmm2
        assertThat(cpu.mxcsr() & DE).isEqualTo(DE);
        cpu.mxcsr(0x1F80 | 1 << 6 | 1 << 15); // DAZ and FTZ
        cpu.run(0xF2, 0x0F, 0x59, 0xD1,  // mulsd xmm2, xmm1: the denormal is read as zero
                0xF2, 0x0F, 0x59, 0xDC); // mulsd xmm3, xmm4: the tiny product is flushed
        assertThat(cpu.low(2)).isZero();
        assertThat(cpu.low(3)).isZero();
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(UE | PE);
    }

    @Test
    void anUnmaskedExceptionRaisesSimdFaultAndWritesNothing() {
        cpu.xmm(1, singles(1f, 5f), 0).xmm(2, 0, 0).mxcsr(0x1F80 & ~(ZE << 7));
        assertThat(cpu.faultOf(cpu.start(), 0xF3, 0x0F, 0x5E, 0xCA)).isEqualTo(19); // divss xmm1, xmm2
        X86State noOsSupport = cpu.withControl(0, 0, 0, ControlRegisters.CR4_OSXMMEXCPT);
        assertThat(cpu.faultOf(noOsSupport, 0xF3, 0x0F, 0x5E, 0xCA)).isEqualTo(6);
        // With ZE masked the quotient is infinite and ZE is flagged.
        cpu.mxcsr(0x1F80);
        cpu.run(0xF3, 0x0F, 0x5E, 0xCA);
        assertThat(single(cpu.low(1), 0)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(single(cpu.low(1), 1)).isEqualTo(5f);
        assertThat(cpu.mxcsr() & 0x3F).isEqualTo(ZE);
    }

    @Test
    void reciprocalEstimatesAreWithinTheArchitectedError() {
        cpu.xmm(2, singles(3f, 0.001f), singles(-7f, 0f)).xmm(4, singles(4f, 10f), 0);
        cpu.run(0x0F, 0x53, 0xCA,        // rcpps xmm1, xmm2
                0xF3, 0x0F, 0x52, 0xDC); // rsqrtss xmm3, xmm4
        float[] inputs = {3f, 0.001f, -7f};
        for (int lane = 0; lane < 3; lane++) {
            float r = single(lane < 2 ? cpu.low(1) : cpu.high(1), lane & 1);
            assertThat(Math.abs(r * inputs[lane] - 1)).isLessThan(1.5f / 4096);
        }
        assertThat(single(cpu.high(1), 1)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Math.abs(single(cpu.low(3), 0) - 0.5f)).isLessThan(0.5f * 1.5f / 4096);
        assertThat(cpu.mxcsr() & 0x3F).isZero();
    }

    @Test
    void sseNeedsTheOsAndTheUnitAvailable() {
        int[] addps = {0x0F, 0x58, 0xCA};
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_EM, 0, 0, 0), addps)).isEqualTo(6);
        assertThat(cpu.faultOf(cpu.withControl(0, 0, 0, ControlRegisters.CR4_OSFXSR), addps)).isEqualTo(6);
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_TS, 0, 0, 0), addps)).isEqualTo(7);
        // MMX: #UD with EM but not for a missing OSFXSR.
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_EM, 0, 0, 0), 0x0F, 0xFC, 0xC1)).isEqualTo(6);
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_TS, 0, 0, 0), 0x0F, 0xFC, 0xC1)).isEqualTo(7);
    }

    @Test
    void ldmxcsrRejectsReservedBits() {
        cpu.scratch(0, 0x1_0000);
        assertThat(cpu.faultOf(cpu.start(), 0x0F, 0xAE, 0x13)).isEqualTo(13); // ldmxcsr [rbx]
    }
}
