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
 *
 * <p>This object is the one door through which the VMM and its devices write guest RAM: every
 * write through it is reported to the backend's {@link WriteObserver} once the bytes are in
 * place, so that a backend that caches guest code (the Java CPU) drops what a DMA overwrote. Only
 * a backend touches {@link #mapping()} directly; a writable view exists only during {@link #update}.
 */
public final class GuestMemory implements AutoCloseable {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment mapping;
    private final RamRegion[] regions;
    private volatile WriteObserver observer = (hostOffset, length) -> { };

    /** Hears of writes to guest RAM made through a {@link GuestMemory}, after they happened. */
    @FunctionalInterface
    public interface WriteObserver {
        /** {@code [hostOffset, hostOffset + length)} of the {@link #mapping()} was written. */
        void written(long hostOffset, long length);
    }

    /** Writes guest RAM through a writable view, for bulk transfers such as reading a file into RAM. */
    @FunctionalInterface
    public interface RamWriter<E extends Exception> {
        void write(MemorySegment target) throws E;
    }

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

    /** Reports every later write through this object to {@code observer}, in place of the one before. */
    public void observeWrites(WriteObserver observer) {
        this.observer = observer;
    }

    /**
     * The whole host mapping, writable, for the backend that runs the guest; region {@code r}
     * starts at {@code r.hostOffset()}. Writes through it bypass the {@link WriteObserver}.
     */
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

    /**
     * Lets {@code writer} write guest-physical {@code [address, address + length)}, which must be
     * RAM, through a writable view that is valid only during the call; the observer hears of the
     * whole range afterwards, whether or not the writer finished.
     */
    public <E extends Exception> void update(long address, long length, RamWriter<E> writer) throws E {
        long host = hostOffset(address, length);
        try {
            writer.write(mapping.asSlice(host, length));
        } finally {
            observer.written(host, length);
        }
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
        long host = hostOffset(address, 1);
        mapping.set(ValueLayout.JAVA_BYTE, host, value);
        observer.written(host, 1);
    }

    public void writeShort(long address, short value) {
        long host = hostOffset(address, 2);
        mapping.set(SHORT, host, value);
        observer.written(host, 2);
    }

    public void writeInt(long address, int value) {
        long host = hostOffset(address, 4);
        mapping.set(INT, host, value);
        observer.written(host, 4);
    }

    public void writeLong(long address, long value) {
        long host = hostOffset(address, 8);
        mapping.set(LONG, host, value);
        observer.written(host, 8);
    }

    /** Copies guest RAM at {@code address} into {@code target[offset, offset + length)}. */
    public void read(long address, byte[] target, int offset, int length) {
        MemorySegment.copy(mapping, ValueLayout.JAVA_BYTE, hostOffset(address, length), target, offset, length);
    }

    /** Copies {@code source[offset, offset + length)} into guest RAM at {@code address}. */
    public void write(long address, byte[] source, int offset, int length) {
        long host = hostOffset(address, length);
        MemorySegment.copy(source, offset, mapping, ValueLayout.JAVA_BYTE, host, length);
        observer.written(host, length);
    }

    /** Copies {@code source} wholly into guest RAM at {@code address}. */
    public void write(long address, MemorySegment source) {
        write(address, source, 0, source.byteSize());
    }

    /** Copies {@code source[offset, offset + length)} into guest RAM at {@code address}. */
    public void write(long address, MemorySegment source, long offset, long length) {
        long host = hostOffset(address, length);
        MemorySegment.copy(source, offset, mapping, host, length);
        observer.written(host, length);
    }

    /** Copies guest RAM at {@code address} into {@code target[offset, offset + length)}. */
    public void read(long address, MemorySegment target, long offset, long length) {
        MemorySegment.copy(mapping, hostOffset(address, length), target, offset, length);
    }

    /** Sets guest-physical {@code [address, address + length)} to {@code value}. */
    public void fill(long address, long length, byte value) {
        long host = hostOffset(address, length);
        mapping.asSlice(host, length).fill(value);
        observer.written(host, length);
    }

    /** Gives {@code [address, address + length)} back to the host; it reads as zeros afterwards. */
    public void discard(long address, long length) {
        long host = hostOffset(address, length);
        Posix.madvise(mapping.asSlice(host, length), Posix.MADV_DONTNEED);
        observer.written(host, length);
    }

    /** Unmaps the RAM. Accesses from any thread afterwards throw {@link IllegalStateException}. */
    @Override
    public void close() {
        arena.close();
    }
}
