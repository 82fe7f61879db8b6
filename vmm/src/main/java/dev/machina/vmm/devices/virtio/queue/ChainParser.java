package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Follows one descriptor chain through a split virtqueue's descriptor table, and through at most
 * one indirect table at its end, into a {@link DescriptorChain}, refusing every shape virtio 1.2
 * (2.7.5) forbids the driver. It reads each descriptor once, so what the device acts on is what was
 * checked even while the driver scribbles over its table.
 *
 * <p>The walk ends: every descriptor it reads either becomes a segment, of which there may be at
 * most queue-size, or switches to the one indirect table a chain may have.
 */
final class ChainParser {
    static final int DESCRIPTOR_SIZE = 16;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;

    private static final ValueLayout.OfLong ADDRESS = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LENGTH = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GuestMemory memory;
    /** The descriptor being looked at, copied out of guest RAM in one bounds-checked read. */
    private final MemorySegment descriptor = MemorySegment.ofArray(new byte[DESCRIPTOR_SIZE]);

    ChainParser(GuestMemory memory) {
        this.memory = memory;
    }

    /**
     * Fills {@code chain} with the chain at {@code head} of the {@code size}-entry descriptor table
     * at {@code table}, which the caller has checked is RAM, as {@code head < size}.
     */
    void parse(long table, int size, int head, DescriptorChain chain) throws QueueFault {
        chain.start(memory, head);
        long base = table;
        int entries = size;
        int index = head;
        long indirectTable = -1; // where the chain went indirect, for messages; -1 while it has not
        while (true) {
            memory.read(base + (long) index * DESCRIPTOR_SIZE, descriptor, 0, DESCRIPTOR_SIZE);
            long address = descriptor.get(ADDRESS, 0);
            long length = Integer.toUnsignedLong(descriptor.get(LENGTH, 8));
            int flags = descriptor.get(U16, 12) & 0xFFFF;
            int next = descriptor.get(U16, 14) & 0xFFFF;
            if ((flags & F_INDIRECT) != 0) {
                if (indirectTable != -1) {
                    throw fault(index, indirectTable, "an indirect table inside an indirect table");
                }
                if ((flags & F_NEXT) != 0) {
                    throw fault(index, indirectTable, "INDIRECT and NEXT both set");
                }
                if (length == 0 || length % DESCRIPTOR_SIZE != 0) {
                    throw fault(index, indirectTable, "indirect table length %d is not a positive multiple of 16".formatted(length));
                }
                if (!memory.isRam(address, length)) {
                    throw fault(index, indirectTable, "indirect table %s is not guest RAM".formatted(range(address, length)));
                }
                // Its WRITE flag means nothing (2.7.5.3.2: the device MUST ignore it).
                base = address;
                entries = (int) (length / DESCRIPTOR_SIZE);
                index = 0;
                indirectTable = address;
                continue;
            }
            if (chain.segments() == size) {
                throw fault(index, indirectTable, "the chain from head %d is longer than the queue size %d (a loop?)".formatted(head, size));
            }
            boolean writable = (flags & F_WRITE) != 0;
            if (!writable && chain.hasWritable()) {
                throw fault(index, indirectTable, "a device-readable buffer after a device-writable one");
            }
            if (!memory.isRam(address, length)) {
                throw fault(index, indirectTable, "buffer %s is not guest RAM".formatted(range(address, length)));
            }
            // The spec allows 4 GiB (2.7.5.2); no driver comes near 2 GiB, and below it every
            // length and count a device handles fits a Java int, the used ring's len included.
            if (chain.readableBytes() + chain.writableBytes() + length > Integer.MAX_VALUE) {
                throw fault(index, indirectTable, "the chain from head %d holds more than 2^31-1 bytes".formatted(head));
            }
            chain.append(address, (int) length, writable);
            if ((flags & F_NEXT) == 0) {
                return;
            }
            if (next >= entries) {
                throw fault(index, indirectTable, "next index %d is outside the table's %d entries".formatted(next, entries));
            }
            index = next;
        }
    }

    private static QueueFault fault(int index, long indirectTable, String what) {
        String where = indirectTable == -1
                ? "descriptor " + index
                : "descriptor %d of the indirect table at 0x%x".formatted(index, indirectTable);
        return new QueueFault(where + ": " + what);
    }

    /** {@code [address, address + length)} in hex, the address unsigned as the driver wrote it. */
    static String range(long address, long length) {
        return "0x%s+0x%x".formatted(Long.toUnsignedString(address, 16), length);
    }
}
