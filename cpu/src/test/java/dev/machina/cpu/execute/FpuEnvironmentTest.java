package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** FXSAVE, FXRSTOR, FNSAVE, FRSTOR, FNSTENV and FLDENV images, laid out as the SDM's figures give them (protected and real mode); CPUID. */
class FpuEnvironmentTest {
    private static final long PI = 0xC90F_DAA2_2168_C235L;
    private static final long ONE = Long.MIN_VALUE;
    /** FNINIT, FLD1, FLDPI. */
    private static final int[] TWO_VALUES = {0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEB};
    /** The length of SimdMachine's loads of MXCSR and all sixteen XMM registers. */
    private static final int PROLOGUE = 7 + 8 * 8 + 8 * 9;

    private final SimdMachine cpu = new SimdMachine();

    @AfterEach
    void close() {
        cpu.close();
    }

    private int[] then(int[] first, int... more) {
        int[] all = new int[first.length + more.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    private int word(int offset) {
        return cpu.machine.memory.readShort(SimdMachine.SCRATCH + offset) & 0xFFFF;
    }

    private long doubleword(int offset) {
        return cpu.machine.memory.readInt(SimdMachine.SCRATCH + offset) & 0xFFFF_FFFFL;
    }

    private void giveAllXmm() {
        for (int n = 0; n < 16; n++) {
            cpu.xmm(n, 0x1111_1111_1111_1111L * n, ~(0x1111_1111_1111_1111L * n));
        }
    }

    @Test
    void fxsaveWritesTheSdmLayout() {
        giveAllXmm();
        cpu.mxcsr(0x1F80 | 1 << 6 | 1 << 5);
        cpu.run(then(TWO_VALUES, 0x0F, 0xAE, 0x03)); // fxsave [rbx]
        assertThat(word(0)).isEqualTo(0x037F);
        assertThat(word(2)).isEqualTo(6 << 11);
        assertThat(word(4)).isEqualTo(0xC0); // abridged tags: physical registers 6 and 7 in use
        assertThat(word(6)).isEqualTo(0x1EB); // FOP of FLDPI (D9 EB)
        assertThat(doubleword(8)).isEqualTo(LongModeMachine.CODE + PROLOGUE + 4);
        assertThat(word(12)).isEqualTo(8);
        assertThat(doubleword(24)).isEqualTo(0x1FE0);
        assertThat(doubleword(28)).isEqualTo(0xFFFF);
        assertThat(cpu.scratch(32)).isEqualTo(PI);
        assertThat(cpu.scratch(40)).isEqualTo(0x4000);
        assertThat(cpu.scratch(48)).isEqualTo(ONE);
        assertThat(cpu.scratch(56)).isEqualTo(0x3FFF);
        for (int n = 0; n < 16; n++) {
            assertThat(cpu.scratch(160 + 16 * n)).as("xmm%d", n).isEqualTo(0x1111_1111_1111_1111L * n);
            assertThat(cpu.scratch(168 + 16 * n)).isEqualTo(~(0x1111_1111_1111_1111L * n));
        }
    }

    @Test
    void fxsaveWithRexWStoresSixtyFourBitPointers() {
        cpu.run(then(TWO_VALUES, 0xDD, 0x43, 0x40, 0x48, 0x0F, 0xAE, 0x03)); // fld qword [rbx+64]; fxsave64 [rbx]
        assertThat(cpu.scratch(8)).isEqualTo(LongModeMachine.CODE + 6);
        assertThat(cpu.scratch(16)).isEqualTo(SimdMachine.SCRATCH + 64);
    }

    @Test
    void fxrstorLoadsTheImageBack() {
        cpu.run(then(TWO_VALUES, 0x0F, 0xAE, 0x03));
        // Change the image: ST0 = 1.5, XMM3 = a pattern, MXCSR rounding up.
        cpu.scratch(32, 0xC000_0000_0000_0000L).scratch(40, 0x3FFF);
        cpu.scratch(160 + 48, 0xABCD).scratch(168 + 48, 0xEF01);
        cpu.machine.memory.writeInt(SimdMachine.SCRATCH + 24, 0x1F80 | 2 << 13);
        cpu.run(0xDB, 0xE3, 0x0F, 0xAE, 0x0B,      // fninit; fxrstor [rbx]
                0xDD, 0x9B, 0x00, 0x03, 0x00, 0x00, // fstp qword [rbx+0x300]
                0xDD, 0x9B, 0x08, 0x03, 0x00, 0x00); // fstp qword [rbx+0x308]
        assertThat(Double.longBitsToDouble(cpu.scratch(0x300))).isEqualTo(1.5);
        assertThat(Double.longBitsToDouble(cpu.scratch(0x308))).isEqualTo(1.0);
        assertThat(cpu.low(3)).isEqualTo(0xABCD);
        assertThat(cpu.high(3)).isEqualTo(0xEF01);
        assertThat(cpu.mxcsr()).isEqualTo(0x1F80 | 2 << 13);
    }

    @Test
    void fxrstorRejectsReservedMxcsrBitsAndBothNeedAlignment() {
        cpu.machine.memory.writeInt(SimdMachine.SCRATCH + 24, 0x1_0000);
        assertThat(cpu.faultOf(cpu.start(), 0x0F, 0xAE, 0x0B)).isEqualTo(13);
        assertThat(cpu.faultOf(cpu.start(), 0x0F, 0xAE, 0x43, 0x08)).isEqualTo(13);
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_TS, 0, 0, 0), 0x0F, 0xAE, 0x03)).isEqualTo(7);
        assertThat(cpu.faultOf(cpu.withControl(ControlRegisters.CR0_EM, 0, 0, 0), 0x0F, 0xAE, 0x03)).isEqualTo(7);
    }

    @Test
    void fnsaveStoresEnvironmentAndRegistersThenReinitializes() {
        X86State after = cpu.run(then(TWO_VALUES, 0xDD, 0x33, // fnsave [rbx]
                0xD9, 0xE5, 0xDF, 0xE0,                        // fxam; fnstsw ax: empty
                0xDD, 0x23,                                    // frstor [rbx]
                0xDD, 0x9B, 0x00, 0x02, 0x00, 0x00));          // fstp qword [rbx+0x200]
        assertThat(doubleword(0)).isEqualTo(0xFFFF_037FL);
        assertThat(doubleword(4) & 0xFFFF).isEqualTo(6 << 11);
        assertThat(doubleword(8)).isEqualTo(0xFFFF_0FFFL);
        assertThat(doubleword(12)).isEqualTo(LongModeMachine.CODE + 4);
        assertThat(doubleword(16)).isEqualTo(8 | 0x1EBL << 16);
        assertThat(cpu.scratch(28)).isEqualTo(PI);
        assertThat(word(36)).isEqualTo(0x4000);
        assertThat(cpu.scratch(38)).isEqualTo(ONE);
        assertThat(word(46)).isEqualTo(0x3FFF);
        assertThat(after.get(Register.RAX) & (1 << 8 | 1 << 14)).isEqualTo(1 << 8 | 1 << 14);
        assertThat(Double.longBitsToDouble(cpu.scratch(0x200))).isEqualTo(Math.PI);
    }

    @Test
    void fnstenvMasksExceptionsAndFldenvRestoresTheControlWord() {
        cpu.machine.memory.writeShort(SimdMachine.SCRATCH + 0x1F0, (short) 0x0372);
        cpu.run(0xDB, 0xE3, 0xD9, 0xAB, 0xF0, 0x01, 0x00, 0x00, // fninit; fldcw [rbx+0x1F0]
                0xD9, 0x33,                                     // fnstenv [rbx]
                0xD9, 0xBB, 0x00, 0x01, 0x00, 0x00,             // fnstcw [rbx+0x100]
                0xD9, 0x23,                                     // fldenv [rbx]
                0xD9, 0xBB, 0x02, 0x01, 0x00, 0x00);            // fnstcw [rbx+0x102]
        assertThat(word(0)).isEqualTo(0x0372);
        assertThat(word(0x100)).isEqualTo(0x037F);
        assertThat(word(0x102)).isEqualTo(0x0372);
    }

    @Test
    void realModeEnvironmentsHoldLinearPointersAroundTheOpcode() {
        long code = 0x12340;
        long data = 0x20000;
        cpu.machine.memory.writeInt(data + 0x100, Float.floatToIntBits(1.0f));
        cpu.machine.write(code + 0x10,
                0xDB, 0xE3,                    // 10 fninit
                0xD9, 0x06, 0x00, 0x01,        // 12 fld dword [0x100]
                0xD9, 0x36, 0x00, 0x02,        // 16 fnstenv [0x200]   (14 bytes)
                0xD9, 0x26, 0x00, 0x02,        // 1A fldenv [0x200]
                0xD9, 0x36, 0x40, 0x02,        // 1E fnstenv [0x240]
                0x66, 0xD9, 0x36, 0x00, 0x03); // 22 fnstenv [0x300]   (28 bytes)
        Segment dataSegment = Segment.realMode((int) (data >>> 4), false);
        SegmentRegisters reset = SegmentRegisters.reset();
        SegmentRegisters segments = new SegmentRegisters(Segment.realMode((int) (code >>> 4), true), dataSegment,
                dataSegment, dataSegment, dataSegment, dataSegment, reset.tr(), reset.ldtr());
        cpu.machine.runner.forgetCode();
        assertThat(cpu.machine.runner.run(X86State.reset().withSegments(segments).with(Register.RIP, 0x10), 100, 0x27))
                .isInstanceOf(InstructionRunner.Completed.class);

        GuestMemory memory = cpu.machine.memory;
        long fld = code + 0x12;
        long operand = data + 0x100;
        int opcode = 0x106; // D9 /0 with ModRM 06
        assertThat(memory.readShort(data + 0x200) & 0xFFFF).isEqualTo(0x037F);
        assertThat(memory.readShort(data + 0x206) & 0xFFFF).as("FIP 15:0").isEqualTo(fld & 0xFFFF);
        assertThat(memory.readShort(data + 0x208) & 0xFFFF).as("FIP 19:16, FOP").isEqualTo((fld >>> 16) << 12 | opcode);
        assertThat(memory.readShort(data + 0x20A) & 0xFFFF).as("FDP 15:0").isEqualTo(operand & 0xFFFF);
        assertThat(memory.readShort(data + 0x20C) & 0xFFFF).as("FDP 19:16").isEqualTo((operand >>> 16) << 12);
        for (int n = 0; n < 14; n += 2) {
            assertThat(memory.readShort(data + 0x240 + n)).as("FLDENV and FNSTENV again, word %d", n / 2)
                    .isEqualTo(memory.readShort(data + 0x200 + n));
        }
        assertThat(memory.readInt(data + 0x30C) & 0xFFFF_FFFFL).isEqualTo(0xFFFF_0000L | (fld & 0xFFFF));
        assertThat(memory.readInt(data + 0x310) & 0xFFFF_FFFFL).isEqualTo((fld >>> 16) << 12 | opcode);
        assertThat(memory.readInt(data + 0x314) & 0xFFFF_FFFFL).isEqualTo(0xFFFF_0000L | (operand & 0xFFFF));
        assertThat(memory.readInt(data + 0x318) & 0xFFFF_FFFFL).isEqualTo((operand >>> 16) << 12);
    }

    @Test
    void cpuidAdvertisesTheFpuMmxFxsrSseAndSse2AndNothingNewer() {
        X86State after = cpu.run(0xB8, 0x01, 0x00, 0x00, 0x00, 0x0F, 0xA2); // mov eax, 1; cpuid
        long edx = after.get(Register.RDX);
        for (int bit : new int[] {0, 23, 24, 25, 26}) {
            assertThat(edx & (1L << bit)).as("EDX bit %d", bit).isNotZero();
        }
        long ecx = after.get(Register.RCX);
        for (int bit : new int[] {0, 9, 12, 19, 20, 26, 27, 28}) {
            assertThat(ecx & (1L << bit)).as("ECX bit %d", bit).isZero();
        }
    }
}
