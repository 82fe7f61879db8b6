package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.VcpuExit;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Vcpu#pause()} on the Java CPU: a vCPU in a loop that never exits by itself (translated
 * into one region once hot) is held between batches, retires nothing while held, runs on after
 * {@link Vcpu#resume()}, and stops while paused.
 */
class JavaVcpuPauseTest {
    /** The loop: inc rax; jmp back. */
    private static final byte[] LOOP = {0x48, (byte) 0xFF, (byte) 0xC0, (byte) 0xEB, (byte) 0xFB};
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void aPausedVcpuRetiresNothingUntilResumed() throws InterruptedException {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(4 << 20)) {
            Vcpu vcpu = LongModeMachine.vcpuAt(guest, LOOP);
            vcpu.start();
            awaitRetiredAbove(vcpu, 1_000_000); // past the loop's translation

            vcpu.pause();
            assertThat(vcpu.awaitPaused(TIMEOUT)).as("the vCPU was held").isTrue();
            long held = retired(vcpu);
            Thread.sleep(50); // a window to watch the count in, not a synchronisation
            assertThat(retired(vcpu)).as("instructions retired while paused").isEqualTo(held);

            vcpu.resume();
            awaitRetiredAbove(vcpu, held);
            vcpu.pause();
            assertThat(vcpu.awaitPaused(TIMEOUT)).isTrue();
            vcpu.stop();
            assertThat(vcpu.awaitExit(TIMEOUT)).as("a paused vCPU stops").contains(new VcpuExit.Stopped());
        }
    }

    @Test
    void aVcpuNeverStartedCountsAsPaused() throws InterruptedException {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(4 << 20)) {
            Vcpu vcpu = guest.createVcpu(0);
            vcpu.pause();
            assertThat(vcpu.awaitPaused(Duration.ZERO)).isTrue();
        }
    }

    private static long retired(Vcpu vcpu) {
        return vcpu.instructionsRetired().orElseThrow();
    }

    private static void awaitRetiredAbove(Vcpu vcpu, long count) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (retired(vcpu) <= count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the vCPU did not retire more than " + count + " within " + TIMEOUT);
            }
            Thread.onSpinWait();
        }
    }
}
