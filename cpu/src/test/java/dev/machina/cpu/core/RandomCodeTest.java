package dev.machina.cpu.core;

import dev.machina.cpu.InstructionRunner.Completed;
import dev.machina.cpu.InstructionRunner.Outcome;
import dev.machina.cpu.InstructionRunner.TripleFaulted;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A misbehaving guest cannot break the core: random bytes run as code, with exceptions delivered
 * through the IDT, end only as the architecture allows (completion, HLT or a triple fault), never
 * with a host exception. In ring 0 (64-bit, 32-bit protected and real mode) the random code may
 * wreck its own page tables and descriptor tables; in ring 3, under handlers that step over the
 * faulting byte, it runs on for thousands of instructions through every decoder path and fault.
 * Each case runs interpreted and, fewer times (a region is a class of its own), with the
 * translating tier taking code at every branch target it reaches.
 */
class RandomCodeTest {
    private static final long IDT = 0x30000;
    private static final long TSS = 0x31000;
    private static final long KERNEL_STACK = 0x70000;
    private static final long RANDOM_KERNEL_CODE = 0x40000;
    private static final long USER_REGION = 0x200000;
    private static final int USER_REGION_SIZE = 0x1F0000;
    /** Vectors whose frames carry an error code. */
    private static final long ERROR_CODE_VECTORS = 1L << 8 | 0x7CL << 8 | 1L << 17;

    private static Level logLevel;
    /** How many runs the translated form of a case makes for each of the interpreted form's. */
    private static final int TRANSLATED_SHARE = 10;

    private final LongModeMachine machine = new LongModeMachine();
    private final Random random = new Random(20261203);

    @BeforeAll
    static void silenceTheUnimplementedInstructionLog() {
        // Random code hits #UD constantly; the core logs each one, as it must for a real guest.
        logLevel = Logger.getLogger("").getLevel();
        Logger.getLogger("").setLevel(Level.OFF);
    }

    @AfterAll
    static void restoreTheLog() {
        Logger.getLogger("").setLevel(logLevel);
    }

    @AfterEach
    void close() {
        machine.close();
    }

    private void fillRandomly(long address, int length) {
        for (long a = address; a < address + length; a += 8) {
            machine.memory.writeLong(a, random.nextLong());
        }
    }

    private X86State withRandomRegisters(X86State state) {
        for (Register r : new Register[]{Register.RAX, Register.RBX, Register.RCX, Register.RDX, Register.RSI,
                Register.RDI, Register.RBP, Register.R8, Register.R9, Register.R10, Register.R11}) {
            state = state.with(r, random.nextInt(4) == 0 ? random.nextLong() : random.nextInt(0x400000));
        }
        return state;
    }

    /** Runs for {@code interpreted} runs of the interpreter, with the translating tier on if {@code translated}. */
    private int runs(boolean translated, int interpreted) {
        if (!translated) {
            return interpreted;
        }
        machine.runner.translate(1);
        return interpreted / TRANSLATED_SHARE;
    }

    @ParameterizedTest(name = "translated: {0}")
    @ValueSource(booleans = {false, true})
    void randomKernelCodeEndsOnlyInArchitecturalWays(boolean translated) {
        X86State start = machine.start().withIdt(new DescriptorTable(IDT, 256 * 16 - 1));
        int completed = 0;
        int runs = runs(translated, 20_000);
        for (int n = 0; n < runs; n++) {
            if (n % 500 == 0) {
                fillRandomly(RANDOM_KERNEL_CODE, 0x30000);
                for (int vector = 0; vector < 256; vector++) {
                    machine.interruptGate(IDT, vector, RANDOM_KERNEL_CODE + random.nextInt(0x2F000));
                }
            }
            fillRandomly(LongModeMachine.CODE, 16);
            machine.runner.forgetCode();
            Outcome outcome = machine.runner.runDelivering(withRandomRegisters(start), 64, -1);
            assertThat(outcome).isInstanceOfAny(Completed.class, TripleFaulted.class);
            completed += outcome instanceof Completed ? 1 : 0;
        }
        assertThat(completed).as("runs that did not wreck the machine").isPositive();
    }

