package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.machina.vmm.devices.virtio.queue.DriverRing.NEXT;
import static dev.machina.vmm.devices.virtio.queue.DriverRing.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DescriptorChainTest {
    private final GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, 0x10000)));
    private final DriverRing driver = new DriverRing(memory, 8, 0x1000, 0x2000, 0x3000);
    private final SplitQueue queue = new SplitQueue(memory, 8);
    private final DescriptorChain chain = new DescriptorChain(8);

    /**
     * A 16-byte header split 3 + 0 + 13 bytes, then writable buffers of 2 + 0 + 4 bytes: the
     * header's bytes are 0x10..0x1F in order.
     */
    @BeforeEach
    void popASplitChain() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x4000, 3, NEXT, 1);
        driver.descriptor(1, 0x4800, 0, NEXT, 2);
        driver.descriptor(2, 0x5000, 13, NEXT, 3);
        driver.descriptor(3, 0x6000, 2, NEXT | WRITE, 4);
        driver.descriptor(4, 0x6800, 0, NEXT | WRITE, 5);
        driver.descriptor(5, 0x7000, 4, WRITE, 0);
        for (int i = 0; i < 16; i++) {
            memory.writeByte(i < 3 ? 0x4000 + i : 0x5000 + i - 3, (byte) (0x10 + i));
        }
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
    }

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void fieldsAreReadLittleEndianWithinASegmentAndAcrossSegments() throws QueueFault {
        assertThat(chain.readU8(0)).isEqualTo(0x10);
        assertThat(chain.readU16(0)).isEqualTo(0x1110);
        assertThat(chain.readU16(2)).as("across the empty segment").isEqualTo(0x1312);
        assertThat(chain.readU32(1)).isEqualTo(0x14131211L);
        assertThat(chain.readU64(0)).isEqualTo(0x1716151413121110L);
        assertThat(chain.readU64(8)).as("within the second segment").isEqualTo(0x1F1E1D1C1B1A1918L);
        assertThat(chain.readU8(15)).isEqualTo(0x1F);
    }

    @Test
    void fieldsAreZeroExtended() throws QueueFault {
        memory.writeInt(0x5000 + 5, 0xFFFF_FFFE);
        assertThat(chain.readU32(8)).isEqualTo(0xFFFF_FFFEL);
        assertThat(chain.readU16(8)).isEqualTo(0xFFFE);
        assertThat(chain.readU8(8)).isEqualTo(0xFE);
    }

    @Test
    void aFieldPastTheReadableBytesIsAFault() {
        assertThatThrownBy(() -> chain.readU64(9))
                .isInstanceOf(QueueFault.class)
                .hasMessage("no 8-byte field at offset 9: the chain from head 0 has 16 readable bytes");
        assertThatThrownBy(() -> chain.readU8(16)).isInstanceOf(QueueFault.class);
        assertThatThrownBy(() -> chain.readU8(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readCopiesAsMuchAsThereIs() {
        byte[] bytes = new byte[20];
        assertThat(chain.read(2, MemorySegment.ofArray(bytes))).isEqualTo(14);
        for (int i = 0; i < 14; i++) {
            assertThat(bytes[i]).as("byte %d", i).isEqualTo((byte) (0x12 + i));
        }
        assertThat(bytes[14]).isZero();
        assertThat(chain.read(1, MemorySegment.ofArray(new byte[1]))).isEqualTo(1);
        assertThat(chain.read(16, MemorySegment.ofArray(bytes))).isZero();
        assertThat(chain.read(1000, MemorySegment.ofArray(bytes))).isZero();
    }

    @Test
    void writeFillsTheWritableBuffersOnlyAndGoesThroughGuestMemory() throws QueueFault {
        List<Long> written = new ArrayList<>();
        memory.observeWrites((hostOffset, length) -> written.add(hostOffset));
        byte[] bytes = {1, 2, 3, 4, 5, 6, 7};
        assertThat(chain.write(1, MemorySegment.ofArray(bytes))).isEqualTo(5);
        assertThat(memory.readByte(0x6000)).isZero();
        assertThat(memory.readByte(0x6001)).isEqualTo((byte) 1);
        assertThat(memory.readInt(0x7000)).isEqualTo(0x05040302);
        assertThat(memory.readByte(0x7004)).isZero();
        assertThat(written).as("the code cache heard of both writes").containsExactly(0x6001L, 0x7000L);
        assertThat(chain.readU8(0)).as("the readable bytes are untouched").isEqualTo(0x10);
        assertThat(chain.write(6, MemorySegment.ofArray(bytes))).isZero();
    }

    @Test
    void writeU8WritesAStatusByteAnywhereInTheWritableBytes() throws QueueFault {
        chain.writeU8(chain.writableBytes() - 1, 0xAB);
        chain.writeU8(1, 0xCD);
        assertThat(memory.readByte(0x7003)).isEqualTo((byte) 0xAB);
        assertThat(memory.readByte(0x6001)).isEqualTo((byte) 0xCD);
        assertThatThrownBy(() -> chain.writeU8(6, 0))
                .isInstanceOf(QueueFault.class)
                .hasMessage("no writable byte at offset 6: the chain from head 0 has 6 writable bytes");
    }

    @Test
    void segmentsOutsideTheChainAreRefused() {
        assertThat(chain.segments()).isEqualTo(6);
        assertThatThrownBy(() -> chain.address(6)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> chain.length(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> chain.writable(6)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void aChainWithoutWritableBytesHasNoRoomForAStatus() throws QueueFault {
        driver.descriptor(6, 0x4000, 3, 0, 0);
        driver.offer(6);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.writableBytes()).isZero();
        assertThatThrownBy(() -> chain.writeU8(0, 0)).isInstanceOf(QueueFault.class);
        assertThat(chain.write(0, MemorySegment.ofArray(new byte[4]))).isZero();
    }
}
