package dev.machina.cpu.mmu;

import dev.machina.cpu.chipset.InterruptController;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.memory.RamRegion;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.spi.Traps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One core's view of guest-physical memory: RAM straight through the guest's mapping, the local
 * APIC page through its {@link InterruptController}, everything else through the guest's traps
 * (an MMIO exit as a hardware VMM would count it). Writes to RAM that holds decoded code
 * invalidate it, which keeps self-modifying code correct.
 */
public final class PhysicalBus {
    public static final long PAGE_MASK = 0xFFFL;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_ATOMIC = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final VarHandle INT_ATOMIC = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final MemorySegment ram;
    private final RamRegion[] regions;
    private final Traps traps;
    private final Doorbells doorbells;
    private final ExitCounters counters;
    private final CodeCache code;
    private InterruptController apic;

    public PhysicalBus(GuestMemory memory, Traps traps, Doorbells doorbells, ExitCounters counters, CodeCache code) {
        this.ram = memory.mapping();
        this.regions = memory.regions().toArray(RamRegion[]::new);
        this.traps = traps;
        this.doorbells = doorbells;
        this.counters = counters;
        this.code = code;
    }

    /** Routes the local APIC page to {@code controller} (null: no APIC on this core). */
    public void attachApic(InterruptController controller) {
        this.apic = controller;
    }

    public CodeCache code() {
        return code;
    }

    /** The mapping of all guest RAM that {@link #hostPage} offsets index. */
    public MemorySegment ram() {
        return ram;
    }

    /** The offset in the RAM mapping of the page holding {@code physical}, or -1 if it is not RAM. */
    public long hostPage(long physical) {
        long page = physical & ~PAGE_MASK;
        for (RamRegion region : regions) {
            if (region.contains(page, PAGE_MASK + 1)) {
                return region.hostOffset() + (page - region.guestAddress());
            }
        }
        return -1;
    }

    public long readRam(long host, int size) {
        return switch (size) {
            case 1 -> load8(ram, host);
            case 2 -> load16(ram, host);
            case 4 -> load32(ram, host);
            default -> load64(ram, host);
        };
    }

    public void writeRam(long host, int size, long value) {
        switch (size) {
            case 1 -> store8(ram, host, value);
            case 2 -> store16(ram, host, value);
            case 4 -> store32(ram, host, value);
            default -> store64(ram, host, value);
        }
        code.written(host);
    }

    /** Copies {@code bytes} of RAM within one page (destination page {@code to}'s), as if byte by byte going up where they do not overlap. */
    public void copyRam(long from, long to, long bytes) {
        MemorySegment.copy(ram, from, ram, to, bytes);
        code.written(to);
    }

    /** Stores {@code count} copies of the {@code size}-byte {@code value} from {@code to}, within one page. */
    public void fillRam(long to, long count, int size, long value) {
        long element = size == 8 ? value : value & ((1L << (size * 8)) - 1);
        long bytePattern = (value & 0xFF) * 0x0101_0101_0101_0101L;
        if (size == 1 || (element == (bytePattern & (size == 8 ? -1L : (1L << (size * 8)) - 1)))) {
            ram.asSlice(to, count * size).fill((byte) value);
        } else {
            for (long at = to; at < to + count * size; at += size) {
                switch (size) {
                    case 2 -> store16(ram, at, value);
                    case 4 -> store32(ram, at, value);
                    default -> store64(ram, at, value);
                }
            }
        }
        code.written(to);
    }

    // Little-endian RAM access by size, zero-extended: the one definition, which translated code
    // calls directly with the bus's mapping (no code-cache check: it makes that itself).

    public static long load8(MemorySegment ram, long host) {
        return ram.get(ValueLayout.JAVA_BYTE, host) & 0xFFL;
    }

    public static long load16(MemorySegment ram, long host) {
        return ram.get(SHORT, host) & 0xFFFFL;
    }

    public static long load32(MemorySegment ram, long host) {
        return ram.get(INT, host) & 0xFFFF_FFFFL;
    }

    public static long load64(MemorySegment ram, long host) {
        return ram.get(LONG, host);
    }

    public static void store8(MemorySegment ram, long host, long value) {
        ram.set(ValueLayout.JAVA_BYTE, host, (byte) value);
    }

    public static void store16(MemorySegment ram, long host, long value) {
        ram.set(SHORT, host, (short) value);
    }

    public static void store32(MemorySegment ram, long host, long value) {
        ram.set(INT, host, (int) value);
    }

    public static void store64(MemorySegment ram, long host, long value) {
        ram.set(LONG, host, value);
    }

    /**
     * Atomically replaces {@code expected} by {@code value} in naturally aligned RAM; the LOCK
     * prefix's guarantee against other vCPUs. Returns whether the memory still held {@code expected}.
     */
    public boolean compareAndSetRam(long host, int size, long expected, long value) {
        boolean swapped = switch (size) {
            case 1, 2 -> compareAndSetWithinInt(host, size, expected, value);
            case 4 -> INT_ATOMIC.compareAndSet(ram, host, (int) expected, (int) value);
            default -> LONG_ATOMIC.compareAndSet(ram, host, expected, value);
        };
        if (swapped) {
            code.written(host);
        }
        return swapped;
    }

    /**
     * Memory segments offer compare-and-set only on ints and longs, so a byte or an aligned word
     * is swapped inside the aligned int that holds it, the neighbouring bytes compared unchanged.
     */
    private boolean compareAndSetWithinInt(long host, int size, long expected, long value) {
        long word = host & ~3L;
        int shift = (int) (host - word) * 8;
        int mask = (int) Traps.mask(size) << shift;
        int current = (int) INT_ATOMIC.getVolatile(ram, word);
        if (((current & mask) >>> shift) != (int) (expected & Traps.mask(size))) {
            return false;
        }
        int replaced = (current & ~mask) | (((int) value << shift) & mask);
        return INT_ATOMIC.compareAndSet(ram, word, current, replaced);
    }

    /** A read of {@code size} bytes at a physical address that is not RAM. */
    public long readDevice(long physical, int size) {
        counters.exited(ExitReason.MMIO);
        if (apic != null && (physical & ~PAGE_MASK) == (apic.apicBase() & ~PAGE_MASK)) {
            return apic.readRegister((int) (physical & PAGE_MASK)) & Traps.mask(size);
        }
        return traps.readMemory(physical, size);
    }

    public void writeDevice(long physical, int size, long value) {
        counters.exited(ExitReason.MMIO);
        if (apic != null && (physical & ~PAGE_MASK) == (apic.apicBase() & ~PAGE_MASK)) {
            apic.writeRegister((int) (physical & PAGE_MASK), (int) value);
            return;
        }
        traps.writeMemory(physical, size, value, doorbells);
    }

    /** A physical read anywhere (page-table walks, descriptor tables, the decoder). */
    public long read(long physical, int size) {
        long host = hostPage(physical);
        return host < 0 ? readDevice(physical, size) : readRam(host + (physical & PAGE_MASK), size);
    }

    public void write(long physical, int size, long value) {
        long host = hostPage(physical);
        if (host < 0) {
            writeDevice(physical, size, value);
        } else {
            writeRam(host + (physical & PAGE_MASK), size, value);
        }
    }
}
