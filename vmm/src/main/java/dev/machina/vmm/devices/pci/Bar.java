package dev.machina.vmm.devices.pci;

import dev.machina.hypervisor.BellHandler;
import dev.machina.hypervisor.TrapHandler;

import java.util.List;

/**
 * A memory base address register: {@code size} bytes (a power of two, at least 4 KiB so that
 * each BAR has pages of its own) holding the device's register regions at fixed offsets, which
 * follow the BAR wherever the guest places it.
 *
 * @param is64Bit whether the BAR takes two registers and may be placed above 4 GiB
 */
public record Bar(long size, boolean is64Bit, List<Region> regions) {
    public static final long MIN_SIZE = 4096;

    /** A part of a BAR: registers read and written synchronously, or doorbells. */
    public sealed interface Region {
        long offset();

        long size();
    }

    /** Registers trapped synchronously on the accessing vCPU. */
    public record Registers(long offset, long size, TrapHandler handler) implements Region {
    }

    /** Doorbells ({@link dev.machina.hypervisor.Guest#setBellTrap}): writes that do not stop the vCPU. */
    public record Doorbells(long offset, long size, BellHandler handler) implements Region {
    }

    public Bar {
        if (size < MIN_SIZE || Long.bitCount(size) != 1 || (!is64Bit && size > 1L << 31)) {
            throw new IllegalArgumentException("a BAR is a power of two of at least 4 KiB, not 0x%x bytes".formatted(size));
        }
        regions = List.copyOf(regions);
        for (Region region : regions) {
            if (region.offset() < 0 || region.size() <= 0 || region.offset() + region.size() > size) {
                throw new IllegalArgumentException("region at 0x%x+0x%x is outside the 0x%x-byte BAR"
                        .formatted(region.offset(), region.size(), size));
            }
        }
    }
}
