package dev.machina.cpu.translate;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.cpu.fault.Vector;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hot loops run through the translating tier end exactly as interpreted, instruction counts
 * included: branches inside a region, calls and returns (from region to region without the
 * dispatcher), stack and memory operands, code
 * rewritten inside a running region, a fault in translated code, accesses that miss the TLB, code
 * after an instruction across a page boundary, and instructions a region has the interpreter run
 * in place (a long REP that yields, a faulting DIV).
 */
class TranslatorTest {
    private static final long ITERATIONS = 1_000;

    /** Runs {@code code} from {@code start} on an interpreting and on a translating machine; both outcomes. */
    private static InstructionRunner.Outcome[] runBoth(X86State start, int... code) {
        InstructionRunner.Outcome[] outcomes = new InstructionRunner.Outcome[2];
        for (int tier = 0; tier < 2; tier++) {
            boolean translating = tier == 1;
            try (LongModeMachine machine = new LongModeMachine()) {
                if (translating) {
                    machine.runner.translate(2);
                }
                outcomes[tier] = machine.run(start, Long.MAX_VALUE, code);
                assertThat(machine.runner.translatedRegions() > 0).as("regions translated").isEqualTo(translating);
            }
        }
        return outcomes;
    }

    /** Runs {@code code} from {@code start} through the translating tier; how many dispatches it took. */
    private static long translatedDispatches(X86State start, int... code) {
        try (LongModeMachine machine = new LongModeMachine()) {
            machine.runner.translate(2);
            machine.run(start, Long.MAX_VALUE, code);
            return machine.runner.dispatches();
        }
    }

