package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BootGdtTest {
    @Test
    void writesNullNullThenBootCodeAndData() {
        try (GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(1 << 20))) {
            DescriptorTable gdtr = BootGdt.write(memory, 0x1000);

            assertThat(gdtr).isEqualTo(new DescriptorTable(0x1000, 31));
            assertThat(memory.readLong(0x1000)).isZero();
            assertThat(memory.readLong(0x1008)).isZero();
            // Flat, present, ring 0, accessed: 64-bit code (L=1, D=0, G=1) and writable data (D/B=1, G=1).
            assertThat(memory.readLong(0x1000 + BootGdt.CODE_SELECTOR)).isEqualTo(0x00AF_9B00_0000_FFFFL);
            assertThat(memory.readLong(0x1000 + BootGdt.DATA_SELECTOR)).isEqualTo(0x00CF_9300_0000_FFFFL);
        }
    }
}
