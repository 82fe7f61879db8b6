package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.GuestMemory;

/**
 * The driver's side of a split virtqueue in guest RAM, for tests: writes descriptors and the
 * available ring as a driver would, reads back what the device put in the used ring.
 */
public final class DriverRing {
    public static final int NEXT = ChainParser.F_NEXT;
    public static final int WRITE = ChainParser.F_WRITE;
    public static final int INDIRECT = ChainParser.F_INDIRECT;

    private final GuestMemory memory;
    private final int size;
    private final long descriptors;
    private final long available;
    private final long used;
    private int availIdx;

    public DriverRing(GuestMemory memory, int size, long descriptors, long available, long used) {
        this.memory = memory;
        this.size = size;
        this.descriptors = descriptors;
        this.available = available;
        this.used = used;
    }

    /** Configures {@code queue} with this ring's layout, as the transport would from the driver's writes, and makes it ready. */
    public SplitQueue configure(SplitQueue queue, boolean eventIndex) throws QueueFault {
        layOut(queue, eventIndex);
        queue.setReady(true);
        return queue;
    }

    /** Gives {@code queue} this ring's layout without making it ready. */
    public void layOut(SplitQueue queue, boolean eventIndex) {
        queue.setSize(size);
        queue.setDescriptorTable(descriptors);
        queue.setAvailableRing(available);
        queue.setUsedRing(used);
        queue.setEventIndex(eventIndex);
    }

    /** Zeroes the table and both rings, as a driver allocating them does. */
    public void zero() {
        memory.fill(descriptors, 16L * size, (byte) 0);
        memory.fill(available, 6 + 2L * size, (byte) 0);
        memory.fill(used, 6 + 8L * size, (byte) 0);
        availIdx = 0;
    }

    public int size() {
        return size;
    }

    public long descriptors() {
        return descriptors;
    }

    /** Writes descriptor {@code index} of the main table. */
    public void descriptor(int index, long address, int length, int flags, int next) {
        descriptor(descriptors, index, address, length, flags, next);
    }

    /** Writes descriptor {@code index} of the table at {@code table} (the main one or an indirect one). */
    public void descriptor(long table, int index, long address, int length, int flags, int next) {
        long at = table + 16L * index;
        memory.writeLong(at, address);
        memory.writeInt(at + 8, length);
        memory.writeShort(at + 12, (short) flags);
        memory.writeShort(at + 14, (short) next);
    }

    /** Puts {@code heads} into the available ring and then publishes them with the index, as 2.7.13 orders. */
    public void offer(int... heads) {
        for (int head : heads) {
            memory.writeShort(available + 4 + 2L * ((availIdx++ & 0xFFFF) % size), (short) head);
        }
        publish(availIdx);
    }

    /** Sets the available index to {@code idx}, whatever came before. */
    public void publish(int idx) {
        availIdx = idx & 0xFFFF;
        memory.writeShort(available + 2, (short) idx);
    }

    public int availIdx() {
        return availIdx;
    }

    public void availFlags(int flags) {
        memory.writeShort(available, (short) flags);
    }

    public void usedEvent(int idx) {
        memory.writeShort(available + 4 + 2L * size, (short) idx);
    }

    public int usedFlags() {
        return memory.readShort(used) & 0xFFFF;
    }

    public int usedIdx() {
        return memory.readShort(used + 2) & 0xFFFF;
    }

    public int availEvent() {
        return memory.readShort(used + 4 + 8L * size) & 0xFFFF;
    }

    /** The head index the device put at free-running used index {@code idx}. */
    public int usedId(int idx) {
        return memory.readInt(used + 4 + 8L * ((idx & 0xFFFF) % size));
    }

    /** The length written the device reported at free-running used index {@code idx}. */
    public int usedLength(int idx) {
        return memory.readInt(used + 8 + 8L * ((idx & 0xFFFF) % size));
    }
}
