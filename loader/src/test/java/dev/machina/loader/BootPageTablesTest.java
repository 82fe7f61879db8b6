package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BootPageTablesTest {
    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;
    private static final long TABLES = 0x10000;
    /** Bits 51:12 of an entry: the physical address it points at. */
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    private static final long PRESENT = 1;
    private static final long WRITABLE = 2;
    private static final long LARGE = 0x80;

    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(16 * MIB));

    @AfterEach
    void closeMemory() {
        memory.close();
    }

    /** Walks PML4 -> PDPT -> PD by hand, as the MMU would, and returns the physical address. */
    private long translate(long cr3, long linear) {
        long pml4e = memory.readLong(cr3 + ((linear >>> 39) & 511) * 8);
        assertThat(pml4e & (PRESENT | WRITABLE)).as("PML4 entry flags").isEqualTo(PRESENT | WRITABLE);
        assertThat(pml4e & LARGE).isZero();
        long pdpte = memory.readLong((pml4e & ADDRESS_MASK) + ((linear >>> 30) & 511) * 8);
        assertThat(pdpte & (PRESENT | WRITABLE)).as("PDPT entry flags").isEqualTo(PRESENT | WRITABLE);
        assertThat(pdpte & LARGE).as("no 1 GiB pages").isZero();
        long pde = memory.readLong((pdpte & ADDRESS_MASK) + ((linear >>> 21) & 511) * 8);
        assertThat(pde & (PRESENT | WRITABLE | LARGE)).as("PD entry maps a writable 2 MiB page").isEqualTo(PRESENT | WRITABLE | LARGE);
        return (pde & ADDRESS_MASK & ~(2 * MIB - 1)) | (linear & (2 * MIB - 1));
    }

    @Test
    void identityMapsTheFirstFourGibEvenForLittleRam() {
        long cr3 = BootPageTables.write(memory, TABLES, 16 * MIB);

        assertThat(cr3).isEqualTo(TABLES);
        for (long address : new long[] {0, 0x1234, 0x10_0000, 16 * MIB - 1, 0xD000_0008L, 0xFEE0_00B0L, 4 * GIB - 1}) {
            assertThat(translate(cr3, address)).as("0x%x", address).isEqualTo(address);
        }
        long unmappedPdpt = memory.readLong((memory.readLong(cr3) & ADDRESS_MASK) + 4 * 8);
        assertThat(unmappedPdpt).as("nothing above 4 GiB").isZero();
        assertThat(memory.readLong(cr3 + 8)).as("second PML4 entry").isZero();
    }

    @Test
    void mapsPastFourGibWhenAsked() {
        long cr3 = BootPageTables.write(memory, TABLES, 5 * GIB + 1);

        assertThat(translate(cr3, 5 * GIB + 0x1234)).isEqualTo(5 * GIB + 0x1234);
        assertThat(translate(cr3, 6 * GIB - 1)).isEqualTo(6 * GIB - 1);
    }

    @Test
    void sizeCountsOnePml4OnePdptAndOneDirectoryPerGib() {
        assertThat(BootPageTables.size(16 * MIB)).isEqualTo((1 + 1 + 4) * 4096);
        assertThat(BootPageTables.size(6 * GIB)).isEqualTo((1 + 1 + 6) * 4096);
        assertThat(BootPageTables.size(600 * GIB)).isEqualTo((1 + 2 + 600) * 4096);
    }

    @Test
    void refusesMisalignedTablesAndTablesOutsideRam() {
        assertThatThrownBy(() -> BootPageTables.write(memory, TABLES + 8, 16 * MIB))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 4 KiB aligned");
        assertThatThrownBy(() -> BootPageTables.write(memory, 16 * MIB - 4096, 16 * MIB))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not fit in 16 MiB of guest RAM");
    }
}
