package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.core.BusLock;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Locked read-modify-writes of different families on one word from two cores at once: none may
 * lose the other's update. (A LOCK BTS made under the bus lock alone once lost the compare-and-set
 * of a LOCK ADD in between, and Linux's queued spinlocks deadlocked on it; a LOCK CMPXCHG16B, which
 * only the bus lock can make, lost them until the bus lock waited for the compare-and-sets.)
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

    private static final int WIDE_ROUNDS = 300_000;
    /**
     * mov r8d, WIDE_ROUNDS; 1: mov rax, [rdi]; mov rdx, [rdi+8];
     * 2: lea rbx, [rax+1]; lea rcx, [rdx+1]; lock cmpxchg16b [rdi]; jnz 2b; dec r8; jnz 1b; hlt
     */
    private static final int[] INCREMENT_BOTH_HALVES = {0x41, 0xB8, 0xE0, 0x93, 0x04, 0x00, 0x48, 0x8B, 0x07,
        0x48, 0x8B, 0x57, 0x08, 0x48, 0x8D, 0x58, 0x01, 0x48, 0x8D, 0x4A, 0x01, 0xF0, 0x48, 0x0F, 0xC7, 0x0F,
        0x75, 0xF1, 0x49, 0xFF, 0xC8, 0x75, 0xE5, 0xF4};
    /** mov r8d, WIDE_ROUNDS; 1: lock add qword [rdi], 1; dec r8; jnz 1b; hlt */
    private static final int[] INCREMENT_LOW_HALF = {0x41, 0xB8, 0xE0, 0x93, 0x04, 0x00, 0xF0, 0x48, 0x83, 0x07, 0x01,
        0x49, 0xFF, 0xC8, 0x75, 0xF6, 0xF4};

    @Test
    void lockedCompareExchangeOfSixteenBytesAndLockedAddsLoseNothing() throws Exception {
        try (LongModeMachine machine = new LongModeMachine()) {
            BusLock busLock = new BusLock();
            InstructionRunner first = new InstructionRunner(machine.memory, busLock);
            InstructionRunner second = new InstructionRunner(machine.memory, busLock);
            load(machine, LongModeMachine.CODE, INCREMENT_BOTH_HALVES);
            load(machine, SECOND_CODE, INCREMENT_LOW_HALF);
            X86State wide = machine.start().with(Register.RDI, LongModeMachine.DATA);
            X86State narrow = LongModeMachine.longMode(SECOND_CODE, LongModeMachine.STACK - 0x1000, LongModeMachine.PML4)
                    .with(Register.RDI, LongModeMachine.DATA);

            CompletableFuture<InstructionRunner.Outcome> adding = CompletableFuture.supplyAsync(
                    () -> second.run(narrow, Long.MAX_VALUE, -1));
            InstructionRunner.Outcome exchanging = first.run(wide, Long.MAX_VALUE, -1);

            assertThat(exchanging).isInstanceOfSatisfying(InstructionRunner.Completed.class, c -> assertThat(c.halted()).isTrue());
            assertThat(adding.get()).isInstanceOfSatisfying(InstructionRunner.Completed.class, c -> assertThat(c.halted()).isTrue());
            assertThat(machine.memory.readLong(LongModeMachine.DATA)).as("low half").isEqualTo(2L * WIDE_ROUNDS);
            assertThat(machine.memory.readLong(LongModeMachine.DATA + 8)).as("high half").isEqualTo(WIDE_ROUNDS);
        }
    }

    private static void load(LongModeMachine machine, long address, int[] code) {
        byte[] bytes = new byte[code.length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) code[i];
        }
        machine.memory.write(address, bytes, 0, bytes.length);
    }

    @Test
    void lockedBitTogglesAndLockedAddsOnOneWordLoseNothing() throws Exception {
        try (LongModeMachine machine = new LongModeMachine()) {
            load(machine, SECOND_CODE, ADD_TWO);
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
