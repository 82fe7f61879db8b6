package dev.machina.hypervisor.x86;

import dev.machina.hypervisor.memory.AddressRange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class X86MemoryMapTest {
    @Test
    void theLargestRamEndsAtTheTopOfTheAddressSpace() {
        long max = X86MemoryMap.maxRam(40);
        assertThat(max).isEqualTo((1L << 40) - (1L << 30));
        List<AddressRange> ram = X86MemoryMap.ram(max);
        assertThat(ram.getLast().end()).isEqualTo(1L << 40);
        assertThat(X86MemoryMap.maxRam(32)).isEqualTo(3L << 30);
        assertThat(X86MemoryMap.maxRam(31)).isEqualTo(2L << 30);
    }
}
