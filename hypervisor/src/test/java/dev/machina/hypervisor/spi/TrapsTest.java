package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrapsTest {
    /** Records every access and answers reads with offset + 0x100. */
    private static final class Recorder implements TrapHandler {
        final List<String> accesses = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            accesses.add("read " + offset + "/" + size);
            return offset + 0x100;
        }

        @Override
        public void write(long offset, int size, long value) {
            accesses.add("write " + offset + "/" + size + "=" + Long.toHexString(value));
        }
    }

    @Test
    void dispatchesByAddressWithOffsetsIntoTheRange() {
        Traps traps = new Traps();
        Recorder uart = new Recorder();
        Recorder other = new Recorder();
        traps.add(Trap.Kind.IO, new AddressRange(0x3F8, 8), uart, r -> { });
        traps.add(Trap.Kind.IO, new AddressRange(0x60, 1), other, r -> { });
        assertThat(traps.readPort(0x3FD, 2)).isEqualTo(0x105);
        assertThat(traps.readPort(0x3FD, 1)).as("reads are truncated to their size").isEqualTo(0x05);
        traps.writePort(0x3F8, 1, 0x41);
        assertThat(uart.accesses).containsExactly("read 5/2", "read 5/1", "write 0/1=41");
        assertThat(other.accesses).isEmpty();
    }

    @Test
    void unclaimedReadsAreAllOnesOfTheirSizeAndWritesVanish() {
        Traps traps = new Traps();
        assertThat(traps.readPort(0x80, 1)).isEqualTo(0xFF);
        assertThat(traps.readPort(0x80, 2)).isEqualTo(0xFFFF);
        assertThat(traps.readMemory(0xD000_0000L, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(traps.readMemory(0xD000_0000L, 8)).isEqualTo(-1L);
        traps.writePort(0x80, 1, 1);
    }

    @Test
    void writesAreTruncatedToTheirSize() {
        Traps traps = new Traps();
        Recorder device = new Recorder();
        traps.add(Trap.Kind.MEM, new AddressRange(0xD000_0000L, 0x1000), device, r -> { });
        traps.writeMemory(0xD000_0010L, 2, 0x12345, null);
        assertThat(device.accesses).containsExactly("write 16/2=2345");
    }

    @Test
    void refusesOverlapsWithinAKindButNotAcrossPortsAndMemory() {
        Traps traps = new Traps();
        traps.add(Trap.Kind.MEM, new AddressRange(0x1000, 0x100), new Recorder(), r -> { });
        assertThatThrownBy(() -> traps.add(Trap.Kind.BELL, new AddressRange(0x10FC, 8), (Object) null, r -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
        traps.add(Trap.Kind.IO, new AddressRange(0x1000, 0x100), new Recorder(), r -> { });
    }

    @Test
    void removedTrapsNoLongerReceiveAccessesAndReportRemovalOnce() {
        Traps traps = new Traps();
        Recorder device = new Recorder();
        List<Trap> removed = new ArrayList<>();
        Trap trap = traps.add(Trap.Kind.MEM, new AddressRange(0x1000, 0x10), device, removed::add);
        trap.remove();
        trap.remove();
        assertThat(traps.readMemory(0x1000, 1)).isEqualTo(0xFF);
        assertThat(device.accesses).isEmpty();
        assertThat(removed).containsExactly(trap);
    }

    @Test
    void findsAmongManyTraps() {
        Traps traps = new Traps();
        for (int i = 99; i >= 0; i--) {
            traps.add(Trap.Kind.IO, new AddressRange(i * 16L, 8), new Recorder(), r -> { });
        }
        assertThat(traps.findPort(16 * 37 + 7).range().start()).isEqualTo(16 * 37);
        assertThat(traps.findPort(16 * 37 + 8)).isNull();
    }

    @Test
    void doorbellWritesReachTheHandlerOnAnotherThread() throws InterruptedException {
        Traps traps = new Traps();
        CountDownLatch rung = new CountDownLatch(1);
        AtomicReference<String> seen = new AtomicReference<>();
        traps.add(Trap.Kind.BELL, new AddressRange(0xE000_0000L, 0x100),
                (dev.machina.hypervisor.BellHandler) offset -> {
                    seen.set(Thread.currentThread().getName() + "@" + offset);
                    rung.countDown();
                }, r -> { });
        try (Doorbells bells = new Doorbells("test")) {
            traps.writeMemory(0xE000_0000L + 0x84, 2, 7, bells);
            assertThat(rung.await(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen.get()).isEqualTo("test-doorbells@132");
        assertThat(traps.readMemory(0xE000_0000L + 0x84, 4)).isZero();
    }

    /** A guest that moves a doorbell BAR again and again leaves nothing behind for each old place. */
    @Test
    void removedDoorbellTrapsAreForgotten() throws InterruptedException {
        Traps traps = new Traps();
        try (Doorbells bells = new Doorbells("test")) {
            for (int move = 0; move < 100; move++) {
                CountDownLatch rung = new CountDownLatch(1);
                Traps.Registration trap = traps.add(Trap.Kind.BELL, new AddressRange(0xE000_0000L + 0x1000L * move, 0x100),
                        (dev.machina.hypervisor.BellHandler) offset -> rung.countDown(), r -> { });
                bells.ring(trap, 0);
                assertThat(rung.await(5, TimeUnit.SECONDS)).isTrue();
                trap.remove();
                bells.ring(trap, 4); // a vCPU that found the trap before it went
            }
            CountDownLatch last = new CountDownLatch(1);
            Traps.Registration live = traps.add(Trap.Kind.BELL, new AddressRange(0xF000_0000L, 0x100),
                    (dev.machina.hypervisor.BellHandler) offset -> last.countDown(), r -> { });
            bells.ring(live, 0);
            assertThat(last.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(bells.trapsTracked()).as("only the live trap, at most the last removed one beside it").isLessThanOrEqualTo(2);
        }
    }
}