    @Test
    void randomRealAndProtectedModeCodeEndsOnlyInArchitecturalWays() {
        // Translation takes only 64-bit code: this one runs on the interpreter alone.
        // 0x18: flat 32-bit code, 0x20: flat data, beside the machine's 64-bit descriptors.
        machine.memory.writeLong(LongModeMachine.GDT + 0x18, 0x00CF_9B00_0000_FFFFL);
        machine.memory.writeLong(LongModeMachine.GDT + 0x20, 0x00CF_9300_0000_FFFFL);
        Segment realCode = Segment.realMode((int) (LongModeMachine.CODE >>> 4), true);
        Segment realData = Segment.realMode(0, false);
        SegmentRegisters reset = SegmentRegisters.reset();
        X86State real = X86State.reset().withSegments(new SegmentRegisters(realCode, realData, realData, realData,
                realData, realData, reset.tr(), reset.ldtr())).with(Register.RIP, 0).with(Register.RSP, 0x7000);
        X86State protectedMode = real.withSegments(SegmentRegisters.flat32(0x18))
                .withControl(ControlRegisters.protectedMode())
                .withGdt(new DescriptorTable(LongModeMachine.GDT, 0x27))
                .withIdt(new DescriptorTable(RANDOM_KERNEL_CODE, 0x7FF))
                .with(Register.RIP, LongModeMachine.CODE).with(Register.RSP, 0x7F000);
        for (int n = 0; n < 20_000; n++) {
            if (n % 500 == 0) {
                fillRandomly(RANDOM_KERNEL_CODE, 0x30000);
                fillRandomly(0, 0x400); // the real-mode interrupt vector table
            }
            fillRandomly(LongModeMachine.CODE, 16);
            machine.runner.forgetCode();
            X86State start = withRandomRegisters(n % 2 == 0 ? real : protectedMode);
            Outcome outcome = machine.runner.runDelivering(start, 64, -1);
            assertThat(outcome).isInstanceOfAny(Completed.class, TripleFaulted.class);
        }
    }

    @ParameterizedTest(name = "translated: {0}")
    @ValueSource(booleans = {false, true})
    void randomUserCodeRunsOnUnderHandlersThatStepOverEachFault(boolean translated) {
        machine.memory.writeLong(0x3000, 0x0 | 0x83); // the first 2 MiB (tables, handlers) for the kernel only
        machine.memory.writeLong(LongModeMachine.GDT + 0x20, 0x00CF_F300_0000_FFFFL); // 0x23: user data
        machine.memory.writeLong(LongModeMachine.GDT + 0x28, 0x00AF_FB00_0000_FFFFL); // 0x2B: user code
        machine.memory.writeLong(TSS + 4, KERNEL_STACK);
        long handler = 0x11000;
        long handlerWithErrorCode = 0x11100;
        // Resume at the byte after the fault, kept in the user region: a wild jump comes back.
        int[] stepOver = {
                0x50,                                // push rax
                0x48, 0x8B, 0x44, 0x24, 0x08,        // mov rax, [rsp+8]   (the frame's RIP)
                0x48, 0xFF, 0xC0,                    // inc rax
                0x48, 0x25, 0xFF, 0xFF, 0x1F, 0x00,  // and rax, 0x1FFFFF
                0x48, 0x0D, 0x00, 0x00, 0x20, 0x00,  // or rax, USER_REGION
                0x48, 0x89, 0x44, 0x24, 0x08,        // mov [rsp+8], rax
                0x48, 0x81, 0x64, 0x24, 0x18, 0xFF, 0xFE, 0xFF, 0xFF, // and qword [rsp+24], ~TF: a POPF of TF stops here
                0x58,                                // pop rax
                0x48, 0xCF};                         // iretq
        machine.write(handler, stepOver);
        machine.write(handlerWithErrorCode, 0x48, 0x83, 0xC4, 0x08); // add rsp, 8: drop the error code
        machine.write(handlerWithErrorCode + 4, stepOver);
        for (int vector = 0; vector < 256; vector++) {
            machine.interruptGate(IDT, vector, (ERROR_CODE_VECTORS >>> vector & 1) != 0 ? handlerWithErrorCode : handler);
        }
        SegmentRegisters kernel = machine.start().segments();
        Segment code = kernel.cs();
        Segment data = kernel.ds();
        Segment userCode = new Segment(0x2B, 0, code.limit(), code.accessRights() | 3 << 5);
        Segment userData = new Segment(0x23, 0, data.limit(), data.accessRights() | 3 << 5);
        SegmentRegisters user = new SegmentRegisters(userCode, userData, userData, userData, userData, userData,
                Segment.taskState(0x30, TSS, 0x67), kernel.ldtr());
        long executed = 0;
        int runs = runs(translated, 40);
        for (int n = 0; n < runs; n++) {
            fillRandomly(USER_REGION, USER_REGION_SIZE);
            machine.runner.forgetCode();
            X86State start = withRandomRegisters(machine.start())
                    .withSegments(user)
                    .withGdt(new DescriptorTable(LongModeMachine.GDT, 0x3F))
                    .withIdt(new DescriptorTable(IDT, 256 * 16 - 1))
                    .with(Register.RIP, USER_REGION + random.nextInt(0x1000))
                    .with(Register.RSP, USER_REGION + USER_REGION_SIZE - random.nextInt(0x1000));
            Outcome outcome = machine.runner.runDelivering(start, 5_000, -1);
            assertThat(outcome).isInstanceOf(Completed.class);
            executed += outcome.executed();
        }
        assertThat(executed).as("steps (instructions, regions and deliveries)").isEqualTo(runs * 5_000L);
        assertThat(machine.runner.translatedRegions() > 0).as("regions translated").isEqualTo(translated);
    }
}
