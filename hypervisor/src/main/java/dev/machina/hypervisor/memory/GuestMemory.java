package dev.machina.hypervisor.memory;

import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The guest-physical RAM of one guest: a single anonymous host mapping, committed lazily by the
 * host kernel as the guest touches it, laid out as one or more {@link RamRegion}s.
 *
 * <p>Every access is bounds-checked against the regions and then against the mapping itself
 * ({@link MemorySegment} checks), so no guest-physical address can reach host memory outside guest
 * RAM. The mapping belongs to a shared arena: closing the memory while a device thread still
 * uses it makes that thread's access fail with an exception, never a crash.
 */
public final class GuestMemory implements AutoCloseable {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment mapping;
    private final RamRegion[] regions;

    private GuestMemory(Arena arena, MemorySegment mapping, RamRegion[] regions) {
        this.arena = arena;
        this.mapping = mapping;
        this.regions = regions;
    }

    /**
     * Maps RAM for the given guest-physical ranges, in ascending address order and not
     * overlapping. Nothing is committed until the guest or the VMM touches it.
     *
     * @throws HypervisorException if the host will not reserve that much address space
     */
    public static GuestMemory allocate(List<AddressRange> ranges) {
        RamRegion[] regions = new RamRegion[ranges.size()];
        long offset = 0;
        long previousEnd = 0;
        for (int i = 0; i < regions.length; i++) {
            long start = ranges.get(i).start();
            long size = ranges.get(i).size();
            if (start < previousEnd) {
                throw new IllegalArgumentException("RAM ranges overlap or are out of order at 0x" + Long.toHexString(start));
            }
            regions[i] = new RamRegion(start, size, offset);
            offset += size;
            previousEnd = start + size;
        }
        Arena arena = Arena.ofShared();
        MemorySegment raw;
        try {
            raw = Posix.mmap(offset, Posix.PROT_READ | Posix.PROT_WRITE,
                    Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, -1, 0);
        } catch (PosixException e) {
            // The backends' limits leave this to a host that overcommits less than they assume
            // (vm.overcommit_memory=2, a ulimit -v): the user's fix is the size, so say it.
            throw new HypervisorException("the host cannot reserve %d MiB of address space for the guest's RAM: %s"
                    .formatted(offset >> 20, e.getMessage()), e);
        }
        MemorySegment mapping = raw.reinterpret(offset, arena, Posix::munmap);
        return new GuestMemory(arena, mapping, regions);
    }

    /** The RAM regions, in ascending guest-physical order. */
    public List<RamRegion> regions() {
        return List.of(regions);
    }

    /** The total amount of RAM in bytes. */
    public long size() {
        return mapping.byteSize();
    }

    /** The whole host mapping; region {@code r} starts at {@code r.hostOffset()}. */
    public MemorySegment mapping() {
        return mapping;
    }

    /** Whether {@code [address, address + length)} lies wholly inside one RAM region. */
    public boolean isRam(long address, long length) {
        for (RamRegion region : regions) {
            if (region.contains(address, length)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The offset in {@link #mapping()} of guest-physical {@code address}, checking that
     * {@code [address, address + length)} is RAM.
     *
     * @throws GuestMemoryException if any byte of the range is not RAM
     */
    public long hostOffset(long address, long length) {
        for (RamRegion region : regions) {
            if (region.contains(address, length)) {
                return region.hostOffset() + (address - region.guestAddress());
            }
        }
        throw new GuestMemoryException(address, length);
    }

    /** A view of guest-physical {@code [address, address + length)}, which must be RAM. */
    public MemorySegment slice(long address, long length) {
        return mapping.asSlice(hostOffset(address, length), length);
    }

    public byte readByte(long address) {
        return mapping.get(ValueLayout.JAVA_BYTE, hostOffset(address, 1));
    }

    public short readShort(long address) {
        return mapping.get(SHORT, hostOffset(address, 2));
    }

    public int readInt(long address) {
        return mapping.get(INT, hostOffset(address, 4));
    }

    public long readLong(long address) {
        return mapping.get(LONG, hostOffset(address, 8));
    }

    public void writeByte(long address, byte value) {
        mapping.set(ValueLayout.JAVA_BYTE, hostOffset(address, 1), value);
    }

    public void writeShort(long address, short value) {
        mapping.set(SHORT, hostOffset(address, 2), value);
    }

    public void writeInt(long address, int value) {
        mapping.set(INT, hostOffset(address, 4), value);
    }

    public void writeLong(long address, long value) {
        mapping.set(LONG, hostOffset(address, 8), value);
    }

    /** Copies guest RAM at {@code address} into {@code target[offset, offset + length)}. */
    public void read(long address, byte[] target, int offset, int length) {
        MemorySegment.copy(mapping, ValueLayout.JAVA_BYTE, hostOffset(address, length), target, offset, length);
    }

    /** Copies {@code source[offset, offset + length)} into guest RAM at {@code address}. */
    public void write(long address, byte[] source, int offset, int length) {
        MemorySegment.copy(source, offset, mapping, ValueLayout.JAVA_BYTE, hostOffset(address, length), length);
    }

    /** Copies {@code source} wholly into guest RAM at {@code address}. */
    public void write(long address, MemorySegment source) {
        MemorySegment.copy(source, 0, mapping, hostOffset(address, source.byteSize()), source.byteSize());
    }

    /** Gives {@code [address, address + length)} back to the host; it reads as zeros afterwards. */
    public void discard(long address, long length) {
        Posix.madvise(slice(address, length), Posix.MADV_DONTNEED);
    }

    /** Unmaps the RAM. Accesses from any thread afterwards throw {@link IllegalStateException}. */
    @Override
    public void close() {
        arena.close();
    }
}
