package dev.machina.cpu.execute;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.state.Flags;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Stack instructions on hand-encoded code. */
class StackTest {
    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    @Test
    void enterWhoseFrameLeavesTheStackFaultsBeforeChangingAnything() {
        // enter 0x2000, 0 with RSP = 0x1000: the final RSP is below address 0, which is not mapped
        X86State start = machine.start().with(Register.RSP, 0x1000).with(Register.RBP, 0x1234);
        InstructionRunner.Outcome outcome = machine.run(start, 0xC8, 0x00, 0x20, 0x00);
        assertThat(outcome).isInstanceOfSatisfying(InstructionRunner.Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(Vector.PF);
            assertThat(fault.state().get(Register.RSP)).isEqualTo(0x1000);
            assertThat(fault.state().get(Register.RBP)).isEqualTo(0x1234);
        });
    }

    @Test
    void enterWithNestingCopiesTheOuterFramePointers() {
        // enter 0x10, 3: pushes RBP, two frame pointers copied from [RBP-8] and [RBP-16], then the new frame
        long rsp = LongModeMachine.STACK;
        long rbp = LongModeMachine.DATA + 0x100;
        machine.memory.writeLong(rbp - 8, 0x1111);
        machine.memory.writeLong(rbp - 16, 0x2222);
        X86State after = machine.completes(machine.start().with(Register.RSP, rsp).with(Register.RBP, rbp), 0xC8, 0x10, 0x00, 0x03);
        assertThat(machine.memory.readLong(rsp - 8)).isEqualTo(rbp);
        assertThat(machine.memory.readLong(rsp - 16)).isEqualTo(0x1111);
        assertThat(machine.memory.readLong(rsp - 24)).isEqualTo(0x2222);
        assertThat(machine.memory.readLong(rsp - 32)).isEqualTo(rsp - 8);
        assertThat(after.get(Register.RBP)).isEqualTo(rsp - 8);
        assertThat(after.get(Register.RSP)).isEqualTo(rsp - 32 - 0x10);
    }

    @Test
    void rexWOverridesTheOperandSizePrefixOfAPush() {
        // 66 48 50: push rax, 64-bit despite the 66
        long rsp = LongModeMachine.STACK;
        X86State after = machine.completes(machine.start().with(Register.RSP, rsp).with(Register.RAX, 0x1122_3344_5566_7788L), 0x66, 0x48, 0x50);
        assertThat(after.get(Register.RSP)).isEqualTo(rsp - 8);
        assertThat(machine.memory.readLong(rsp - 8)).isEqualTo(0x1122_3344_5566_7788L);
    }

    @Test
    void popfClearsResumeFlagWhateverTheImageHolds() {
        long rsp = LongModeMachine.STACK - 8;
        machine.memory.writeLong(rsp, Flags.RF | Flags.CF | Flags.FIXED);
        X86State after = machine.completes(machine.start().with(Register.RSP, rsp), 0x9D);
        assertThat(after.get(Register.RFLAGS) & (Flags.RF | Flags.CF)).isEqualTo(Flags.CF);
    }
}
