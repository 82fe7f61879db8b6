package dev.machina.cpu.execute;

import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ShiftsAndBitsTest {
    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    private static long flags(X86State state, long which) {
        return state.get(Register.RFLAGS) & which;
    }

    @Test
    void shlByOneSetsOverflowWhenTheSignChanges() {
        // shl eax, 1 with 0x40000000 -> 0x80000000: CF 0, OF 1, SF 1, PF 1 (low byte 0)
        X86State after = machine.completes(machine.start().with(Register.RAX, 0x4000_0000L), 0xD1, 0xE0);
        assertThat(after.get(Register.RAX)).isEqualTo(0x8000_0000L);
        assertThat(flags(after, Flags.CF | Flags.OF | Flags.SF | Flags.ZF | Flags.PF)).isEqualTo(Flags.OF | Flags.SF | Flags.PF);
    }

    @Test
    void sarKeepsTheSignAndShiftsOutIntoCarry() {
        // mov al, 0x81 ; sar al, 1 -> 0xC0, CF 1
        X86State after = machine.completes(machine.start(), 0xB0, 0x81, 0xD0, 0xF8);
        assertThat(after.get(Register.RAX) & 0xFF).isEqualTo(0xC0);
        assertThat(flags(after, Flags.CF | Flags.OF | Flags.SF)).isEqualTo(Flags.CF | Flags.SF);
    }

    @Test
    void rolRotatesTheTopBitIntoBitZeroAndCarry() {
        // mov al, 0x81 ; rol al, 1 -> 0x03, CF 1, OF = MSB ^ CF = 1
        X86State after = machine.completes(machine.start(), 0xB0, 0x81, 0xD0, 0xC0);
        assertThat(after.get(Register.RAX) & 0xFF).isEqualTo(0x03);
        assertThat(flags(after, Flags.CF | Flags.OF)).isEqualTo(Flags.CF | Flags.OF);
    }

    @Test
    void shldShiftsInTheSourcesTopBits() {
        // shld eax, ebx, 8
        X86State start = machine.start().with(Register.RAX, 0x1234_5678L).with(Register.RBX, 0x9ABC_DEF0L);
        X86State after = machine.completes(start, 0x0F, 0xA4, 0xD8, 0x08);
        assertThat(after.get(Register.RAX)).isEqualTo(0x3456_789AL);
        assertThat(flags(after, Flags.CF)).isZero();
    }

    @Test
    void bitScansFindTheLowestAndHighestSetBits() {
        X86State start = machine.start().with(Register.RBX, 0x0000_1000_0000_0080L);
        assertThat(machine.completes(start, 0x48, 0x0F, 0xBD, 0xC3).get(Register.RAX)).isEqualTo(44);
        assertThat(machine.completes(start, 0x48, 0x0F, 0xBC, 0xC3).get(Register.RAX)).isEqualTo(7);
        assertThat(machine.completes(start, 0xF3, 0x48, 0x0F, 0xB8, 0xC3).get(Register.RAX)).isEqualTo(2);
    }

    @Test
    void repBsfIsBsfOnACoreWithoutBmi1() {
        // rep bsf rax, rbx (F3 0F BC, TZCNT where BMI1 exists): of 0 it leaves RAX and sets ZF, as BSF does
        X86State zero = machine.start().with(Register.RAX, 1234).with(Register.RBX, 0);
        X86State after = machine.completes(zero, 0xF3, 0x48, 0x0F, 0xBC, 0xC3);
        assertThat(after.get(Register.RAX)).isEqualTo(1234);
        assertThat(flags(after, Flags.ZF | Flags.CF)).isEqualTo(Flags.ZF);
        X86State some = machine.start().with(Register.RBX, 0x80);
        assertThat(flags(machine.completes(some, 0xF3, 0x48, 0x0F, 0xBC, 0xC3), Flags.ZF)).isZero();
    }

    @Test
    void bswapReversesTheBytesOfADoubleword() {
        X86State after = machine.completes(machine.start().with(Register.RAX, 0xFFFF_FFFF_1122_3344L), 0x0F, 0xC8);
        assertThat(after.get(Register.RAX)).isEqualTo(0x4433_2211L);
    }

    @Test
    void btWithARegisterOffsetReachesPastTheAddressedDoubleword() {
        machine.memory.writeInt(LongModeMachine.DATA + 8, 0x8);
        // bt dword [rdi], ecx with ecx = 67: doubleword 2, bit 3
        X86State start = machine.start().with(Register.RDI, LongModeMachine.DATA).with(Register.RCX, 67);
        X86State after = machine.completes(start, 0x0F, 0xA3, 0x0F);
        assertThat(flags(after, Flags.CF)).isEqualTo(Flags.CF);
    }
}
