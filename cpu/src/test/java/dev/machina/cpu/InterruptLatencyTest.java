package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An interrupt raised while the vCPU runs guest code that never stops by itself is taken within a
 * bounded number of guest instructions and promptly on the host's clock, in the ways of running
 * code the conformance suite's busy loop (interpreted, then one translated region) does not reach:
 * regions chained to one another through calls and returns without the dispatcher, and a long REP
 * string instruction run in place. A path that ran on without looking at pending interrupts
 * starves the guest's timer (Linux's soft-lockup warnings) and fails here by millions of
 * instructions.
 */
class InterruptLatencyTest {
    private static final int VECTOR = 0x40;
    private static final int HANDLER_PORT = 0x81;
    private static final long IDTR = 0x5F0;
    private static final long IDT = 0x6000;
    private static final long HANDLER = LongModeMachine.CODE + 0x800;
    /** A function on another page than the loop calling it, so that the call and return leave the region. */
    private static final long FUNCTION = LongModeMachine.CODE + 0x1000;
    /** The loop runs this many instructions first: well past the translation threshold. */
    private static final long WARM = 3_000_000;
    /**
     * Four of the vCPU's 4,096-instruction batches: the vCPU looks at interrupts between batches,
     * a translated region at its loop's back edge within the batch, and the instruction counts the
     * test reads from another thread lag by up to a region's run.
     */
    private static final long MOST_INSTRUCTIONS = 16_384;
    /** A raise is measured only when the test thread read the count just before and just after it. */
    private static final long RAISE_WINDOW = 2_000;
    private static final int MEASURED_RAISES = 8;

    enum Code {
        /** call a function on the next page; jmp back: regions chained through a call and a return. */
        CHAINED_REGIONS(callFunction()),
        /** 2 MiB of rep stosb, again and again: a REP string instruction run in place. */
        LONG_REP_STOS(0xBF, 0x00, 0x00, 0x20, 0x00, 0xB9, 0x00, 0x00, 0x20, 0x00, 0xF3, 0xAA, 0xEB, 0xF2);

        final int[] bytes;

        Code(int... bytes) {
            this.bytes = bytes;
        }

        /** call FUNCTION; jmp back to the call. */
        private static int[] callFunction() {
            long call = LongModeMachine.CODE + PROLOGUE.length;
            long relative = FUNCTION - (call + 5);
            return new int[] {0xE8, (int) relative & 0xFF, (int) (relative >>> 8) & 0xFF, (int) (relative >>> 16) & 0xFF,
                    (int) (relative >>> 24) & 0xFF, 0xEB, 0xF9};
        }
    }

    /** mov ebx, IDTR; lidt [rbx]; sti. */
    private static final int[] PROLOGUE = {0xBB, (int) IDTR & 0xFF, (int) (IDTR >>> 8) & 0xFF, 0x00, 0x00, 0x0F, 0x01, 0x1B, 0xFB};

    @ParameterizedTest
    @EnumSource(Code.class)
    void aPendingInterruptIsTakenWithinABoundedNumberOfInstructions(Code code) throws InterruptedException {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(4 << 20)) {
            Vcpu vcpu = LongModeMachine.vcpuAt(guest, program(code));
            layOut(guest.memory());
            BlockingQueue<Long> taken = new LinkedBlockingQueue<>();
            // On the vCPU's own thread: exact but for a region's uncounted run.
            guest.setIoTrap(new AddressRange(HANDLER_PORT, 1), LongModeMachine.onWrite(() -> taken.add(retired(vcpu))));
            vcpu.start();
            try {
                awaitRetired(vcpu, WARM);
                List<Long> instructions = new ArrayList<>();
                List<Long> micros = new ArrayList<>();
                for (int raise = 0; instructions.size() < MEASURED_RAISES && raise < 100 * MEASURED_RAISES; raise++) {
                    long before = retired(vcpu);
                    long raisedAt = System.nanoTime();
                    vcpu.interrupt(VECTOR);
                    long after = retired(vcpu);
                    Long at = taken.poll(10, TimeUnit.SECONDS);
                    long tookNanos = System.nanoTime() - raisedAt;
                    assertThat(at).as("%s: an interrupt raised while the code ran was never taken", code).isNotNull();
                    assertThat(tookNanos).as("%s: nanoseconds until the interrupt was taken", code).isLessThan(TimeUnit.SECONDS.toNanos(1));
                    if (after - before <= RAISE_WINDOW) {
                        instructions.add(at - before);
                        micros.add(tookNanos / 1_000);
                    }
                }
                assertThat(instructions).as("%s: raises measured", code).hasSize(MEASURED_RAISES);
                assertThat(instructions).as("%s: guest instructions from the raise to the handler (host microseconds: %s)", code, micros)
                        .allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(MOST_INSTRUCTIONS));
            } finally {
                vcpu.stop();
                vcpu.awaitExit(Duration.ofSeconds(5));
            }
        }
    }

    /** The prologue that enables interrupts, then {@code code}. */
    private static byte[] program(Code code) {
        byte[] program = new byte[PROLOGUE.length + code.bytes.length];
        for (int i = 0; i < program.length; i++) {
            program[i] = (byte) (i < PROLOGUE.length ? PROLOGUE[i] : code.bytes[i - PROLOGUE.length]);
        }
        return program;
    }

    /**
     * Beside the test machine's page tables, GDT and code: the local APIC's page mapped (uncached)
     * for the EOI, and an IDT whose gate for {@link #VECTOR} leads to a handler that reports on a
     * port, signals the end of the interrupt and returns.
     */
    private static void layOut(GuestMemory memory) {
        long apicDirectory = 0x4000;
        memory.writeLong(0x2000 + 3 * 8, apicDirectory | 0x7);
        memory.writeLong(apicDirectory + ((0xFEE0_0000L - 0xC000_0000L) >>> 21) * 8, 0xFEE0_0000L | 0x9F);
        memory.writeShort(IDTR, (short) 0xFFF);
        memory.writeLong(IDTR + 2, IDT);
        long gate = (HANDLER & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((HANDLER >>> 16) & 0xFFFF) << 48;
        memory.writeLong(IDT + VECTOR * 16L, gate);
        memory.writeLong(IDT + VECTOR * 16L + 8, HANDLER >>> 32);
        // out 0x81, al; movabs rbx, 0xFEE000B0; mov dword [rbx], 0; iretq
        write(memory, HANDLER, 0xE6, HANDLER_PORT, 0x48, 0xBB, 0xB0, 0x00, 0xE0, 0xFE, 0, 0, 0, 0,
                0xC7, 0x03, 0, 0, 0, 0, 0x48, 0xCF);
        write(memory, FUNCTION, 0x48, 0xFF, 0xC0, 0xC3); // inc rax; ret
    }

    private static void write(GuestMemory memory, long address, int... bytes) {
        byte[] raw = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            raw[i] = (byte) bytes[i];
        }
        memory.write(address, raw, 0, raw.length);
    }

    private static long retired(Vcpu vcpu) {
        return vcpu.instructionsRetired().orElseThrow();
    }

    /** Waits, for at most 60 seconds, until the vCPU has retired {@code count} instructions. */
    private static void awaitRetired(Vcpu vcpu, long count) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (retired(vcpu) < count) {
            assertThat(System.nanoTime()).as("the code ran %d instructions", count).isLessThan(giveUp);
            Thread.onSpinWait();
        }
    }
}
