package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.RamRegion;
import dev.machina.vmm.boot.linux.E820Map.Entry;
import dev.machina.vmm.boot.linux.E820Map.Type;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class E820MapTest {
    @Test
    void standardMapReservesTheLowMemoryHole() {
        E820Map map = E820Map.standard(List.of(new RamRegion(0, 0x800_0000, 0)));

        assertThat(map.entries()).containsExactly(
                new Entry(0, 0x9_FC00, Type.RAM),
                new Entry(0x9_FC00, 0x6_0400, Type.RESERVED),
                new Entry(0x10_0000, 0x7F0_0000, Type.RAM));
    }

    @Test
    void carvesSeveralHolesAndKeepsRamAbove4GiB() {
        List<RamRegion> ram = List.of(new RamRegion(0, 0xC000_0000L, 0), new RamRegion(0x1_0000_0000L, 0x4000_0000L, 0xC000_0000L));
        E820Map map = E820Map.of(ram, List.of(
                new Entry(0x10_0000, 0x1000, Type.ACPI),
                new Entry(0x9_FC00, 0x6_0400, Type.RESERVED)));

        assertThat(map.entries()).containsExactly(
                new Entry(0, 0x9_FC00, Type.RAM),
                new Entry(0x9_FC00, 0x6_0400, Type.RESERVED),
                new Entry(0x10_0000, 0x1000, Type.ACPI),
                new Entry(0x10_1000, 0xBFEF_F000L, Type.RAM),
                new Entry(0x1_0000_0000L, 0x4000_0000L, Type.RAM));
        assertThat(map.ram()).hasSize(3);
    }

    @Test
    void reservedRangesOutsideRamAreListedToo() {
        E820Map map = E820Map.of(List.of(new RamRegion(0, 0x10_0000, 0)),
                List.of(new Entry(0xFEC0_0000L, 0x1000, Type.RESERVED)));

        assertThat(map.entries()).containsExactly(
                new Entry(0, 0x10_0000, Type.RAM), new Entry(0xFEC0_0000L, 0x1000, Type.RESERVED));
    }

    @Test
    void refusesOverlappingReservationsAndReservedRam() {
        List<RamRegion> ram = List.of(new RamRegion(0, 0x10_0000, 0));

        assertThatThrownBy(() -> E820Map.of(ram, List.of(new Entry(0x1000, 0x2000, Type.RESERVED), new Entry(0x2000, 0x1000, Type.ACPI))))
                .hasMessageStartingWith("reserved ranges overlap");
        assertThatThrownBy(() -> E820Map.of(ram, List.of(new Entry(0x1000, 0x2000, Type.RAM))))
                .hasMessageStartingWith("a reserved range cannot have type RAM");
    }
}
