package dev.machina.cpu;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A device that writes guest RAM (DMA) through {@link GuestMemory} over code the Java CPU has
 * decoded and translated: the vCPU must run the new code, as it would after a disk read into a page
 * that held a program's old text.
 */
class DeviceWritesToCodeTest {
    private static final int OLD_PORT = 0x80;
    private static final int NEW_PORT = 0x81;
    /** Well past the translation threshold, so that the loop runs translated when it is overwritten. */
    private static final int ITERATIONS_BEFORE_DMA = 30_000;

    @Test
    void codeOverwrittenByADeviceRunsAnew() throws InterruptedException {
        try (Guest guest = new JavaHypervisorProvider().open().createGuest(4 << 20)) {
            GuestMemory memory = guest.memory();
            CountDownLatch hot = new CountDownLatch(ITERATIONS_BEFORE_DMA);
            CountDownLatch newCodeRan = new CountDownLatch(1);
            guest.setIoTrap(new AddressRange(OLD_PORT, 1), LongModeMachine.onWrite(hot::countDown));
            guest.setIoTrap(new AddressRange(NEW_PORT, 1), LongModeMachine.onWrite(newCodeRan::countDown));
            Vcpu vcpu = LongModeMachine.vcpuAt(guest, loopWritingTo(OLD_PORT));
            vcpu.start();
            try {
                assertThat(hot.await(30, TimeUnit.SECONDS)).as("the old loop ran hot").isTrue();
                memory.write(LongModeMachine.CODE, loopWritingTo(NEW_PORT), 0, 4);
                assertThat(newCodeRan.await(10, TimeUnit.SECONDS)).as("the vCPU ran the code the device wrote").isTrue();
            } finally {
                vcpu.stop();
                vcpu.awaitExit(Duration.ofSeconds(5));
            }
        }
    }

    /** out port, al; jmp back to the out. */
    private static byte[] loopWritingTo(int port) {
        return new byte[] {(byte) 0xE6, (byte) port, (byte) 0xEB, (byte) 0xFC};
    }
}
