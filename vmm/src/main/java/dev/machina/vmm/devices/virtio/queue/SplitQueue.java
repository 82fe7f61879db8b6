package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.GuestMemory;

import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * One split virtqueue of a device (virtio 1.2, 2.7), device side.
 *
 * <p>The transport configures it from the driver's writes to the common configuration (size, ring
 * addresses, event index) and makes it {@linkplain #setReady ready}, which validates the layout
 * once: from then on every ring access stays inside the rings, so only what the driver puts in them
 * can be malformed, and that is a {@link QueueFault}. The device's worker then
 * {@linkplain #pop pops} chains, {@linkplain #add adds} them back as used, and asks whether to
 * interrupt the driver:
 *
 * <pre>{@code
 * do {
 *     queue.disableNotifications();
 *     while (queue.pop(chain)) {
 *         queue.add(chain.head(), serve(chain));
 *     }
 * } while (queue.enableNotifications()); // buffers that came while kicks were off
 * if (queue.needsInterrupt()) {
 *     interrupt();
 * }
 * }</pre>
 *
 * <p>Indirect tables are always followed, so a device may offer VIRTIO_F_INDIRECT_DESC; a driver
 * using them without it is not refused. A chain holds at most queue-size buffers, indirect ones
 * counted, as 2.7.5.3.1 requires of the driver: a device's own limits (virtio-blk's seg_max) must
 * leave room for its headers within that.
 *
 * <p>Threading: not thread-safe. One thread at a time uses a queue; the transport's configuration
 * calls and {@link #reset} must not overlap the worker's calls, and whatever hands the queue from
 * one thread to the other (starting the worker, a lock, a volatile flag) must order them. The
 * driver runs concurrently on vCPU threads; the fences here order this thread's accesses to the
 * rings as the spec's barriers require.
 */
public final class SplitQueue {
    /** The largest queue size of a split virtqueue (2.7): the largest power of 2 in 16 bits. */
    public static final int MAX_SIZE = 32768;

    private static final int AVAIL_F_NO_INTERRUPT = 1;
    private static final int USED_F_NO_NOTIFY = 1;
    private static final int RING_HEADER = 4; // flags, idx
    private static final int USED_ELEMENT_SIZE = 8;

    private final GuestMemory memory;
    private final int maxSize;
    private final ChainParser parser;

    private int size;
    private long descriptorTable;
    private long availableRing;
    private long usedRing;
    private boolean eventIndex;
    private boolean ready;

    /** Free-running 16-bit indices: the next available entry to pop, the next used entry to fill. */
    private int nextAvail;
    private int nextUsed;
    /** The used index when {@link #needsInterrupt} last decided, where its next decision starts. */
    private int signalledUsed;

    /** A queue over {@code memory} of at most {@code maxSize} entries, a power of 2 up to {@link #MAX_SIZE}. */
    public SplitQueue(GuestMemory memory, int maxSize) {
        if (maxSize < 1 || maxSize > MAX_SIZE || Integer.bitCount(maxSize) != 1) {
            throw new IllegalArgumentException("a split virtqueue's size is a power of 2 up to 32768, not " + maxSize);
        }
        this.memory = memory;
        this.maxSize = maxSize;
        this.parser = new ChainParser(memory);
        reset();
    }

    /** The size the device offers, and the size after a reset. */
    public int maxSize() {
        return maxSize;
    }

    public int size() {
        return size;
    }

    // The setters take the driver's value as is and leave its validation to setReady. While the
    // queue is ready they change nothing: the driver configures a queue before enabling it
    // (4.1.4.3.2), and an enabled queue keeps running on the layout it validated, not on one it has not.

    public void setSize(int size) {
        if (!ready) {
            this.size = size;
        }
    }

    /** The ring addresses the driver gave, as the common configuration reads them back. */
    public long descriptorTable() {
        return descriptorTable;
    }

    public long availableRing() {
        return availableRing;
    }

    public long usedRing() {
        return usedRing;
    }

    public void setDescriptorTable(long address) {
        if (!ready) {
            descriptorTable = address;
        }
    }

    public void setAvailableRing(long address) {
        if (!ready) {
            availableRing = address;
        }
    }

    public void setUsedRing(long address) {
        if (!ready) {
            usedRing = address;
        }
    }

    /** Whether VIRTIO_F_RING_EVENT_IDX was negotiated: {@code used_event} and {@code avail_event} replace the flags. */
    public void setEventIndex(boolean negotiated) {
        if (!ready) {
            eventIndex = negotiated;
        }
    }

    /**
     * Enables the queue, after checking that its size is a power of 2 up to {@link #maxSize} and
     * that each ring is aligned (descriptor table 16, available ring 2, used ring 4) and wholly in
     * one RAM region, event index fields included; or disables it, keeping its indices.
     *
     * @throws QueueFault if the layout is wrong; the queue stays disabled
     */
    public void setReady(boolean ready) throws QueueFault {
        if (ready) {
            if (size < 1 || size > maxSize || Integer.bitCount(size) != 1) {
                throw new QueueFault("queue size %d is not a power of 2 from 1 to %d".formatted(size, maxSize));
            }
            checkRing("descriptor table", descriptorTable, 16, (long) ChainParser.DESCRIPTOR_SIZE * size);
            checkRing("available ring", availableRing, 2, RING_HEADER + 2L * size + 2);
            checkRing("used ring", usedRing, 4, RING_HEADER + (long) USED_ELEMENT_SIZE * size + 2);
        }
        this.ready = ready;
    }

    public boolean ready() {
        return ready;
    }

    /** Back to the device's defaults: size {@link #maxSize}, addresses 0, no event index, indices 0, not ready. */
    public void reset() {
        ready = false;
        size = maxSize;
        descriptorTable = 0;
        availableRing = 0;
        usedRing = 0;
        eventIndex = false;
        nextAvail = 0;
        nextUsed = 0;
        signalledUsed = 0;
    }

    /**
     * Fills {@code chain} with the next available descriptor chain and returns true, or returns
     * false if the driver has made none available.
     *
     * @throws QueueFault if the available ring or the chain is malformed; the entry stays unpopped
     * @throws IllegalArgumentException if {@code chain} holds fewer segments than the queue's size
     */
    public boolean pop(DescriptorChain chain) throws QueueFault {
        requireReady();
        if (chain.maxSegments() < size) {
            throw new IllegalArgumentException("a chain of %d segments for a queue of %d".formatted(chain.maxSegments(), size));
        }
        int availIdx = memory.readShort(availableRing + 2) & 0xFFFF;
        // The driver wrote the ring entries and descriptors before this index (2.7.13): read them after it.
        VarHandle.acquireFence();
        int pending = (availIdx - nextAvail) & 0xFFFF;
        if (pending == 0) {
            return false;
        }
        if (pending > size) {
            throw new QueueFault("available index moved from %d to %d, more than the queue size %d ahead"
                    .formatted(nextAvail, availIdx, size));
        }
        int head = memory.readShort(availableRing + RING_HEADER + 2L * (nextAvail & (size - 1))) & 0xFFFF;
        if (head >= size) {
            throw new QueueFault("available ring entry %d: head index %d is outside the descriptor table's %d entries"
                    .formatted(nextAvail, head, size));
        }
        parser.parse(descriptorTable, size, head, chain);
        nextAvail = (nextAvail + 1) & 0xFFFF;
        return true;
    }

    /**
     * Returns the chain with head {@code head} to the driver as used, with {@code written} bytes
     * written into its device-writable buffers (written before this call). Chains may be returned
     * in any order.
     */
    public void add(int head, int written) {
        requireReady();
        Objects.checkIndex(head, size);
        if (written < 0) {
            throw new IllegalArgumentException("negative length written " + written);
        }
        long element = usedRing + RING_HEADER + (long) USED_ELEMENT_SIZE * (nextUsed & (size - 1));
        memory.writeLong(element, Integer.toUnsignedLong(head) | (long) written << 32); // le32 id, le32 len
        // The driver reads the element, and the buffers, once it sees the index (2.7.8.2: len before idx).
        VarHandle.releaseFence();
        nextUsed = (nextUsed + 1) & 0xFFFF;
        memory.writeShort(usedRing + 2, (short) nextUsed);
    }

    /**
     * After a batch of {@link #add}s: whether the driver wants a used buffer notification for the
     * buffers used since the last call (none if there were none). With event index, exactly when
     * the used index passed {@code used_event} (vring_need_event); otherwise unless the driver set
     * VIRTQ_AVAIL_F_NO_INTERRUPT.
     */
    public boolean needsInterrupt() {
        requireReady();
        // The used index written by add() must be visible before the driver's suppression is read:
        // else the driver may check the old index, decide to wait, and the device skip the interrupt.
        VarHandle.fullFence();
        int old = signalledUsed;
        signalledUsed = nextUsed;
        if (eventIndex) {
            int usedEvent = memory.readShort(availableRing + RING_HEADER + 2L * size) & 0xFFFF;
            return ((nextUsed - usedEvent - 1) & 0xFFFF) < ((nextUsed - old) & 0xFFFF);
        }
        return old != nextUsed && (memory.readShort(availableRing) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    /**
     * Asks the driver not to notify the device of new buffers while the worker is draining the
     * queue: VIRTQ_USED_F_NO_NOTIFY; with event index nothing needs writing, since
     * {@code avail_event} stays behind what the driver adds until {@link #enableNotifications}.
     */
    public void disableNotifications() {
        requireReady();
        if (!eventIndex) {
            memory.writeShort(usedRing, (short) USED_F_NO_NOTIFY);
        }
    }

    /**
     * Asks the driver to notify the device of the next buffer it makes available, and returns
     * whether buffers arrived meanwhile: then the driver may already have decided not to notify,
     * and the worker must pop them itself rather than wait.
     */
    public boolean enableNotifications() {
        requireReady();
        if (eventIndex) {
            memory.writeShort(usedRing + RING_HEADER + (long) USED_ELEMENT_SIZE * size, (short) nextAvail);
        } else {
            memory.writeShort(usedRing, (short) 0);
        }
        // The request must be visible before the available index is read again (2.7.10).
        VarHandle.fullFence();
        return (memory.readShort(availableRing + 2) & 0xFFFF) != nextAvail;
    }

    private void checkRing(String name, long address, int alignment, long length) throws QueueFault {
        if ((address & (alignment - 1)) != 0) {
            throw new QueueFault("%s at 0x%s is not %d-byte aligned".formatted(name, Long.toUnsignedString(address, 16), alignment));
        }
        if (!memory.isRam(address, length)) {
            throw new QueueFault("%s %s of a %d-entry queue is not guest RAM".formatted(name, ChainParser.range(address, length), size));
        }
    }

    private void requireReady() {
        if (!ready) {
            throw new IllegalStateException("the queue is not ready");
        }
    }
}
