package dev.machina.vmm.boot;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;

import java.nio.file.Path;

/**
 * Linux's x86-64 64-bit boot protocol for an ELF kernel: the image at its physical addresses,
 * entered in 64-bit mode with the low 4 GiB identity-mapped, a flat GDT (code 0x10, data 0x18) and
 * RSI pointing at the zero page.
 *
 * <p>Low memory holds the boot structures: the GDT at {@link #GDT}, the zero page at
 * {@link #ZERO_PAGE} (the boot stack grows down from it) and the page tables from
 * {@link #PAGE_TABLES}. The zero page is left all zeros for now: filling in boot_params (e820,
 * command line, initrd) comes with bzImage support.
 */
public final class LinuxBoot64 {
    public static final long GDT = 0x1000;
    public static final long ZERO_PAGE = 0x7000;
    public static final long PAGE_TABLES = 0x9000;

    private static final long ZERO_PAGE_SIZE = 0x1000;
    private static final long MAPPED = X86MemoryMap.FOUR_GIB;

    private LinuxBoot64() {
    }

    /** Loads {@code kernel} and writes the boot structures; returns the boot vCPU's entry state. */
    public static X86State load(GuestMemory memory, Path kernel) {
        long bootEnd = PAGE_TABLES + BootPageTables.size(MAPPED);
        ElfImage.LoadedImage image = ElfImage.read(kernel).load(memory);
        if (image.lowestAddress() < bootEnd) {
            throw new ImageException(kernel, "loads at 0x%x, over the boot structures below 0x%x"
                    .formatted(image.lowestAddress(), bootEnd));
        }
        memory.slice(ZERO_PAGE, ZERO_PAGE_SIZE).fill((byte) 0);
        var gdt = BootGdt.write(memory, GDT);
        long cr3 = BootPageTables.write(memory, PAGE_TABLES, MAPPED);
        return X86State.longMode(image.entry(), ZERO_PAGE, cr3, BootGdt.CODE_SELECTOR, gdt)
                .with(Register.RSI, ZERO_PAGE);
    }
}
