package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** SSE data movement on hand-encoded code; the expected values follow from the SDM's descriptions. */
class SseMovesTest {
    private static final long A_LOW = 0x0706_0504_0302_0100L;
    private static final long A_HIGH = 0x0F0E_0D0C_0B0A_0908L;
    private static final long B_LOW = 0x8877_6655_4433_2211L;
    private static final long B_HIGH = 0xFFEE_DDCC_BBAA_9988L;

    private final SimdMachine cpu = new SimdMachine();

    @AfterEach
    void close() {
        cpu.close();
    }

    @Test
    void alignedAndUnalignedLoadsAndStoresMoveAllSixteenBytes() {
        cpu.scratch(0, A_LOW).scratch(8, A_HIGH).scratch(16, B_LOW).scratch(24, B_HIGH);
        cpu.run(0x0F, 0x28, 0x0B,                // movaps xmm1, [rbx]
                0xF3, 0x44, 0x0F, 0x6F, 0x4B, 0x01, // movdqu xmm9, [rbx+1]
                0x66, 0x0F, 0x7F, 0x4B, 0x20,       // movdqa [rbx+32], xmm1
                0x0F, 0x11, 0x4B, 0x31,             // movups [rbx+49], xmm1
                0x0F, 0x28, 0xD1);                  // movaps xmm2, xmm1
        assertThat(cpu.low(1)).isEqualTo(A_LOW);
        assertThat(cpu.high(1)).isEqualTo(A_HIGH);
        assertThat(cpu.low(9)).isEqualTo(0x0807_0605_0403_0201L);
        assertThat(cpu.high(9)).isEqualTo(0x110F_0E0D_0C0B_0A09L);
        assertThat(cpu.scratch(32)).isEqualTo(A_LOW);
        assertThat(cpu.scratch(40)).isEqualTo(A_HIGH);
        assertThat(cpu.machine.memory.readLong(SimdMachine.SCRATCH + 49)).isEqualTo(A_LOW);
        assertThat(cpu.low(2)).isEqualTo(A_LOW);
        assertThat(cpu.high(2)).isEqualTo(A_HIGH);
    }

    @Test
    void misalignedMovapsAndMovdqaRaiseGeneralProtection() {
        assertThat(cpu.faultOf(cpu.start(), 0x0F, 0x28, 0x4B, 0x04)).isEqualTo(13);       // movaps xmm1, [rbx+4]
        assertThat(cpu.faultOf(cpu.start(), 0x66, 0x0F, 0x7F, 0x4B, 0x08)).isEqualTo(13); // movdqa [rbx+8], xmm1
        assertThat(cpu.faultOf(cpu.start(), 0x66, 0x0F, 0xEF, 0x4B, 0x01)).isEqualTo(13); // pxor xmm1, [rbx+1]
    }

