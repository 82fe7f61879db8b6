package dev.machina.cpu.execute;

import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Random;

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

    /**
     * Long REP MOVS and REP STOS, which move whole runs of elements per page, leave memory and
     * registers as element-by-element copying would: across pages, with the destination just
     * after the source (each byte then copies one written before it) and just before it.
     */
    @ParameterizedTest(name = "destination at source {0}")
    @ValueSource(ints = {0x3003, 3, -5})
    void longRepMovsbCopiesAsByteByByteGoingUp(int distance) {
        int length = 10_000;
        long source = DATA + 0x123;
        long destination = source + distance;
        byte[] expected = new byte[0x6000];
        new Random(7).nextBytes(expected);
        machine.memory.write(DATA, expected, 0, expected.length);
        for (int k = 0; k < length; k++) {
            expected[(int) (destination - DATA) + k] = expected[(int) (source - DATA) + k];
        }
        X86State start = machine.start().with(Register.RSI, source).with(Register.RDI, destination).with(Register.RCX, length);

        X86State after = machine.completes(start, 0xF3, 0xA4);

        byte[] memory = new byte[expected.length];
        machine.memory.read(DATA, memory, 0, memory.length);
        assertThat(memory).isEqualTo(expected);
        assertThat(after.get(Register.RCX)).isZero();
        assertThat(after.get(Register.RSI)).isEqualTo(source + length);
        assertThat(after.get(Register.RDI)).isEqualTo(destination + length);
    }

    @ParameterizedTest(name = "{0}-byte elements")
    @ValueSource(ints = {1, 2, 4, 8})
    void longRepStosFillsPagesWithTheAccumulator(int size) {
        long value = 0x1122_3344_5566_7788L;
        int count = 3_000;
        long destination = DATA + 0x7FD;
        int[] prefixes = switch (size) {
            case 1 -> new int[] {0xF3, 0xAA};
            case 2 -> new int[] {0x66, 0xF3, 0xAB};
            case 4 -> new int[] {0xF3, 0xAB};
            default -> new int[] {0xF3, 0x48, 0xAB};
        };
        X86State start = machine.start().with(Register.RAX, value).with(Register.RDI, destination).with(Register.RCX, count);

        X86State after = machine.completes(start, prefixes);

        for (int k = 0; k < count * size; k++) {
            assertThat(machine.memory.readByte(destination + k)).as("byte %d", k).isEqualTo((byte) (value >>> (8 * (k % size))));
        }
        assertThat(machine.memory.readByte(destination + (long) count * size)).as("the byte after").isZero();
        assertThat(after.get(Register.RDI)).isEqualTo(destination + (long) count * size);
        assertThat(after.get(Register.RCX)).isZero();
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
