package dev.machina.cpu.core;

import dev.machina.cpu.InstructionRunner.Completed;
import dev.machina.cpu.InstructionRunner.Outcome;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.machina.cpu.LongModeMachine.CODE;
import static dev.machina.cpu.LongModeMachine.DATA;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * #DB as the SDM defines it, on hand-encoded guests whose handler records the frame: single-step,
 * instruction breakpoints with RF, data and I/O breakpoints, general detect, and MOV SS holding
 * the traps back for one instruction.
 */
class DebugExceptionTest {
    private static final long IDT = 0x700;
    private static final long HANDLER = 0x11000;
    private static final long TRAP_FLAG = 1L << 8;
    private static final long RESUME_FLAG = 1L << 16;
    private static final long BREAKPOINT_0 = 1;
    private static final long BREAKPOINT_1 = 1 << 1;
    private static final long BREAKPOINT_2 = 1 << 2;
    private static final long DETECTED_ACCESS = 1 << 13;
    private static final long SINGLE_STEP = 1 << 14;

    /** The handler's first instructions: R8 = the frame's RIP, R9 = its RFLAGS, RDX = DR6. */
    private static final int[] RECORD_FRAME = {
            0x4C, 0x8B, 0x04, 0x24,        // mov r8, [rsp]
            0x4C, 0x8B, 0x4C, 0x24, 0x10,  // mov r9, [rsp+16]
            0x0F, 0x21, 0xF2};             // mov rdx, dr6

    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    /** Runs {@code code} at {@link LongModeMachine#CODE} with #DB going to {@code handler}, until RIP reaches {@code stopAt}. */
    private X86State run(int[] handler, long stopAt, int... code) {
        machine.interruptGate(IDT, 1, HANDLER);
        machine.write(HANDLER, handler);
        machine.write(CODE, code);
        X86State start = machine.start().withIdt(new DescriptorTable(IDT, 16 * 32 - 1));
        machine.runner.forgetCode();
        Outcome outcome = machine.runner.runDelivering(start, 200, stopAt);
        assertThat(outcome).isInstanceOf(Completed.class);
        assertThat(outcome.state().get(Register.RIP)).as("reached the stop address").isEqualTo(stopAt);
        return outcome.state();
    }

    /** A handler that records the frame (see {@link #RECORD_FRAME}), counts itself in RBX, optionally sets RF in the frame, and returns. */
    private static int[] countingHandler(boolean resume) {
        int[] count = {0x48, 0xFF, 0xC3}; // inc rbx
        int[] setResume = resume ? new int[]{0x48, 0x81, 0x4C, 0x24, 0x10, 0x00, 0x00, 0x01, 0x00} : new int[0]; // or qword [rsp+16], RF
        int[] iret = {0x48, 0xCF}; // iretq
        int[] handler = new int[RECORD_FRAME.length + count.length + setResume.length + iret.length];
        System.arraycopy(RECORD_FRAME, 0, handler, 0, RECORD_FRAME.length);
        System.arraycopy(count, 0, handler, RECORD_FRAME.length, count.length);
        System.arraycopy(setResume, 0, handler, RECORD_FRAME.length + count.length, setResume.length);
        System.arraycopy(iret, 0, handler, handler.length - iret.length, iret.length);
        return handler;
    }

    private static int[] imm32(int opcode, long value) {
        return new int[]{opcode, (int) value & 0xFF, (int) (value >>> 8) & 0xFF, (int) (value >>> 16) & 0xFF, (int) (value >>> 24) & 0xFF};
    }