    @Test
    void aLoopWithBranchesCallsAndMemoryEndsAsInterpreted() {
        int[] code = {
            0x31, 0xC9, 0x31, 0xC0, 0x31, 0xDB,       //       xor ecx, ecx; xor eax, eax; xor ebx, ebx
            0x49, 0x89, 0xC8,                         // loop: mov r8, rcx
            0x49, 0x81, 0xE0, 0xFF, 0x00, 0x00, 0x00, //       and r8, 0xff
            0x4A, 0x89, 0x04, 0xC7,                   //       mov [rdi + r8*8], rax
            0x48, 0x01, 0xC8,                         //       add rax, rcx
            0xF6, 0xC1, 0x01,                         //       test cl, 1
            0x74, 0x07,                               //       jz even
            0x48, 0x31, 0xC2,                         //       xor rdx, rax
            0x4A, 0x03, 0x1C, 0xC7,                   //       add rbx, [rdi + r8*8]
            0x50,                                     // even: push rax
            0xE8, 0x0B, 0x00, 0x00, 0x00,             //       call twist
            0x41, 0x59,                               //       pop r9
            0x48, 0xFF, 0xC1,                         //       inc rcx
            0x48, 0x39, 0xF1,                         //       cmp rcx, rsi
            0x75, 0xD3,                               //       jne loop
            0xF4,                                     //       hlt
            0x48, 0xC1, 0xC2, 0x03,                   // twist: rol rdx, 3
            0x48, 0x29, 0xCA,                         //       sub rdx, rcx
            0xC3,                                     //       ret
        };
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4)
                .with(Register.RDI, LongModeMachine.DATA).with(Register.RSI, ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[0]).isInstanceOfSatisfying(InstructionRunner.Completed.class, interpreted -> {
            assertThat(interpreted.halted()).isTrue();
            assertThat(interpreted.state().get(Register.RCX)).isEqualTo(ITERATIONS);
            assertThat(interpreted.state().get(Register.RAX)).isEqualTo(ITERATIONS * (ITERATIONS - 1) / 2);
        });
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
        // The call and the return leave their regions; the next region runs without the dispatcher.
        assertThat(translatedDispatches(start, code)).isLessThan(ITERATIONS / 10);
    }

    @Test
    void codeRewrittenByTheRegionItselfTakesEffectAtOnce() {
        int[] code = {
            0x31, 0xC9, 0x31, 0xDB,                   //          xor ecx, ecx; xor ebx, ebx
            0x89, 0x0D, 0x01, 0x00, 0x00, 0x00,       // loop:    mov [rip + patched + 1], ecx
            0xB8, 0x00, 0x00, 0x00, 0x00,             // patched: mov eax, 0 (the immediate is the one just stored)
            0x48, 0x01, 0xC3,                         //          add rbx, rax
            0xFF, 0xC1,                               //          inc ecx
            0x39, 0xF1,                               //          cmp ecx, esi
            0x75, 0xEC,                               //          jne loop
            0xF4,                                     //          hlt
        };
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4).with(Register.RSI, ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[1]).isInstanceOfSatisfying(InstructionRunner.Completed.class, translated ->
                assertThat(translated.state().get(Register.RBX)).isEqualTo(ITERATIONS * (ITERATIONS - 1) / 2));
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
    }

    @Test
    void aFaultInTranslatedCodeLeavesTheStateBeforeTheFaultingInstruction() {
        int[] code = {
            0x48, 0x8B, 0x07,                         // loop: mov rax, [rdi]
            0x48, 0x01, 0xC3,                         //       add rbx, rax
            0x48, 0x83, 0xC7, 0x08,                   //       add rdi, 8
            0x48, 0xFF, 0xC1,                         //       inc rcx
            0xEB, 0xF1,                               //       jmp loop
        };
        long end = 4L << 20;
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4).with(Register.RDI, end - 8 * ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[1]).isInstanceOfSatisfying(InstructionRunner.Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(Vector.PF);
            assertThat(fault.faultAddress()).isEqualTo(end);
            assertThat(fault.state().get(Register.RIP)).isEqualTo(LongModeMachine.CODE);
            assertThat(fault.state().get(Register.RCX)).isEqualTo(ITERATIONS);
            assertThat(fault.executed()).isEqualTo(5 * ITERATIONS);
        });
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
    }

    @Test
    void accessesThatMissTheTlbWalkThePageTablesAndTheRegionGoesOn() {
        int[] code = {
            0x48, 0x8B, 0x07,                         // loop: mov rax, [rdi]
            0x48, 0x01, 0xC3,                         //       add rbx, rax
            0x48, 0x89, 0x8F, 0x00, 0x00, 0x20, 0x00, //       mov [rdi + 2 MiB], rcx (the same TLB entry as [rdi]: each access misses)
            0x48, 0x03, 0x9F, 0x00, 0x00, 0x20, 0x00, //       add rbx, [rdi + 2 MiB]
            0x48, 0xFF, 0xC1,                         //       inc rcx
            0x48, 0x39, 0xF1,                         //       cmp rcx, rsi
            0x75, 0xE4,                               //       jne loop
            0xF4,                                     //       hlt
        };
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4)
                .with(Register.RDI, LongModeMachine.DATA).with(Register.RSI, ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[1]).isInstanceOfSatisfying(InstructionRunner.Completed.class, translated ->
                assertThat(translated.state().get(Register.RBX)).isEqualTo(ITERATIONS * (ITERATIONS - 1) / 2));
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
        // Leaving the region at each miss would take the interpreter through every iteration's tail.
        assertThat(translatedDispatches(start, code)).isLessThan(ITERATIONS / 10);
    }

    @Test
    void codeAfterAnInstructionAcrossAPageBoundaryIsTranslatedToo() {
        int[] loop = {
            0x48, 0xFF, 0xC1,                         // loop: inc rcx (page offset 0xff8)
            0x48, 0x01, 0xCB,                         //       add rbx, rcx
            0x48, 0xB8, 0x88, 0x77, 0x66, 0x55,       //       mov rax, 0x1122334455667788 (across the page boundary)
            0x44, 0x33, 0x22, 0x11,
            0x48, 0x31, 0xC2,                         //       xor rdx, rax (the next page)
            0x48, 0x01, 0xCA,                         //       add rdx, rcx
            0x48, 0x39, 0xF1,                         //       cmp rcx, rsi
            0x0F, 0x85, 0xE1, 0xFF, 0xFF, 0xFF,       //       jne loop
            0xF4,                                     //       hlt
        };
        int loopOffset = 0xFF8;
        int[] code = new int[loopOffset + loop.length];
        Arrays.fill(code, 0xCC);
        int[] jump = {0xE9, 0xF3, 0x0F, 0x00, 0x00};    // jmp loop
        System.arraycopy(jump, 0, code, 0, jump.length);
        System.arraycopy(loop, 0, code, loopOffset, loop.length);
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4).with(Register.RSI, ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
        // Interpreted, the four instructions on the second page would take four dispatches each time round.
        assertThat(translatedDispatches(start, code)).isLessThan(4 * ITERATIONS);
    }

    @Test
    void aLongRepRunInPlaceCompletesBeforeTheCodeAfterItRuns() {
        int[] code = {
            0x31, 0xDB, 0x45, 0x31, 0xC0,             //       xor ebx, ebx; xor r8d, r8d
            0x48, 0x89, 0xD7,                         // loop: mov rdi, rdx
            0xB9, 0x88, 0x13, 0x00, 0x00,             //       mov ecx, 5000 (more elements than a REP runs before it yields)
            0x4C, 0x89, 0xC0,                         //       mov rax, r8
            0xF3, 0x48, 0xAB,                         //       rep stosq
            0x48, 0x03, 0x9A, 0x38, 0x9C, 0x00, 0x00, //       add rbx, [rdx + 4999 * 8]
            0x49, 0xFF, 0xC0,                         //       inc r8
            0x4C, 0x39, 0xC6,                         //       cmp rsi, r8
            0x75, 0xE3,                               //       jne loop
            0xF4,                                     //       hlt
        };
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4)
                .with(Register.RDX, LongModeMachine.DATA).with(Register.RSI, ITERATIONS);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[1]).isInstanceOfSatisfying(InstructionRunner.Completed.class, translated ->
                assertThat(translated.state().get(Register.RBX)).isEqualTo(ITERATIONS * (ITERATIONS - 1) / 2));
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
    }

    @Test
    void aFaultOfAnInstructionRunInPlaceLeavesTheStateBeforeIt() {
        int[] code = {
            0x45, 0x31, 0xC0,                         //       xor r8d, r8d
            0x41, 0xB9, 0xBC, 0x02, 0x00, 0x00,       // loop: mov r9d, 700
            0x4D, 0x29, 0xC1,                         //       sub r9, r8
            0x4C, 0x89, 0xC0,                         //       mov rax, r8
            0x31, 0xD2,                               //       xor edx, edx
            0x49, 0xF7, 0xF1,                         //       div r9 (by zero when r8 reaches 700)
            0x48, 0x01, 0xC3,                         //       add rbx, rax
            0x49, 0xFF, 0xC0,                         //       inc r8
            0xEB, 0xE7,                               //       jmp loop
        };
        X86State start = LongModeMachine.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4);
        InstructionRunner.Outcome[] outcomes = runBoth(start, code);

        assertThat(outcomes[1]).isInstanceOfSatisfying(InstructionRunner.Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(Vector.DE);
            assertThat(fault.state().get(Register.RIP)).isEqualTo(LongModeMachine.CODE + 17);
            assertThat(fault.state().get(Register.R8)).isEqualTo(700);
            assertThat(fault.executed()).isEqualTo(1 + 700 * 8 + 4);
        });
        assertThat(outcomes[1]).isEqualTo(outcomes[0]);
    }
}
