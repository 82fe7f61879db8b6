package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * One descriptor chain popped from a {@link SplitQueue}: its buffers (segments) in chain order, the
 * device-readable ones first, then the device-writable ones, with indirect tables already followed.
 * A device keeps one and refills it with every {@link SplitQueue#pop}, so that requests allocate
 * nothing.
 *
 * <p>What {@code pop} guarantees about a filled chain: every segment lies wholly inside one RAM
 * region (so a device's accesses within a segment cannot fail), there are at most queue-size
 * segments, and their lengths add up to at most {@link Integer#MAX_VALUE}. The segments are a
 * snapshot of the descriptors: a driver rewriting its descriptors afterwards changes nothing here.
 *
 * <p>The accessors below address the chain's bytes by offset, counted across the readable segments
 * or across the writable ones, because a device must not assume how the driver split a message into
 * descriptors (virtio 1.2, 2.7.4). A zero-length segment is legal and simply holds no bytes.
 */
public final class DescriptorChain {
    private final long[] addresses;
    private final int[] lengths;
    private GuestMemory memory;
    private int head;
    private int segments;
    private int readableSegments;
    private long readableBytes;
    private long writableBytes;

    /** A chain for a queue of up to {@code maxSegments} entries, the longest chain such a queue can pop. */
    public DescriptorChain(int maxSegments) {
        if (maxSegments < 1) {
            throw new IllegalArgumentException("a chain holds at least one segment, not " + maxSegments);
        }
        addresses = new long[maxSegments];
        lengths = new int[maxSegments];
    }

    /** The most segments this chain holds; {@link SplitQueue#pop} takes it only for queues no larger. */
    public int maxSegments() {
        return addresses.length;
    }

    /** The index of the chain's head descriptor, which {@link SplitQueue#add} returns to the driver. */
    public int head() {
        return head;
    }

    public int segments() {
        return segments;
    }

    /** The guest-physical address of segment {@code i}. */
    public long address(int i) {
        return addresses[Objects.checkIndex(i, segments)];
    }

    public int length(int i) {
        return lengths[Objects.checkIndex(i, segments)];
    }

    /** Whether segment {@code i} is device-writable; all readable segments come before the writable ones. */
    public boolean writable(int i) {
        return Objects.checkIndex(i, segments) >= readableSegments;
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    /**
     * Copies the readable bytes from {@code offset} on into {@code target}, as many as fit and as
     * there are, and returns how many that was (0 at or past the end).
     */
    public int read(long offset, MemorySegment target) {
        return copy(offset, target, 0, target.byteSize(), false);
    }

    /**
     * Copies up to {@code length} readable bytes from {@code offset} on into {@code target} at
     * {@code targetOffset}, and returns how many that was: a device's reused buffer, without a
     * slice of it per request.
     */
    public int read(long offset, MemorySegment target, long targetOffset, long length) {
        return copy(offset, target, targetOffset, length, false);
    }

    /**
     * Copies {@code source} into the writable bytes from {@code offset} on, as much as there is room
     * for, and returns how many bytes that was (0 at or past the end). Writes go through
     * {@link GuestMemory}'s write methods, which tell the CPU's code cache.
     */
    public int write(long offset, MemorySegment source) {
        return copy(offset, source, 0, source.byteSize(), true);
    }

    /** Copies up to {@code length} bytes of {@code source} from {@code sourceOffset} into the writable bytes from {@code offset} on. */
    public int write(long offset, MemorySegment source, long sourceOffset, long length) {
        return copy(offset, source, sourceOffset, length, true);
    }

    /** The readable byte at {@code offset}. */
    public int readU8(long offset) throws QueueFault {
        return (int) readField(offset, Byte.BYTES) & 0xFF;
    }

    /** The little-endian 16-bit field at readable {@code offset}. */
    public int readU16(long offset) throws QueueFault {
        return (int) readField(offset, Short.BYTES) & 0xFFFF;
    }

    /** The little-endian 32-bit field at readable {@code offset}, zero-extended. */
    public long readU32(long offset) throws QueueFault {
        return readField(offset, Integer.BYTES) & 0xFFFF_FFFFL;
    }

    /** The little-endian 64-bit field at readable {@code offset}. */
    public long readU64(long offset) throws QueueFault {
        return readField(offset, Long.BYTES);
    }

    /** Writes byte {@code value} at writable {@code offset} (a status byte, say). */
    public void writeU8(long offset, int value) throws QueueFault {
        checkOffset(offset);
        if (offset >= writableBytes) {
            throw new QueueFault("no writable byte at offset %d: the chain from head %d has %d writable bytes"
                    .formatted(offset, head, writableBytes));
        }
        int i = readableSegments;
        while (offset >= lengths[i]) {
            offset -= lengths[i++];
        }
        memory.writeByte(addresses[i] + offset, (byte) value);
    }

    /** Empties the chain for a new one from {@code memory} starting at descriptor {@code head}. */
    void start(GuestMemory memory, int head) {
        this.memory = memory;
        this.head = head;
        segments = 0;
        readableSegments = 0;
        readableBytes = 0;
        writableBytes = 0;
    }

    /** Appends a segment; the caller has checked the order, the count, the total and that it is RAM. */
    void append(long address, int length, boolean writable) {
        addresses[segments] = address;
        lengths[segments] = length;
        segments++;
        if (writable) {
            writableBytes += length;
        } else {
            readableSegments++;
            readableBytes += length;
        }
    }

    boolean hasWritable() {
        return segments > readableSegments;
    }

    /** Reads a {@code size}-byte little-endian field that may straddle segments. */
    private long readField(long offset, int size) throws QueueFault {
        checkOffset(offset);
        if (offset > readableBytes - size) {
            throw new QueueFault("no %d-byte field at offset %d: the chain from head %d has %d readable bytes"
                    .formatted(size, offset, head, readableBytes));
        }
        int i = 0;
        while (offset >= lengths[i]) {
            offset -= lengths[i++];
        }
        long address = addresses[i] + offset;
        if (lengths[i] - offset >= size) {
            return switch (size) {
                case Byte.BYTES -> memory.readByte(address);
                case Short.BYTES -> memory.readShort(address);
                case Integer.BYTES -> memory.readInt(address);
                default -> memory.readLong(address);
            };
        }
        // Split across segments (rare, but the driver's choice): byte by byte, skipping empty ones.
        long value = 0;
        for (int shift = 0; shift < size * Byte.SIZE; ) {
            if (offset == lengths[i]) {
                i++;
                offset = 0;
                continue;
            }
            value |= (memory.readByte(addresses[i] + offset++) & 0xFFL) << shift;
            shift += Byte.SIZE;
        }
        return value;
    }

    /** Copies between {@code buffer} and the writable bytes ({@code toGuest}) or from the readable ones. */
    private int copy(long offset, MemorySegment buffer, long bufferOffset, long length, boolean toGuest) {
        checkOffset(offset);
        long available = toGuest ? writableBytes : readableBytes;
        long wanted = Math.min(Math.min(length, buffer.byteSize() - bufferOffset), Math.max(0, available - offset));
        long done = 0;
        for (int i = toGuest ? readableSegments : 0; done < wanted; i++) {
            if (offset >= lengths[i]) {
                offset -= lengths[i];
                continue;
            }
            long count = Math.min(lengths[i] - offset, wanted - done);
            if (toGuest) {
                memory.write(addresses[i] + offset, buffer, bufferOffset + done, count);
            } else {
                memory.read(addresses[i] + offset, buffer, bufferOffset + done, count);
            }
            done += count;
            offset = 0;
        }
        return (int) done;
    }

    private static void checkOffset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
    }
}
