package dev.machina.vmm.boot.zircon;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.loader.ImageException;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.loader.zbi.ZbiType;
import dev.machina.loader.zbi.ZirconKernel;
import dev.machina.vmm.boot.linux.BootArguments;
import dev.machina.vmm.boot.linux.E820Map;
import dev.machina.vmm.boot.linux.LinuxBoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ZirconBootTest {
    private static final long RESERVE = 0x2_3456;
    private static final ZbiItem BOOTFS = ZbiItem.of(ZbiType.STORAGE_BOOTFS.code(), 3, new byte[] {7, 8, 9});
    private static final ZbiItem UART = ZbiItem.i8250Uart(0x3F8, 4);

    @TempDir
    Path directory;

    private GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(16 << 20));

    @AfterEach
    void close() {
        memory.close();
    }

    private static ZbiItem kernel(int codeBytes, long reserve) {
        return ZbiItem.of(ZbiType.KERNEL_X64.code(), 0, ByteBuffer.allocate(16 + codeBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(ZirconKernel.CODE_ADDRESS + 4).putLong(reserve).put(new byte[] {(byte) 0xF4, 1, 2, 3}).array());
    }

    private Path image(ZbiItem... items) {
        Path file = directory.resolve("image.zbi");
        new Zbi(List.of(items)).write(file);
        return file;
    }

    private BootArguments arguments(String commandLine, Optional<Path> ramdisk) {
        return new BootArguments(commandLine, ramdisk, OptionalLong.of(0xE0000), E820Map.standard(memory.regions()));
    }

    private Zbi dataZbi(ZirconBoot.Booted booted) {
        byte[] data = new byte[(int) booted.dataZbi().size()];
        memory.read(booted.dataZbi().start(), data, 0, data.length);
        return Zbi.parse(Path.of("data ZBI"), data);
    }

    @Test
    void loadsTheKernelAtOneMebibyteAndEntersItInLongModeWithTheDataZbiInRsi() {
        ZbiItem kernel = kernel(0x1000, RESERVE);
        ZirconBoot.Booted booted = ZirconBoot.load(memory, image(kernel, BOOTFS), arguments("kernel.halt-on-panic=true", Optional.empty()),
                List.of(UART));

        byte[] loaded = new byte[64 + 16 + 0x1000];
        memory.read(ZirconKernel.LOAD_ADDRESS, loaded, 0, loaded.length);
        assertThat(loaded).isEqualTo(ZirconKernel.of(Path.of("k"), new Zbi(List.of(kernel))).loadImage());
        assertThat(booted.state().get(Register.RIP)).isEqualTo(ZirconKernel.CODE_ADDRESS + 4);
        assertThat(booted.state().get(Register.RSI)).isEqualTo(booted.dataZbi().start());
        ControlRegisters control = booted.state().control();
        assertThat(control.cr0() & ControlRegisters.CR0_PG).isNotZero();
        assertThat(control.cr3()).isEqualTo(LinuxBoot.PAGE_TABLES);
        assertThat(control.efer() & 0x500).as("LME and LMA").isEqualTo(0x500);
    }

    @Test
    void placesTheDataZbiOnThePageAfterTheReservedMemory() {
        ZirconBoot.Booted booted = ZirconBoot.load(memory, image(kernel(0x1000, RESERVE), BOOTFS), arguments("", Optional.empty()),
                List.of(UART));

        long reservedEnd = ZirconKernel.LOAD_ADDRESS + 64 + 16 + 0x1000 + RESERVE;
        assertThat(booted.dataZbi().start()).isEqualTo((reservedEnd + 0xFFF) & ~0xFFFL).isGreaterThanOrEqualTo(reservedEnd);
    }

    @Test
    void theDataZbiHoldsTheImagesItemsThenTheRamdisksThenTheVmms() {
        Path ramdisk = directory.resolve("ramdisk.zbi");
        ZbiItem extra = ZbiItem.of(ZbiType.STORAGE_RAMDISK.code(), 0, new byte[] {1});
        new Zbi(List.of(extra)).write(ramdisk);

        ZirconBoot.Booted booted = ZirconBoot.load(memory, image(kernel(16, 0), BOOTFS),
                arguments("console=x", Optional.of(ramdisk)), List.of(UART));

        ZbiItem e820 = ZbiItem.e820(E820Map.standard(memory.regions()).entries().stream()
                .map(entry -> new ZbiItem.E820Range(entry.address(), entry.size(), entry.type().code())).toList());
        List<ZbiItem> added = List.of(ZbiItem.commandLine("console=x"), e820, ZbiItem.acpiRsdp(0xE0000), UART);
        assertThat(booted.added()).isEqualTo(added);
        assertThat(dataZbi(booted).items()).containsExactly(BOOTFS, extra, added.get(0), added.get(1), added.get(2), added.get(3));
        assertThat(e820.describe()).isEqualTo("E820_TABLE [0x0+0x9fc00 type 0x1] [0x9fc00+0x60400 type 0x2] [0x100000+0xf00000 type 0x1]");
    }

    @Test
    void anEmptyCommandLineAddsNoItem() {
        ZirconBoot.Booted booted = ZirconBoot.load(memory, image(kernel(16, 0)), arguments("", Optional.empty()), List.of());

        assertThat(booted.added()).extracting(ZbiItem::type).containsExactly(ZbiType.E820_TABLE.code(), ZbiType.ACPI_RSDP.code());
    }

    @Test
    void refusesAKernelWhoseReservedMemoryAndDataDoNotFitInRam() {
        Path file = image(kernel(16, 15 << 20));
        assertThatThrownBy(() -> ZirconBoot.load(memory, file, arguments("", Optional.empty()), List.of(UART)))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(file + ": the kernel, the 15 MiB it reserves and the data ZBI (")
                .hasMessageEndingWith("; the guest's RAM there ends at 0x1000000");
    }

    @Test
    void refusesAMalformedImageNamingIt() {
        Path file = image(BOOTFS);
        assertThatThrownBy(() -> ZirconBoot.load(memory, file, arguments("", Optional.empty()), List.of()))
                .isInstanceOf(ImageException.class)
                .hasMessage(file + ": has no kernel; a bootable ZBI begins with a KERNEL_X64 item (this one with STORAGE_BOOTFS)");
    }
}
