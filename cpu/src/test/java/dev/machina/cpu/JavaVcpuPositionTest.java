package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link JavaVcpu#position()} read from another thread while the vCPU runs: a guest that signals on
 * a port and then loops forever must be found in its loop, by the interpreter first and, once the
 * loop is hot, in its translated region.
 */
class JavaVcpuPositionTest {
    private static final int SIGNAL_PORT = 0x80;
    private static final long LOOP = LongModeMachine.CODE + 2;
    /**
     * out 0x80, al; then the loop: inc rax; add rbx, rax; add rcx, 3; jmp back. The loop is
     * entered 10,000 times before it is translated, within the first samples.
     */
    private static final byte[] CODE = bytes(0xE6, SIGNAL_PORT,
            0x48, 0xFF, 0xC0, 0x48, 0x01, 0xC3, 0x48, 0x83, 0xC1, 0x03, 0xEB, 0xF4);
    private static final long LOOP_END = LongModeMachine.CODE + CODE.length;
    private static final int SAMPLES = 2_000;

    @Test
    void samplesOfAVcpuInALoopFallInTheLoop() throws InterruptedException {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(4 << 20)) {
            CountDownLatch looping = new CountDownLatch(1);
            guest.setIoTrap(new AddressRange(SIGNAL_PORT, 1), LongModeMachine.onWrite(looping::countDown));
            Vcpu vcpu = LongModeMachine.vcpuAt(guest, CODE);
            JavaVcpu javaVcpu = (JavaVcpu) vcpu;
            vcpu.start();
            assertThat(looping.await(10, TimeUnit.SECONDS)).as("the guest reached its loop").isTrue();

            int inLoop = 0;
            int elsewhere = 0;
            for (int i = 0; i < SAMPLES; i++) {
                if (javaVcpu.position() instanceof GuestPosition.Executing(long rip, int cpl)
                        && cpl == 0 && rip >= LOOP && rip <= LOOP_END) {
                    // LOOP_END too: the interpreter points RIP past the JMP before the JMP moves it back.
                    inLoop++;
                } else {
                    elsewhere++;
                }
                LockSupport.parkNanos(50_000); // spreads the samples over the run; nothing waits on it
            }
            long retired = vcpu.instructionsRetired().orElseThrow();
            vcpu.stop();
            vcpu.awaitExit(Duration.ofSeconds(5));

            assertThat(retired).as("instructions retired: the loop ran well past its translation").isGreaterThan(100_000);
            assertThat(inLoop).as("samples in the loop (%d elsewhere)", elsewhere).isEqualTo(SAMPLES);
        }
    }

    private static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }
}
