package dev.machina.cpu.decode;

import dev.machina.cpu.InstructionRunner.Faulted;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Prefix and operand decoding, seen through execution, and self-modifying code through the code cache. */
class DecoderTest {
    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    @Test
    void byteRegisterFourIsAhWithoutRexAndSplWithIt() {
        X86State start = machine.start().with(Register.RAX, 0).with(Register.RSP, 0x8000);
        X86State after = machine.completes(start, 0xB4, 0x12, 0x40, 0xB4, 0x34); // mov ah, 0x12 ; mov spl, 0x34
        assertThat(after.get(Register.RAX)).isEqualTo(0x1200);
        assertThat(after.get(Register.RSP)).isEqualTo(0x8034);
    }

    @Test
    void rexBExtendsTheOpcodeRegisterAndRexWWidensTheImmediate() {
        // mov r9, 0x8877665544332211 (49 B9 imm64) ; xchg rax, r9 (49 91)
        X86State after = machine.completes(machine.start(),
                0x49, 0xB9, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x49, 0x91);
        assertThat(after.get(Register.RAX)).isEqualTo(0x8877_6655_4433_2211L);
        assertThat(after.get(Register.R9)).isZero();
    }

    @Test
    void ripRelativeAndScaledIndexAddressing() {
        machine.memory.writeLong(LongModeMachine.DATA + 3 * 8 + 16, 0x5151);
        machine.memory.writeLong(LongModeMachine.CODE + 0x100, 0x4242);
        X86State start = machine.start().with(Register.RBX, LongModeMachine.DATA).with(Register.RSI, 3);
        X86State after = machine.completes(start,
                0x48, 0x8B, 0x44, 0xF3, 0x10,                  // mov rax, [rbx + rsi*8 + 16]
                0x48, 0x8B, 0x0D, 0xF4, 0x00, 0x00, 0x00);     // mov rcx, [rip + 0xF4] -> CODE + 0x100
        assertThat(after.get(Register.RAX)).isEqualTo(0x5151);
        assertThat(after.get(Register.RCX)).isEqualTo(0x4242);
    }

    @Test
    void codeThatRewritesItsOwnImmediateRunsTheNewInstruction() {
        X86State start = machine.start().with(Register.RCX, 2).with(Register.RBX, 0);
        X86State after = machine.completes(start,
                0xB0, 0x01,                                     // L: mov al, 1
                0x00, 0xC3,                                     //    add bl, al
                0xC6, 0x05, 0xF6, 0xFF, 0xFF, 0xFF, 0x05,       //    mov byte [rip - 10], 5  (L's immediate)
                0xFF, 0xC9,                                     //    dec ecx
                0x75, 0xF1);                                    //    jnz L
        assertThat(after.get(Register.RBX) & 0xFF).as("1 the first time, 5 the second").isEqualTo(6);
    }

    @Test
    void anUnimplementedInstructionRaisesInvalidOpcode() {
        var outcome = machine.run(machine.start(), 0x66, 0x0F, 0x38, 0x00, 0xC1); // pshufb xmm0, xmm1 (SSE, not yet)
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, f -> assertThat(f.vector()).isEqualTo(6));
    }

    @Test
    void anInstructionLongerThanFifteenBytesRaisesGeneralProtection() {
        var outcome = machine.run(machine.start(), 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x05, 0x01, 0x00);
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, f -> assertThat(f.vector()).isEqualTo(13));
    }
}
