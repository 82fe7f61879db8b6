package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Locked read-modify-writes of different families on one word from two cores at once: none may
 * lose the other's update. (A LOCK BTS made under the bus lock alone once lost the compare-and-set
 * of a LOCK ADD in between, and Linux's queued spinlocks deadlocked on it.)
 */
class LockedAtomicityTest {
    private static final int ROUNDS = 2_000_000;
    private static final long SECOND_CODE = LongModeMachine.CODE + 0x100;

    /** mov rcx, ROUNDS; 1: lock bts dword [rdi], 0; lock btr dword [rdi], 0; dec rcx; jnz 1b */
    private static final int[] TOGGLE_BIT_ZERO = {0x48, 0xC7, 0xC1, ROUNDS & 0xFF, (ROUNDS >> 8) & 0xFF, ROUNDS >> 16, 0,
        0xF0, 0x0F, 0xBA, 0x2F, 0x00, 0xF0, 0x0F, 0xBA, 0x37, 0x00, 0x48, 0xFF, 0xC9, 0x75, 0xF1};
    /** mov rcx, ROUNDS; 1: lock add dword [rdi], 2; dec rcx; jnz 1b */
    private static final int[] ADD_TWO = {0x48, 0xC7, 0xC1, ROUNDS & 0xFF, (ROUNDS >> 8) & 0xFF, ROUNDS >> 16, 0,
        0xF0, 0x83, 0x07, 0x02, 0x48, 0xFF, 0xC9, 0x75, 0xF7};

    @Test
    void lockedBitTogglesAndLockedAddsOnOneWordLoseNothing() throws Exception {
        try (LongModeMachine machine = new LongModeMachine()) {
            byte[] second = new byte[ADD_TWO.length];
            for (int i = 0; i < second.length; i++) {
                second[i] = (byte) ADD_TWO[i];
            }
            machine.memory.write(SECOND_CODE, second, 0, second.length);
            InstructionRunner secondCore = new InstructionRunner(machine.memory);
            X86State adder = LongModeMachine.longMode(SECOND_CODE, LongModeMachine.STACK - 0x1000, LongModeMachine.PML4)
                    .with(Register.RDI, LongModeMachine.DATA);

            CompletableFuture<InstructionRunner.Outcome> adding = CompletableFuture.supplyAsync(
                    () -> secondCore.run(adder, Long.MAX_VALUE, SECOND_CODE + ADD_TWO.length));
            InstructionRunner.Outcome toggling = machine.run(machine.start().with(Register.RDI, LongModeMachine.DATA),
                    Long.MAX_VALUE, TOGGLE_BIT_ZERO);

            assertThat(toggling).isInstanceOf(InstructionRunner.Completed.class);
            assertThat(adding.get()).isInstanceOf(InstructionRunner.Completed.class);
            assertThat(machine.memory.readInt(LongModeMachine.DATA)).isEqualTo(2 * ROUNDS);
        }
    }
}