    @Test
    void movdAndMovqBetweenGeneralAndVectorRegistersZeroExtend() {
        cpu.xmm(3, A_LOW, A_HIGH).xmm(4, A_LOW, A_HIGH);
        X86State after = cpu.run(cpu.start().with(Register.RAX, 0x1122_3344_5566_7788L),
                0x66, 0x0F, 0x6E, 0xD8,       // movd xmm3, eax
                0x66, 0x48, 0x0F, 0x6E, 0xE0, // movq xmm4, rax
                0x66, 0x0F, 0x7E, 0xD9,       // movd ecx, xmm3
                0x66, 0x48, 0x0F, 0x7E, 0xE2); // movq rdx, xmm4
        assertThat(cpu.low(3)).isEqualTo(0x5566_7788L);
        assertThat(cpu.high(3)).isZero();
        assertThat(cpu.low(4)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(cpu.high(4)).isZero();
        assertThat(after.get(Register.RCX)).isEqualTo(0x5566_7788L);
        assertThat(after.get(Register.RDX)).isEqualTo(0x1122_3344_5566_7788L);
    }

    @Test
    void movqFormsMoveTheLowQuadwordAndClearTheHighOne() {
        cpu.xmm(4, A_LOW, A_HIGH).xmm(5, B_LOW, B_HIGH).xmm(6, B_LOW, B_HIGH).scratch(0, 0x1234);
        cpu.run(0xF3, 0x0F, 0x7E, 0xF5, // movq xmm6, xmm5
                0x66, 0x0F, 0xD6, 0x63, 0x10, // movq [rbx+16], xmm4
                0x66, 0x0F, 0xD6, 0xE5, // movq xmm5, xmm4
                0xF3, 0x0F, 0x7E, 0x23); // movq xmm4, [rbx]
        assertThat(cpu.low(6)).isEqualTo(B_LOW);
        assertThat(cpu.high(6)).isZero();
        assertThat(cpu.scratch(16)).isEqualTo(A_LOW);
        assertThat(cpu.low(5)).isEqualTo(A_LOW);
        assertThat(cpu.high(5)).isZero();
        assertThat(cpu.low(4)).isEqualTo(0x1234);
        assertThat(cpu.high(4)).isZero();
    }

    @Test
    void scalarMovesMergeBetweenRegistersAndZeroFromMemory() {
        cpu.xmm(1, A_LOW, A_HIGH).xmm(2, B_LOW, B_HIGH).xmm(3, A_LOW, A_HIGH).xmm(7, A_LOW, A_HIGH)
                .scratch(0, 0xCAFE_F00D_1234_5678L);
        cpu.run(0xF3, 0x0F, 0x10, 0xCA, // movss xmm1, xmm2
                0xF2, 0x0F, 0x10, 0xDA, // movsd xmm3, xmm2
                0xF3, 0x0F, 0x10, 0x3B, // movss xmm7, [rbx]
                0xF3, 0x0F, 0x11, 0x53, 0x20); // movss [rbx+32], xmm2
        assertThat(cpu.low(1)).isEqualTo(0x0706_0504_4433_2211L);
        assertThat(cpu.high(1)).isEqualTo(A_HIGH);
        assertThat(cpu.low(3)).isEqualTo(B_LOW);
        assertThat(cpu.high(3)).isEqualTo(A_HIGH);
        assertThat(cpu.low(7)).isEqualTo(0x1234_5678L);
        assertThat(cpu.high(7)).isZero();
        assertThat(cpu.scratch(32)).isEqualTo(0x4433_2211L);
    }

    @Test
    void halvesMoveBetweenMemoryAndRegisters() {
        cpu.xmm(1, A_LOW, A_HIGH).xmm(2, B_LOW, B_HIGH).xmm(3, A_LOW, A_HIGH).xmm(4, A_LOW, A_HIGH)
                .xmm(5, A_LOW, A_HIGH).scratch(0, 0x5555);
        cpu.run(0x0F, 0x12, 0x0B,       // movlps xmm1, [rbx]
                0x0F, 0x16, 0x1B,       // movhps xmm3, [rbx]
                0x0F, 0x12, 0xE2,       // movhlps xmm4, xmm2
                0x0F, 0x16, 0xEA,       // movlhps xmm5, xmm2
                0x66, 0x0F, 0x17, 0x53, 0x10); // movhpd [rbx+16], xmm2
        assertThat(cpu.low(1)).isEqualTo(0x5555);
        assertThat(cpu.high(1)).isEqualTo(A_HIGH);
        assertThat(cpu.low(3)).isEqualTo(A_LOW);
        assertThat(cpu.high(3)).isEqualTo(0x5555);
        assertThat(cpu.low(4)).isEqualTo(B_HIGH);
        assertThat(cpu.high(4)).isEqualTo(A_HIGH);
        assertThat(cpu.low(5)).isEqualTo(A_LOW);
        assertThat(cpu.high(5)).isEqualTo(B_LOW);
        assertThat(cpu.scratch(16)).isEqualTo(B_HIGH);
    }

    @Test
    void signMasksGatherTheTopBitOfEachLane() {
        // Lanes (low first) of B: singles 0x44332211, 0x88776655, 0xBBAA9988, 0xFFEEDDCC -> signs 0,1,1,1.
        cpu.xmm(1, B_LOW, B_HIGH).xmm(2, 0x8000_0000_0000_0000L, 0x0000_0000_0000_0001L);
        X86State after = cpu.run(0x0F, 0x50, 0xC1, // movmskps eax, xmm1
                0x66, 0x0F, 0x50, 0xCA,             // movmskpd ecx, xmm2
                0x66, 0x0F, 0xD7, 0xD1);            // pmovmskb edx, xmm1
        assertThat(after.get(Register.RAX)).isEqualTo(0b1110);
        assertThat(after.get(Register.RCX)).isEqualTo(0b01);
        // Bytes of B with the top bit set: 0x88 (byte 7), 0x88 (8), 0x99 (9), 0xAA (10) ... 0xFF (15).
        assertThat(after.get(Register.RDX)).isEqualTo(0b1111_1111_1000_0000L);
    }

    @Test
    void maskedStoreWritesOnlyTheSelectedBytesAtRdi() {
        cpu.xmm(1, A_LOW, A_HIGH).xmm(2, 0x0000_0000_0000_80FFL, 0x8000_0000_0000_0000L);
        for (int k = 0; k < 16; k++) {
            cpu.machine.memory.writeByte(SimdMachine.SCRATCH + 0x100 + k, (byte) 0xEE);
        }
        InstructionRunner.Outcome outcome = cpu.attempt(cpu.start().with(Register.RDI, SimdMachine.SCRATCH + 0x100),
                0x66, 0x0F, 0xF7, 0xCA); // maskmovdqu xmm1, xmm2
        assertThat(outcome).isInstanceOf(InstructionRunner.Completed.class);
        assertThat(cpu.scratch(0x100)).isEqualTo(0xEEEE_EEEE_EEEE_0100L);
        assertThat(cpu.scratch(0x108)).isEqualTo(0x0FEE_EEEE_EEEE_EEEEL);
    }

    @Test
    void nonTemporalStoresAreOrdinaryStores() {
        cpu.xmm(1, A_LOW, A_HIGH);
        cpu.run(cpu.start().with(Register.RAX, 0xAABB_CCDDL),
                0x0F, 0xC3, 0x43, 0x40,       // movnti [rbx+64], eax
                0x66, 0x0F, 0xE7, 0x4B, 0x50); // movntdq [rbx+80], xmm1
        assertThat(cpu.scratch(64) & 0xFFFF_FFFFL).isEqualTo(0xAABB_CCDDL);
        assertThat(cpu.scratch(80)).isEqualTo(A_LOW);
        assertThat(cpu.scratch(88)).isEqualTo(A_HIGH);
    }

    @Test
    void aPrefixWithoutAnEntryIsInvalidRatherThanTheUnprefixedInstruction() {
        assertThat(cpu.faultOf(cpu.start(), 0xF2, 0x0F, 0x28, 0xCA)).isEqualTo(6); // F2 0F 28 is not MOVAPS
        assertThat(cpu.faultOf(cpu.start(), 0x66, 0x0F, 0x77)).isEqualTo(6);
    }
}
