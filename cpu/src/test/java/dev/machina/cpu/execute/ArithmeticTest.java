package dev.machina.cpu.execute;

import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Arithmetic instructions on hand-encoded code; expected values worked out by hand. */
class ArithmeticTest {
    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    private X86State run(X86State state, int... code) {
        return machine.completes(state, code);
    }

    private static long arithmeticFlags(X86State state) {
        return state.get(Register.RFLAGS) & Flags.ARITHMETIC;
    }

    @Test
    void addWrapsAndSetsCarryZeroParityAdjust() {
        // mov eax, 0xFFFFFFFF ; add eax, 1
        X86State after = run(machine.start(), 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 0x83, 0xC0, 0x01);
        assertThat(after.get(Register.RAX)).isZero();
        assertThat(arithmeticFlags(after)).isEqualTo(Flags.CF | Flags.ZF | Flags.PF | Flags.AF);
    }

    @Test
    void signedOverflowOnAddOfTwoPositives() {
        // mov al, 0x7F ; add al, 1  -> 0x80: OF, SF, AF; PF clear (one bit set)
        X86State after = run(machine.start(), 0xB0, 0x7F, 0x04, 0x01);
        assertThat(after.get(Register.RAX) & 0xFF).isEqualTo(0x80);
        assertThat(arithmeticFlags(after)).isEqualTo(Flags.OF | Flags.SF | Flags.AF);
    }

    @Test
    void subtractWithBorrowChainsThroughCarry() {
        // xor eax,eax ; stc ; sbb rax, 0  -> -1 with CF set (borrow), SF, PF (0xFF has 8 bits), AF
        X86State after = run(machine.start(), 0x31, 0xC0, 0xF9, 0x48, 0x83, 0xD8, 0x00);
        assertThat(after.get(Register.RAX)).isEqualTo(-1L);
        assertThat(arithmeticFlags(after)).isEqualTo(Flags.CF | Flags.SF | Flags.PF | Flags.AF);
    }

    @Test
    void incKeepsCarry() {
        // stc ; mov ecx, 41 ; inc ecx  -> 42, CF still set
        X86State after = run(machine.start(), 0xF9, 0xB9, 41, 0, 0, 0, 0xFF, 0xC1);
        assertThat(after.get(Register.RCX)).isEqualTo(42);
        assertThat(arithmeticFlags(after) & Flags.CF).isEqualTo(Flags.CF);
    }

    @Test
    void thirtyTwoBitWritesZeroExtendButSixteenBitWritesMerge() {
        X86State start = machine.start().with(Register.RAX, 0x1122_3344_5566_7788L).with(Register.RBX, 0x1122_3344_5566_7788L);
        // mov eax, eax ; mov bx, 0x1234
        X86State after = run(start, 0x89, 0xC0, 0x66, 0xBB, 0x34, 0x12);
        assertThat(after.get(Register.RAX)).isEqualTo(0x5566_7788L);
        assertThat(after.get(Register.RBX)).isEqualTo(0x1122_3344_5566_1234L);
    }

    @Test
    void unsignedMultiplyOf64BitValuesFillsRdx() {
        // mul rbx with rax = 2^63, rbx = 4 -> rdx:rax = 2^65 -> rdx 2, rax 0, CF=OF=1
        X86State start = machine.start().with(Register.RAX, Long.MIN_VALUE).with(Register.RBX, 4);
        X86State after = run(start, 0x48, 0xF7, 0xE3);
        assertThat(after.get(Register.RDX)).isEqualTo(2);
        assertThat(after.get(Register.RAX)).isZero();
        assertThat(arithmeticFlags(after) & (Flags.CF | Flags.OF)).isEqualTo(Flags.CF | Flags.OF);
    }

    @Test
    void unsigned128By64DivisionGivesQuotientAndRemainder() {
        // rdx:rax = 1:5 = 2^64 + 5 ; div rcx with rcx = 3 -> quotient 0x5555555555555557, remainder 0
        X86State start = machine.start().with(Register.RDX, 1).with(Register.RAX, 5).with(Register.RCX, 3);
        X86State after = run(start, 0x48, 0xF7, 0xF1);
        assertThat(after.get(Register.RAX)).isEqualTo(0x5555_5555_5555_5557L);
        assertThat(after.get(Register.RDX)).isZero();
    }

    @Test
    void signedDivisionTruncatesTowardZero() {
        // eax = -7, cdq, ecx = 2, idiv ecx -> -3 remainder -1
        X86State start = machine.start().with(Register.RAX, 0xFFFF_FFF9L).with(Register.RCX, 2);
        X86State after = run(start, 0x99, 0xF7, 0xF9);
        assertThat(after.get(Register.RAX)).isEqualTo(0xFFFF_FFFDL);
        assertThat(after.get(Register.RDX)).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void divideByZeroRaisesDivideError() {
        // xor ecx, ecx ; div ecx
        var outcome = machine.run(machine.start(), 0x31, 0xC9, 0xF7, 0xF1);
        assertThat(outcome).isInstanceOfSatisfying(dev.machina.cpu.InstructionRunner.Faulted.class, f -> {
            assertThat(f.vector()).isZero();
            assertThat(f.executed()).isEqualTo(1);
            assertThat(f.state().get(Register.RIP)).isEqualTo(LongModeMachine.CODE + 2);
        });
    }

    @Test
    void lockedCompareExchangeSwapsOnlyOnMatch() {
        // mov qword [0x40000], rbx... via: lock cmpxchg [rdi], rcx with rax matching
        machine.memory.writeLong(LongModeMachine.DATA, 77);
        X86State start = machine.start().with(Register.RDI, LongModeMachine.DATA).with(Register.RAX, 77).with(Register.RCX, 99);
        X86State after = run(start, 0xF0, 0x48, 0x0F, 0xB1, 0x0F);
        assertThat(machine.memory.readLong(LongModeMachine.DATA)).isEqualTo(99);
        assertThat(arithmeticFlags(after) & Flags.ZF).isEqualTo(Flags.ZF);
        // A second time the memory holds 99, not 77: RAX receives 99 and memory is untouched.
        X86State again = run(after.with(Register.RIP, LongModeMachine.CODE).with(Register.RCX, 5), 0xF0, 0x48, 0x0F, 0xB1, 0x0F);
        assertThat(again.get(Register.RAX)).isEqualTo(99);
        assertThat(machine.memory.readLong(LongModeMachine.DATA)).isEqualTo(99);
        assertThat(arithmeticFlags(again) & Flags.ZF).isZero();
    }

    @Test
    void loopWithConditionalJumpSumsOneToTen() {
        // xor eax,eax ; mov ecx,10 ; L: add eax,ecx ; dec ecx ; jnz L
        X86State after = run(machine.start(), 0x31, 0xC0, 0xB9, 10, 0, 0, 0, 0x01, 0xC8, 0xFF, 0xC9, 0x75, 0xFA);
        assertThat(after.get(Register.RAX)).isEqualTo(55);
        assertThat(after.get(Register.RCX)).isZero();
    }
}
