package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.List;

import static dev.machina.vmm.devices.virtio.queue.DriverRing.INDIRECT;
import static dev.machina.vmm.devices.virtio.queue.DriverRing.NEXT;
import static dev.machina.vmm.devices.virtio.queue.DriverRing.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SplitQueueTest {
    /** Two RAM regions with a gap between them, as below and above an MMIO hole. */
    private static final long LOW_END = 0x10000;
    private static final long HIGH = 0x100000;
    private static final long GAP = 0x80000;

    private final GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, LOW_END), new AddressRange(HIGH, 0x10000)));
    private final DriverRing driver = new DriverRing(memory, 8, 0x1000, 0x2000, 0x3000);
    private final SplitQueue queue = new SplitQueue(memory, 16);
    private final DescriptorChain chain = new DescriptorChain(16);

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void theMaximumSizeIsAPowerOfTwoUpTo32768() {
        for (int size : new int[] {0, 3, 65536, -8}) {
            assertThatThrownBy(() -> new SplitQueue(memory, size)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(new SplitQueue(memory, 32768).size()).isEqualTo(32768);
    }

    @Test
    void nothingAvailablePopsNothing() throws QueueFault {
        driver.configure(queue, false);
        assertThat(queue.pop(chain)).isFalse();
    }

    @Test
    void aChainOfReadableThenWritableBuffersIsPoppedAndReturnedUsed() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(5, 0x4000, 16, NEXT, 2);
        driver.descriptor(2, HIGH + 0x100, 4, NEXT, 7);
        driver.descriptor(7, 0x5000, 512, WRITE, 0);
        driver.offer(5);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(5);
        assertThat(chain.segments()).isEqualTo(3);
        assertThat(List.of(chain.address(0), chain.address(1), chain.address(2))).containsExactly(0x4000L, HIGH + 0x100, 0x5000L);
        assertThat(List.of(chain.length(0), chain.length(1), chain.length(2))).containsExactly(16, 4, 512);
        assertThat(List.of(chain.writable(0), chain.writable(1), chain.writable(2))).containsExactly(false, false, true);
        assertThat(chain.readableBytes()).isEqualTo(20);
        assertThat(chain.writableBytes()).isEqualTo(512);
        assertThat(queue.pop(chain)).isFalse();

        queue.add(5, 100);
        assertThat(driver.usedIdx()).isEqualTo(1);
        assertThat(driver.usedId(0)).isEqualTo(5);
        assertThat(driver.usedLength(0)).isEqualTo(100);
    }

    @Test
    void chainsCanBeReturnedOutOfOrder() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x4000, 1, WRITE, 0);
        driver.descriptor(1, 0x4000, 1, WRITE, 0);
        driver.offer(0, 1);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(queue.pop(chain)).isTrue();
        queue.add(1, 1);
        queue.add(0, 0);
        assertThat(List.of(driver.usedId(0), driver.usedId(1))).containsExactly(1, 0);
    }

    @Test
    void anIndirectTableIsFollowedAndTheWriteFlagOfItsDescriptorIgnored() throws QueueFault {
        driver.configure(queue, false);
        long table = 0x6008; // no alignment is required of an indirect table
        driver.descriptor(3, table, 3 * 16, INDIRECT | WRITE, 0);
        driver.descriptor(table, 0, 0x7000, 16, NEXT, 2);
        driver.descriptor(table, 2, 0x7100, 32, NEXT | WRITE, 1);
        driver.descriptor(table, 1, 0x7200, 1, WRITE, 0);
        driver.offer(3);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.head()).isEqualTo(3);
        assertThat(chain.segments()).isEqualTo(3);
        assertThat(List.of(chain.address(0), chain.address(1), chain.address(2))).containsExactly(0x7000L, 0x7100L, 0x7200L);
        assertThat(List.of(chain.writable(0), chain.writable(1), chain.writable(2))).containsExactly(false, true, true);
        assertThat(chain.readableBytes()).isEqualTo(16);
        assertThat(chain.writableBytes()).isEqualTo(33);
    }

    @Test
    void directDescriptorsMayEndInAnIndirectTable() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 8, NEXT, 1);
        driver.descriptor(1, 0x6000, 16, INDIRECT, 0);
        driver.descriptor(0x6000, 0, 0x7100, 8, WRITE, 0);
        driver.offer(0);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.segments()).isEqualTo(2);
        assertThat(chain.writable(0)).isFalse();
        assertThat(chain.writable(1)).isTrue();
    }

    @Test
    void zeroLengthBuffersAreLegalAndHoldNoBytes() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 0, NEXT, 1);
        driver.descriptor(1, LOW_END, 0, WRITE, 0); // just past the region's end: no byte of it is outside
        driver.offer(0);

        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.segments()).isEqualTo(2);
        assertThat(chain.readableBytes() + chain.writableBytes()).isZero();
    }

    @Test
    void aChainMayBeAsLongAsTheQueue() throws QueueFault {
        driver.configure(queue, false);
        for (int i = 0; i < 8; i++) {
            driver.descriptor(i, 0x7000, 1, i < 7 ? NEXT : 0, i + 1);
        }
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.segments()).isEqualTo(8);
    }

    @Test
    void indicesWrapAt65536AndUsedEventIsCrossedOncePerLap() throws QueueFault {
        DriverRing small = new DriverRing(memory, 4, 0x1000, 0x2000, 0x3000);
        small.configure(queue, true);
        for (int i = 0; i < 4; i++) {
            small.descriptor(i, 0x7000 + i, 1, WRITE, 0);
        }
        small.usedEvent(0); // notify when the entry at used index 0 (mod 2^16) is written
        int interrupts = 0;
        for (int i = 0; i < 70_000; i++) {
            small.offer(i % 4);
            assertThat(queue.pop(chain)).isTrue();
            assertThat(chain.head()).isEqualTo(i % 4);
            queue.add(chain.head(), 1);
            if (queue.needsInterrupt()) {
                assertThat(i).as("the entry added when an interrupt was wanted").isIn(0, 65536);
                interrupts++;
            }
        }
        assertThat(interrupts).isEqualTo(2);
        assertThat(small.usedIdx()).isEqualTo(70_000 & 0xFFFF);
        assertThat(small.usedId(69_999)).isEqualTo(69_999 % 4);
        assertThat(queue.pop(chain)).isFalse();
    }

    @Test
    void servingChainsAllocatesNothingPerChain() throws QueueFault {
        driver.configure(queue, true);
        for (int i = 0; i < 8; i++) {
            driver.descriptor(i, 0x6000 + 32L * i, 32, INDIRECT, 0);
            driver.descriptor(0x6000 + 32L * i, 0, 0x7000, 16, NEXT, 1);
            driver.descriptor(0x6000 + 32L * i, 1, 0x7100, 8, WRITE, 0);
        }
        driver.offer(0, 1, 2, 3, 4, 5, 6, 7); // the ring's entries stay right as the index goes round
        MemorySegment buffer = MemorySegment.ofArray(new byte[8]);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = 0;
        int availIdx = 8;
        for (int round = 0; round < 2; round++) { // the first warms up
            allocated = -threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) {
                driver.publish(availIdx++);
                queue.disableNotifications();
                while (queue.pop(chain)) {
                    chain.readU64(8);
                    chain.read(0, buffer);
                    chain.write(0, buffer);
                    queue.add(chain.head(), 8);
                }
                queue.enableNotifications();
                queue.needsInterrupt();
            }
            allocated += threads.getCurrentThreadAllocatedBytes();
        }
        assertThat(allocated).as("bytes allocated serving 100,000 chains").isLessThan(10_000);
    }

    @Test
    void theAvailableIndexMayRunAheadByTheQueueSizeButNoMore() throws QueueFault {
        driver.configure(queue, false);
        for (int i = 0; i < 8; i++) {
            driver.descriptor(i, 0x7000, 1, 0, 0);
        }
        driver.offer(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(queue.pop(chain)).isTrue();
        driver.publish(9 + 1); // 10 - 1 popped = 9 ahead of a queue of 8
        assertFault("available index moved from 1 to 10, more than the queue size 8 ahead");
    }

    @Test
    void aHeadOutsideTheTableIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.offer(8);
        assertFault("available ring entry 0: head index 8 is outside the descriptor table's 8 entries");
    }

    @Test
    void aNextOutsideTheTableIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, NEXT, 1);
        driver.descriptor(1, 0x7000, 1, NEXT, 8);
        driver.offer(0);
        assertFault("descriptor 1: next index 8 is outside the table's 8 entries");
    }

    @Test
    void aNextOutsideAnIndirectTableIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x6000, 32, INDIRECT, 0);
        driver.descriptor(0x6000, 0, 0x7000, 1, NEXT, 2);
        driver.offer(0);
        assertFault("descriptor 0 of the indirect table at 0x6000: next index 2 is outside the table's 2 entries");
    }

    @Test
    void aLoopIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, NEXT, 1);
        driver.descriptor(1, 0x7000, 1, NEXT, 2);
        driver.descriptor(2, 0x7000, 1, NEXT, 1);
        driver.offer(0);
        assertFault("descriptor 2: the chain from head 0 is longer than the queue size 8 (a loop?)");
    }

    @Test
    void aLoopInAnIndirectTableIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(4, 0x6000, 16, INDIRECT, 0);
        driver.descriptor(0x6000, 0, 0x7000, 1, NEXT, 0);
        driver.offer(4);
        assertFault("descriptor 0 of the indirect table at 0x6000: the chain from head 4 is longer than the queue size 8 (a loop?)");
    }

    @Test
    void anIndirectTableLongerThanTheQueueMayHoldAChainNoLongerThanIt() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x6000, 64 * 16, INDIRECT, 0);
        for (int i = 0; i < 9; i++) {
            driver.descriptor(0x6000, i, 0x7000, 1, NEXT, i + 1);
        }
        driver.descriptor(0x6000, 7, 0x7000, 1, 0, 0);
        driver.offer(0, 0);
        assertThat(queue.pop(chain)).isTrue();
        assertThat(chain.segments()).isEqualTo(8);

        driver.descriptor(0x6000, 7, 0x7000, 1, NEXT, 8);
        assertFault("descriptor 8 of the indirect table at 0x6000: the chain from head 0 is longer than the queue size 8 (a loop?)");
    }

    @Test
    void anIndirectTableInsideAnIndirectTableIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x6000, 32, INDIRECT, 0);
        driver.descriptor(0x6000, 0, 0x7000, 1, NEXT, 1);
        driver.descriptor(0x6000, 1, 0x6100, 16, INDIRECT, 0);
        driver.offer(0);
        assertFault("descriptor 1 of the indirect table at 0x6000: an indirect table inside an indirect table");
    }

    @Test
    void indirectWithNextIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x6000, 16, INDIRECT | NEXT, 1);
        driver.offer(0);
        assertFault("descriptor 0: INDIRECT and NEXT both set");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 20, -1})
    void anIndirectTableMustHoldWholeDescriptors(int length) throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x6000, length, INDIRECT, 0);
        driver.offer(0);
        assertFault("descriptor 0: indirect table length %d is not a positive multiple of 16".formatted(Integer.toUnsignedLong(length)));
    }

    @Test
    void anIndirectTableOutsideRamIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, LOW_END - 16, 32, INDIRECT, 0);
        driver.offer(0);
        assertFault("descriptor 0: indirect table 0xfff0+0x20 is not guest RAM");
    }

    @Test
    void aBufferOutsideRamIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, NEXT, 1);
        driver.descriptor(1, GAP, 1, WRITE, 0);
        driver.offer(0);
        assertFault("descriptor 1: buffer 0x80000+0x1 is not guest RAM");
    }

    @Test
    void aBufferReachingPastTheEndOfARegionIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, LOW_END - 4, 5, 0, 0);
        driver.offer(0);
        assertFault("descriptor 0: buffer 0xfffc+0x5 is not guest RAM");
    }

    @Test
    void aBufferWhoseEndOverflowsIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, -16, 32, 0, 0);
        driver.offer(0);
        assertFault("descriptor 0: buffer 0xfffffffffffffff0+0x20 is not guest RAM");
    }

    @Test
    void aLengthOver2GiBIsUnsignedAndNotRam() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0, -1, 0, 0);
        driver.offer(0);
        assertFault("descriptor 0: buffer 0x0+0xffffffff is not guest RAM");
    }

    @Test
    void aReadableBufferAfterAWritableOneIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, NEXT | WRITE, 1);
        driver.descriptor(1, 0x7000, 1, 0, 0);
        driver.offer(0);
        assertFault("descriptor 1: a device-readable buffer after a device-writable one");
    }

    @Test
    void aReadableBufferInAnIndirectTableAfterAWritableDirectOneIsAFault() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, NEXT | WRITE, 1);
        driver.descriptor(1, 0x6000, 16, INDIRECT, 0);
        driver.descriptor(0x6000, 0, 0x7000, 1, 0, 0);
        driver.offer(0);
        assertFault("descriptor 0 of the indirect table at 0x6000: a device-readable buffer after a device-writable one");
    }

    @Test
    void aChainOfMoreThan2GiBIsAFault() throws QueueFault {
        try (GuestMemory big = GuestMemory.allocate(List.of(new AddressRange(0, 0x8001_0000L)))) {
            DriverRing bigDriver = new DriverRing(big, 8, 0x1000, 0x2000, 0x3000);
            SplitQueue bigQueue = bigDriver.configure(new SplitQueue(big, 8), false);
            DescriptorChain bigChain = new DescriptorChain(8);
            bigDriver.descriptor(0, 0x10000, 0x7FFF_0000, NEXT, 1);
            bigDriver.descriptor(1, 0x10000, 0xFFFF, NEXT | WRITE, 2);
            bigDriver.descriptor(2, 0x10000, 1, WRITE, 0);
            bigDriver.offer(0);
            assertThatThrownBy(() -> bigQueue.pop(bigChain))
                    .isInstanceOf(QueueFault.class)
                    .hasMessage("descriptor 2: the chain from head 0 holds more than 2^31-1 bytes");

            bigDriver.descriptor(1, 0x10000, 0xFFFF, WRITE, 0); // exactly 2^31-1
            assertThat(bigQueue.pop(bigChain)).isTrue();
            assertThat(bigChain.readableBytes() + bigChain.writableBytes()).isEqualTo(Integer.MAX_VALUE);
        }
    }

    @Test
    void aFaultLeavesTheEntryUnpopped() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, GAP, 1, 0, 0);
        driver.offer(0);
        assertFault("descriptor 0: buffer 0x80000+0x1 is not guest RAM");
        driver.descriptor(0, 0x7000, 1, 0, 0);
        assertThat(queue.pop(chain)).isTrue();
    }

    @Test
    void readyChecksTheSize() {
        for (int size : new int[] {0, 3, 12, 32, -1}) {
            queue.setSize(size);
            queue.setDescriptorTable(0x1000);
            queue.setAvailableRing(0x2000);
            queue.setUsedRing(0x3000);
            assertThatThrownBy(() -> queue.setReady(true))
                    .isInstanceOf(QueueFault.class)
                    .hasMessage("queue size %d is not a power of 2 from 1 to 16".formatted(size));
            assertThat(queue.ready()).isFalse();
        }
    }

    @Test
    void readyChecksTheAlignmentOfEachRing() {
        assertReadyFault(new DriverRing(memory, 8, 0x1008, 0x2000, 0x3000), "descriptor table at 0x1008 is not 16-byte aligned");
        assertReadyFault(new DriverRing(memory, 8, 0x1000, 0x2001, 0x3000), "available ring at 0x2001 is not 2-byte aligned");
        assertReadyFault(new DriverRing(memory, 8, 0x1000, 0x2000, 0x3002), "used ring at 0x3002 is not 4-byte aligned");
        assertThatCode(() -> new DriverRing(memory, 8, 0x1010, 0x2002, 0x3004).configure(queue, false)).doesNotThrowAnyException();
    }

    @Test
    void readyChecksThatEachRingIsRamEventFieldsIncluded() {
        assertReadyFault(new DriverRing(memory, 8, LOW_END - 0x70, 0x2000, 0x3000), "descriptor table 0xff90+0x80 of a 8-entry queue is not guest RAM");
        // 6 + 2 * 8 bytes, used_event last: one byte short of RAM
        assertReadyFault(new DriverRing(memory, 8, 0x1000, LOW_END - 20, 0x3000), "available ring 0xffec+0x16 of a 8-entry queue is not guest RAM");
        assertReadyFault(new DriverRing(memory, 8, 0x1000, 0x2000, GAP), "used ring 0x80000+0x46 of a 8-entry queue is not guest RAM");
        assertReadyFault(new DriverRing(memory, 8, 0x1000, 0x2000, -64), "used ring 0xffffffffffffffc0+0x46 of a 8-entry queue is not guest RAM");
        assertThatCode(() -> new DriverRing(memory, 8, LOW_END - 0x80, LOW_END - 22, LOW_END - 72).configure(queue, false))
                .doesNotThrowAnyException();
    }

    @Test
    void aReadyQueueKeepsTheLayoutItChecked() throws QueueFault {
        driver.configure(queue, false);
        queue.setDescriptorTable(GAP);
        queue.setAvailableRing(GAP);
        queue.setUsedRing(GAP);
        queue.setSize(3);
        driver.descriptor(0, 0x7000, 1, 0, 0);
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        queue.add(0, 0);
        assertThat(driver.usedIdx()).isEqualTo(1);
        assertThat(queue.size()).isEqualTo(8);
    }

    @Test
    void resetRestoresTheDefaultsAndStartsTheIndicesAgain() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, 0, 0);
        driver.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        queue.add(0, 0);

        queue.reset();
        assertThat(queue.ready()).isFalse();
        assertThat(queue.size()).isEqualTo(16);
        assertThatThrownBy(() -> queue.pop(chain)).isInstanceOf(IllegalStateException.class);

        DriverRing fresh = new DriverRing(memory, 16, 0x8000, 0x9000, 0xA000);
        fresh.configure(queue, false);
        fresh.descriptor(0, 0x7000, 1, 0, 0);
        fresh.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        queue.add(0, 0);
        assertThat(fresh.usedIdx()).isEqualTo(1);
    }

    @Test
    void aChainSmallerThanTheQueueIsRefused() throws QueueFault {
        driver.configure(queue, false);
        assertThatThrownBy(() -> queue.pop(new DescriptorChain(4))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withoutEventIndexTheUsedFlagsAskForNoKicksWhileDraining() throws QueueFault {
        driver.configure(queue, false);
        queue.disableNotifications();
        assertThat(driver.usedFlags()).isEqualTo(1);
        assertThat(queue.enableNotifications()).isFalse();
        assertThat(driver.usedFlags()).isZero();
    }

    @Test
    void enablingNotificationsSaysWhenBuffersCameWhileTheyWereOff() throws QueueFault {
        for (boolean eventIndex : new boolean[] {false, true}) {
            queue.reset();
            driver.publish(0);
            driver.configure(queue, eventIndex);
            driver.descriptor(0, 0x7000, 1, 0, 0);
            queue.disableNotifications();
            assertThat(queue.pop(chain)).isFalse();
            driver.offer(0); // the driver saw kicks off and did not notify
            assertThat(queue.enableNotifications()).as("event index " + eventIndex).isTrue();
            assertThat(queue.pop(chain)).isTrue();
            assertThat(queue.enableNotifications()).isFalse();
        }
    }

    @Test
    void withEventIndexEnablingAsksForAKickAtTheNextEntryAndDisablingWritesNothing() throws QueueFault {
        driver.configure(queue, true);
        for (int i = 0; i < 3; i++) {
            driver.descriptor(i, 0x7000, 1, 0, 0);
        }
        driver.offer(0, 1, 2);
        queue.disableNotifications();
        assertThat(driver.usedFlags()).isZero();
        while (queue.pop(chain)) {
            queue.add(chain.head(), 0);
        }
        assertThat(queue.enableNotifications()).isFalse();
        assertThat(driver.availEvent()).isEqualTo(3);
        assertThat(driver.usedFlags()).isZero();
    }

    @Test
    void withoutEventIndexNoInterruptSuppressesInterrupts() throws QueueFault {
        driver.configure(queue, false);
        driver.descriptor(0, 0x7000, 1, 0, 0);
        driver.offer(0, 0);
        assertThat(queue.needsInterrupt()).as("nothing used yet").isFalse();

        queue.pop(chain);
        queue.add(0, 0);
        assertThat(queue.needsInterrupt()).isTrue();
        assertThat(queue.needsInterrupt()).as("nothing used since").isFalse();

        driver.availFlags(1);
        queue.pop(chain);
        queue.add(0, 0);
        assertThat(queue.needsInterrupt()).isFalse();
    }

    @Test
    void withEventIndexAnInterruptIsNeededExactlyWhenUsedEventIsCrossed() throws QueueFault {
        driver.configure(queue, true);
        driver.descriptor(0, 0x7000, 1, 0, 0);
        driver.availFlags(1); // the driver must write 0 with event index, and the device ignore it
        driver.usedEvent(2);  // wake me when the entry at used index 2 is written
        assertThat(usedAndNeedsInterrupt(1)).isFalse(); // used idx 1
        assertThat(usedAndNeedsInterrupt(1)).isFalse(); // used idx 2
        assertThat(usedAndNeedsInterrupt(1)).isTrue();  // used idx 3: entry 2 written
        assertThat(usedAndNeedsInterrupt(1)).isFalse(); // used idx 4: already past

        driver.usedEvent(5);
        assertThat(usedAndNeedsInterrupt(3)).as("a batch 4..7 crossing 5").isTrue();
        driver.usedEvent(10);
        assertThat(usedAndNeedsInterrupt(2)).as("a batch 7..9 short of 10").isFalse();
        driver.usedEvent(9);
        assertThat(queue.needsInterrupt()).as("nothing used since: 9 is not yet written").isFalse();
        assertThat(usedAndNeedsInterrupt(1)).isTrue();
    }

    @Test
    void aQueueThatIsNotReadyRefusesTheWorkersCalls() {
        assertThatThrownBy(() -> queue.pop(chain)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> queue.add(0, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(queue::needsInterrupt).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(queue::disableNotifications).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(queue::enableNotifications).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void addRefusesAHeadOutsideTheQueueAndANegativeLength() throws QueueFault {
        driver.configure(queue, false);
        assertThatThrownBy(() -> queue.add(8, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> queue.add(0, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Offers and uses {@code count} chains, then asks whether the driver wants an interrupt. */
    private boolean usedAndNeedsInterrupt(int count) throws QueueFault {
        for (int i = 0; i < count; i++) {
            driver.offer(0);
            assertThat(queue.pop(chain)).isTrue();
            queue.add(0, 0);
        }
        return queue.needsInterrupt();
    }

    private void assertFault(String message) {
        assertThatThrownBy(() -> queue.pop(chain)).isInstanceOf(QueueFault.class).hasMessage(message);
    }

    private void assertReadyFault(DriverRing ring, String message) {
        queue.reset();
        assertThatThrownBy(() -> ring.configure(queue, false)).isInstanceOf(QueueFault.class).hasMessage(message);
        assertThat(queue.ready()).isFalse();
    }
}
