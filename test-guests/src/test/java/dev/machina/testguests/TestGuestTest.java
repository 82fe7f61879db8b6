package dev.machina.testguests;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.loader.BootPageTables;
import dev.machina.loader.ElfImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

class TestGuestTest {
    @ParameterizedTest
    @EnumSource(TestGuest.class)
    void eachGuestIsAnElfResourceThatLoadsAboveTheBootStructures(TestGuest guest) {
        assertThat(TestGuest.class.getResource(guest.resource())).as(guest.resource()).isNotNull();
        ElfImage image = guest.image();

        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(TestGuest.MEMORY_BYTES))) {
            ElfImage.LoadedImage loaded = image.load(memory);

            assertThat(loaded.entry()).isEqualTo(TestGuest.LOAD_ADDRESS);
            assertThat(loaded.lowestAddress()).isEqualTo(TestGuest.LOAD_ADDRESS);
            assertThat(loaded.endAddress()).isLessThan(TestGuest.MEMORY_BYTES);
        }
        assertThat(TestGuest.PAGE_TABLES_ADDRESS + BootPageTables.size(TestGuest.MEMORY_BYTES))
                .as("page tables end below the stacks").isLessThanOrEqualTo(TestGuest.STACKS_TOP - 2 * TestGuest.STACK_BYTES);
        assertThat(TestGuest.STACKS_TOP).isLessThanOrEqualTo(TestGuest.LOAD_ADDRESS);
    }
}
