package dev.machina.loader.zbi;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.loader.ElfBuilder;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ZirconKernelTest {
    private static final Path FILE = Path.of("kernel.zbi");

    /** A KERNEL_X64 item of {@code code} bytes entered at {@code entry}, reserving {@code reserve}. */
    private static ZbiItem kernel(long entry, long reserve, int code) {
        return ZbiItem.of(ZbiType.KERNEL_X64.code(), 0, ByteBuffer.allocate(16 + code).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(entry).putLong(reserve).array());
    }

    private static ZirconKernel kernelOf(ZbiItem... items) {
        return ZirconKernel.of(FILE, Zbi.parse(FILE, new Zbi(List.of(items)).toBytes()));
    }

    private static void assertRefused(String problem, ZbiItem... items) {
        assertThatThrownBy(() -> kernelOf(items)).isInstanceOf(ImageException.class).hasMessage(FILE + ": " + problem);
    }

    @Test
    void readsTheEntryAndReservedMemoryAndLaysTheImageOutFromOneMebibyte() {
        ZirconKernel kernel = kernelOf(kernel(0x100050, 0x8000, 0x100), ZbiItem.commandLine("x"));

        assertThat(kernel.entry()).isEqualTo(0x100050);
        assertThat(kernel.reserveMemorySize()).isEqualTo(0x8000);
        assertThat(kernel.imageEnd()).isEqualTo(0x100000 + 64 + 16 + 0x100);
        assertThat(kernel.reservedEnd()).isEqualTo(kernel.imageEnd() + 0x8000);
        ByteBuffer image = ByteBuffer.wrap(kernel.loadImage()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(image.capacity()).isEqualTo(64 + 16 + 0x100);
        assertThat(image.getInt(0)).isEqualTo(ZbiType.CONTAINER.code());
        assertThat(image.getInt(32)).isEqualTo(ZbiType.KERNEL_X64.code());
        assertThat(image.getLong(64)).as("entry, at 0x100040").isEqualTo(0x100050);
    }

    @Test
    void refusesAnImageWithoutItems() {
        assertRefused("has no items; a bootable ZBI begins with a KERNEL_X64 item");
    }

    @Test
    void refusesAKernelThatIsNotFirst() {
        assertRefused("the kernel is item 2; it must be the first item (the first is CMDLINE)",
                ZbiItem.commandLine("x"), kernel(0x100050, 0, 16));
    }

    @Test
    void refusesAnImageWithoutAKernel() {
        assertRefused("has no kernel; a bootable ZBI begins with a KERNEL_X64 item (this one with ACPI_RSDP)", ZbiItem.acpiRsdp(1));
    }

    @Test
    void refusesAnotherArchitecturesKernel() {
        assertRefused("its kernel is KERNEL_ARM64; Machina boots x86-64 kernels (KERNEL_X64)",
                ZbiItem.of(ZbiType.KERNEL_ARM64.code(), 0, new byte[16]));
    }

    @Test
    void refusesAKernelItemTooShortForItsHeader() {
        assertRefused("the kernel item is 8 bytes, too short for its entry point and reserve_memory_size (16)",
                ZbiItem.of(ZbiType.KERNEL_X64.code(), 0, new byte[8]));
    }

    @Test
    void refusesAnEntryOutsideTheKernelsCode() {
        assertRefused("the kernel's entry point 0x100000 lies outside its code at 0x100050-0x100060", kernel(0x100000, 0, 16));
        assertRefused("the kernel's entry point 0x100060 lies outside its code at 0x100050-0x100060", kernel(0x100060, 0, 16));
    }

    @Test
    void refusesReservedMemoryPastFourGibibytes() {
        assertRefused("the kernel reserves 4096 MiB after its image (reserve_memory_size 0x100000000), past 4 GiB",
                kernel(0x100050, 0x1_0000_0000L, 16));
    }

    @Test
    void refusesADataZbiOverTheReservedMemory() {
        ZirconKernel kernel = kernelOf(kernel(0x100050, 0x10000, 16));

        kernel.requireClear(new AddressRange(0x111000, 0x1000));
        assertThatThrownBy(() -> kernel.requireClear(new AddressRange(0x110000, 0x1000)))
                .isInstanceOf(ImageException.class)
                .hasMessage(FILE + ": the data ZBI at 0x110000..0x111000 overlaps the kernel's image and the memory it reserves"
                        + " at 0x100000..0x110060");
    }

    @Test
    void makesTheKernelItemOfAnElfLinkedAfterTheHeaders(@TempDir Path directory) throws IOException {
        ElfImage elf = ElfImage.read(new ElfBuilder().entry(0x100058)
                .load(0x100050, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0x1000).writeTo(directory));
        ZbiItem item = ZirconKernel.fromElf(elf);

        ZirconKernel kernel = kernelOf(item);
        assertThat(kernel.entry()).isEqualTo(0x100058);
        assertThat(kernel.reserveMemorySize()).as("the .bss after the 9 file bytes").isEqualTo(0x1000 - 9);
        assertThat(item.payload()).endsWith(1, 2, 3, 4, 5, 6, 7, 8, 9).hasSize(16 + 9);
    }

    @Test
    void refusesAnElfLinkedElsewhere(@TempDir Path directory) throws IOException {
        ElfImage elf = ElfImage.read(new ElfBuilder().entry(0x100000).load(0x100000, new byte[4], 4).writeTo(directory));
        assertThatThrownBy(() -> ZirconKernel.fromElf(elf)).isInstanceOf(ImageException.class)
                .hasMessageEndingWith("is linked at 0x100000; a ZBI kernel's code begins at 0x100050, after its headers at 1 MiB");
    }
}