    private static int[] concat(int[]... parts) {
        int length = 0;
        for (int[] part : parts) {
            length += part.length;
        }
        int[] all = new int[length];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** mov eax, value; mov dr{number}, rax. */
    private static int[] loadDebugRegister(int number, long value) {
        return concat(imm32(0xB8, value), new int[]{0x0F, 0x23, 0xC0 | number << 3});
    }

    @Test
    void theTrapFlagRaisesADebugTrapAfterTheInstructionFollowingPopf() {
        X86State after = run(RECORD_FRAME, HANDLER + RECORD_FRAME.length,
                0x9C,                                            // pushfq
                0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00,  // or qword [rsp], TF
                0x9D,                                            // popfq: no trap after it, TF was clear as it began
                0x48, 0xFF, 0xC0,                                // inc rax: the trap follows
                0x90);                                           // nop

        assertThat(after.get(Register.RAX)).isEqualTo(1);
        assertThat(after.get(Register.R8)).as("the trap's return address").isEqualTo(CODE + 13);
        assertThat(after.get(Register.R9) & TRAP_FLAG).as("TF in the pushed RFLAGS").isNotZero();
        assertThat(after.get(Register.RFLAGS) & TRAP_FLAG).as("TF in the handler").isZero();
        assertThat(after.get(Register.RDX) & SINGLE_STEP).as("DR6.BS").isNotZero();
    }

    @Test
    void movSsHoldsTheSingleStepTrapUntilAfterTheNextInstruction() {
        X86State after = run(RECORD_FRAME, HANDLER + RECORD_FRAME.length, concat(
                imm32(0xB8, 0x10),                               // mov eax, 0x10 (the data selector)
                new int[]{0x9C,                                  // pushfq
                        0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00, // or qword [rsp], TF
                        0x9D,                                    // popfq
                        0x8E, 0xD0,                              // mov ss, ax: its trap waits
                        0x48, 0xFF, 0xC3,                        // inc rbx: the trap follows this one
                        0x90}));                                 // nop

        assertThat(after.get(Register.RBX)).isEqualTo(1);
        assertThat(after.get(Register.R8)).as("the trap's return address").isEqualTo(CODE + 20);
        assertThat(after.get(Register.RDX) & SINGLE_STEP).as("DR6.BS").isNotZero();
    }

    @Test
    void anInstructionBreakpointFaultsBeforeTheInstructionAndRfLetsItRunOnReturn() {
        long target = CODE + 16;
        X86State after = run(countingHandler(true), target + 4, concat(
                imm32(0xB8, target), new int[]{0x0F, 0x23, 0xC0}, // dr0 = target
                loadDebugRegister(7, 0x401),                      // L0, execute
                new int[]{0x48, 0xFF, 0xC1,                       // target: inc rcx
                        0x90}));                                  // nop

        assertThat(after.get(Register.RBX)).as("#DB taken once").isEqualTo(1);
        assertThat(after.get(Register.RCX)).as("the instruction ran once, after the handler").isEqualTo(1);
        assertThat(after.get(Register.R8)).as("the fault's return address").isEqualTo(target);
        assertThat(after.get(Register.R9) & RESUME_FLAG).as("RF pushed for an instruction breakpoint").isZero();
        assertThat(after.get(Register.RDX) & 0xF).as("DR6.B0-B3").isEqualTo(BREAKPOINT_0);
    }

    @Test
    void aDataWriteBreakpointTrapsAfterAWriteIntoItsRangeOnly() {
        long watched = DATA + 8;
        X86State after = run(countingHandler(false), CODE + 32, concat(
                imm32(0xBF, watched),                             // mov edi, watched
                new int[]{0x48, 0x89, 0xF8, 0x0F, 0x23, 0xC8},    // mov rax, rdi; mov dr1, rax
                loadDebugRegister(7, 0x00D0_0004L),               // L1, write, 4 bytes
                new int[]{0x66, 0x8B, 0x47, 0x02,                 // mov ax, [rdi+2]: a read, no trap
                        0x66, 0x89, 0x47, 0x0C,                   // mov [rdi+12], ax: outside, no trap
                        0x66, 0x89, 0x47, 0x02,                   // mov [rdi+2], ax: the trap follows
                        0x90}));                                  // nop

        assertThat(after.get(Register.RBX)).as("#DB taken once").isEqualTo(1);
        assertThat(after.get(Register.R8)).as("the trap's return address").isEqualTo(CODE + 31);
        assertThat(after.get(Register.RDX) & 0xF).as("DR6.B0-B3").isEqualTo(BREAKPOINT_1);
    }

    @Test
    void aDataBreakpointStopsARepeatedMoveAfterTheElementThatHitIt() {
        for (int i = 0; i < 16; i++) {
            machine.memory.writeByte(DATA + i, (byte) (i + 1));
        }
        long rep = CODE + 31;
        X86State after = run(countingHandler(false), rep + 3, concat(
                imm32(0xBE, DATA),                               // mov esi, DATA
                imm32(0xBF, DATA + 0x100),                       // mov edi, DATA + 0x100
                imm32(0xB9, 16),                                 // mov ecx, 16
                loadDebugRegister(0, DATA + 0x105),
                loadDebugRegister(7, 0x1_0401L),                 // L0, write, 1 byte
                new int[]{0xF3, 0xA4,                            // rep movsb
                        0x90}));                                 // nop

        assertThat(after.get(Register.RBX)).as("#DB taken once").isEqualTo(1);
        assertThat(after.get(Register.R8)).as("the trap returns into the repetition").isEqualTo(rep);
        assertThat(after.get(Register.R9) & RESUME_FLAG).as("RF pushed between iterations").isNotZero();
        assertThat(after.get(Register.RCX)).isZero();
        for (int i = 0; i < 16; i++) {
            assertThat(machine.memory.readByte(DATA + 0x100 + i)).as("byte %d copied", i).isEqualTo((byte) (i + 1));
        }
    }

    @Test
    void anIoBreakpointTrapsAfterAnOutWithDebuggingExtensions() {
        X86State after = run(RECORD_FRAME, HANDLER + RECORD_FRAME.length, concat(
                new int[]{0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x08, 0x0F, 0x22, 0xE0}, // cr4 |= DE
                loadDebugRegister(2, 0x80),
                loadDebugRegister(7, 0x0200_0410L),              // L2, I/O, 1 byte
                new int[]{0xE6, 0x80,                            // out 0x80, al
                        0x90}));                                 // nop

        assertThat(after.get(Register.R8)).as("the trap's return address").isEqualTo(CODE + 27);
        assertThat(after.get(Register.RDX) & 0xF).as("DR6.B0-B3").isEqualTo(BREAKPOINT_2);
    }

    @Test
    void generalDetectTurnsADebugRegisterAccessIntoAFault() {
        X86State after = run(concat(RECORD_FRAME, new int[]{0x0F, 0x21, 0xFE}), HANDLER + RECORD_FRAME.length + 3, concat( // + mov rsi, dr7
                loadDebugRegister(7, 0x2400),                    // GD
                new int[]{0x0F, 0x21, 0xC0,                      // mov rax, dr0: #DB before it
                        0x90}));

        assertThat(after.get(Register.R8)).as("the fault's return address").isEqualTo(CODE + 8);
        assertThat(after.get(Register.R9) & RESUME_FLAG).as("RF in a fault's frame").isNotZero();
        assertThat(after.get(Register.RDX) & DETECTED_ACCESS).as("DR6.BD").isNotZero();
        assertThat(after.get(Register.RSI) & 0x2000).as("DR7.GD in the handler").isZero();
    }
}
