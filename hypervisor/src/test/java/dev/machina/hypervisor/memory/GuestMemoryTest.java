package dev.machina.hypervisor.memory;

import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void readsBackWhatWasWrittenLittleEndian() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 * MIB))) {
            memory.writeLong(0x1000, 0x1122_3344_5566_7788L);
            assertThat(memory.readByte(0x1000)).isEqualTo((byte) 0x88);
            assertThat(memory.readShort(0x1001)).isEqualTo((short) 0x6677);
            assertThat(memory.readInt(0x1004)).isEqualTo(0x1122_3344);
            assertThat(memory.readLong(0x1000)).isEqualTo(0x1122_3344_5566_7788L);
        }
    }

    @Test
    void untouchedRamReadsAsZero() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(64 * MIB))) {
            assertThat(memory.readLong(63 * MIB)).isZero();
        }
    }

    @Test
    void refusesEveryAccessThatLeavesRam() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 * MIB))) {
            long end = 4 * MIB;
            assertThatThrownBy(() -> memory.readByte(end)).isInstanceOf(GuestMemoryException.class)
                    .hasMessageContaining("0x400000");
            assertThatThrownBy(() -> memory.readLong(end - 4)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> memory.writeInt(-1, 0)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> memory.read(Long.MAX_VALUE - 2, new byte[8], 0, 8)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> memory.write(end - 2, new byte[4], 0, 4)).isInstanceOf(GuestMemoryException.class);
            assertThat(memory.isRam(end - 8, 8)).isTrue();
            assertThat(memory.isRam(end - 7, 8)).isFalse();
        }
    }

    @Test
    void ramAboveTheHoleStartsAtFourGibAndTheHoleIsNotRam() {
        long size = X86MemoryMap.MMIO_HOLE_START + 2 * MIB;
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(size))) {
            assertThat(memory.regions()).extracting(RamRegion::guestAddress).containsExactly(0L, X86MemoryMap.FOUR_GIB);
            assertThat(memory.size()).isEqualTo(size);
            assertThat(memory.isRam(X86MemoryMap.LOCAL_APIC_BASE, 4)).isFalse();
            memory.writeInt(X86MemoryMap.FOUR_GIB + MIB, 42);
            assertThat(memory.readInt(X86MemoryMap.FOUR_GIB + MIB)).isEqualTo(42);
            assertThat(memory.hostOffset(X86MemoryMap.FOUR_GIB, 1)).isEqualTo(X86MemoryMap.MMIO_HOLE_START);
            assertThatThrownBy(() -> memory.readInt(X86MemoryMap.MMIO_HOLE_START)).isInstanceOf(GuestMemoryException.class);
        }
    }

    @Test
    void discardedRamReadsAsZeroAgain() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 * MIB))) {
            memory.writeLong(0x2000, -1);
            memory.discard(0x2000, 0x1000);
            assertThat(memory.readLong(0x2000)).isZero();
        }
    }

    @Test
    void everyWriteIsReportedToTheObserverWithItsHostRange() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 * MIB))) {
            List<String> heard = new java.util.ArrayList<>();
            memory.observeWrites((host, length) -> heard.add(Long.toHexString(host) + "+" + length));
            memory.writeByte(0x10, (byte) 1);
            memory.writeLong(0x20, 1);
            memory.write(0x1000, new byte[3], 0, 3);
            memory.fill(0x2000, 0x2000, (byte) 7);
            memory.update(0x5000, 16, ram -> ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 9));
            memory.discard(0x6000, 0x1000);
            assertThat(heard).containsExactly("10+1", "20+8", "1000+3", "2000+8192", "5000+16", "6000+4096");
            assertThat(memory.readByte(0x5000)).isEqualTo((byte) 9);
        }
    }

    @Test
    void accessAfterCloseFailsWithoutCrashing() {
        GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(MIB));
        memory.close();
        assertThatThrownBy(() -> memory.readInt(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void refusesOverlappingRanges() {
        assertThatThrownBy(() -> GuestMemory.allocate(List.of(new AddressRange(0, 2 * MIB), new AddressRange(MIB, MIB))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
    }
}
