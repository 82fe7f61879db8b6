package dev.machina.cpu.execute;

import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class StringsTest {
    private static final long DATA = LongModeMachine.DATA;

    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    private void hello() {
        byte[] text = "hello".getBytes(StandardCharsets.US_ASCII);
        machine.memory.write(DATA, text, 0, text.length);
    }

    @Test
    void repMovsbCopiesAndAdvancesBothPointers() {
        hello();
        X86State start = machine.start().with(Register.RSI, DATA).with(Register.RDI, DATA + 0x100).with(Register.RCX, 5);
        X86State after = machine.completes(start, 0xF3, 0xA4);
        byte[] copy = new byte[5];
        machine.memory.read(DATA + 0x100, copy, 0, 5);
        assertThat(new String(copy, StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(after.get(Register.RCX)).isZero();
        assertThat(after.get(Register.RSI)).isEqualTo(DATA + 5);
        assertThat(after.get(Register.RDI)).isEqualTo(DATA + 0x105);
    }

    @Test
    void repStosqFillsQuadwords() {
        X86State start = machine.start().with(Register.RAX, 0x0101_0101_0101_0101L).with(Register.RDI, DATA + 0x200).with(Register.RCX, 3);
        X86State after = machine.completes(start, 0xF3, 0x48, 0xAB);
        assertThat(machine.memory.readLong(DATA + 0x210)).isEqualTo(0x0101_0101_0101_0101L);
        assertThat(machine.memory.readLong(DATA + 0x218)).isZero();
        assertThat(after.get(Register.RDI)).isEqualTo(DATA + 0x218);
    }

    @Test
    void repneScasbStopsAfterTheFirstMatch() {
        hello();
        X86State start = machine.start().with(Register.RAX, 'l').with(Register.RDI, DATA).with(Register.RCX, 5);
        X86State after = machine.completes(start, 0xF2, 0xAE);
        assertThat(after.get(Register.RDI)).isEqualTo(DATA + 3);
        assertThat(after.get(Register.RCX)).isEqualTo(2);
        assertThat(after.get(Register.RFLAGS) & Flags.ZF).isEqualTo(Flags.ZF);
    }

    @Test
    void lodsbWithTheDirectionFlagSetWalksBackwards() {
        hello();
        // std ; lodsb ; lodsb  from the 'o' -> al = 'l', rsi = DATA + 2
        X86State after = machine.completes(machine.start().with(Register.RSI, DATA + 4), 0xFD, 0xAC, 0xAC);
        assertThat(after.get(Register.RAX) & 0xFF).isEqualTo('l');
        assertThat(after.get(Register.RSI)).isEqualTo(DATA + 2);
    }
}
