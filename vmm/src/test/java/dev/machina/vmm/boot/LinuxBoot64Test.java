package dev.machina.vmm.boot;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.ImageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinuxBoot64Test {
    @TempDir
    Path directory;

    private final GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, 4 << 20)));

    @AfterEach
    void release() {
        memory.close();
    }

    @Test
    void entersTheImageIn64BitModeWithRsiAtTheZeroPage() throws Exception {
        Path elf = AssembledGuest.build(directory, "nop\nhlt");
        memory.writeLong(LinuxBoot64.ZERO_PAGE + 8, -1L);

        X86State state = LinuxBoot64.load(memory, elf);

        assertThat(state.general().rip()).isEqualTo(AssembledGuest.LOAD_ADDRESS);
        assertThat(state.get(Register.RSI)).isEqualTo(0x7000);
        assertThat(state.segments().cs().selector()).isEqualTo(0x10);
        assertThat(state.segments().cs().longMode()).isTrue();
        assertThat(state.segments().ds().selector()).isEqualTo(0x18);
        assertThat(state.control().cr0() & ControlRegisters.CR0_PG).isNotZero();
        assertThat(state.control().efer() & ControlRegisters.EFER_LMA).isNotZero();
        assertThat(state.control().cr3()).isEqualTo(0x9000);
        assertThat(state.gdt().base()).isEqualTo(0x1000);
        assertThat(memory.readByte(AssembledGuest.LOAD_ADDRESS)).isEqualTo((byte) 0x90); // nop
        assertThat(memory.readByte(AssembledGuest.LOAD_ADDRESS + 1)).isEqualTo((byte) 0xF4); // hlt
        assertThat(memory.readLong(LinuxBoot64.ZERO_PAGE + 8)).isZero();
    }

    @Test
    void anImageOverTheBootStructuresIsRefused() throws Exception {
        Path elf = AssembledGuest.build(directory, "hlt", 0x2000);
        assertThatThrownBy(() -> LinuxBoot64.load(memory, elf))
                .isInstanceOf(ImageException.class)
                .hasMessage(elf + ": loads at 0x2000, over the boot structures below 0xf000");
    }
}
