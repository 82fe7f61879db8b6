package dev.machina.vmm.boot.zircon;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;
import dev.machina.loader.ImageException;
import dev.machina.loader.Sizes;
import dev.machina.loader.zbi.Zbi;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.loader.zbi.ZirconKernel;
import dev.machina.vmm.boot.linux.BootArguments;
import dev.machina.vmm.boot.linux.E820Map;
import dev.machina.vmm.boot.linux.LinuxBoot;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots a ZBI on x86-64 as Zircon's boot loaders do, and as the original Machina did: the image's
 * container header, kernel item header and kernel at 1 MiB; after the memory the kernel reserves,
 * on the next page, the data ZBI: the image's other items, then the items of the ramdisk (itself a
 * ZBI), then the items the VMM adds to describe the machine (command line, E820 memory map, ACPI
 * RSDP, and the devices the caller names: the UART's driver configuration). The boot vCPU starts
 * in 64-bit mode at the kernel's entry, the low 4 GiB identity-mapped (the boot GDT and page
 * tables where a Linux boot has them, below 1 MiB), RSI the data ZBI's address.
 */
public final class ZirconBoot {
    private static final long PAGE = 4096;
    private static final long IDENTITY_MAPPED = ZirconKernel.ADDRESS_LIMIT;

    private ZirconBoot() {
    }

    /**
     * What the boot left in memory: the entry state, where the data ZBI lies, and the items the
     * VMM put in it (after the image's and the ramdisk's).
     */
    public record Booted(X86State state, AddressRange dataZbi, List<ZbiItem> added) {
    }

    /**
     * Loads the ZBI in {@code image} and builds its data ZBI from {@code arguments} (whose initrd, if
     * any, is a ZBI of more items) and {@code devices}, the items that describe the machine's devices.
     *
     * @throws ImageException naming the file at fault and the problem: a malformed image, or one that
     *                        does not fit in the guest's RAM
     */
    public static Booted load(GuestMemory memory, Path image, BootArguments arguments, List<ZbiItem> devices) {
        Zbi zbi = Zbi.read(image);
        ZirconKernel kernel = ZirconKernel.of(image, zbi);
        List<ZbiItem> data = new ArrayList<>(zbi.items().subList(1, zbi.items().size()));
        arguments.initrd().ifPresent(ramdisk -> data.addAll(Zbi.read(ramdisk).items()));
        List<ZbiItem> added = new ArrayList<>();
        if (!arguments.commandLine().isEmpty()) {
            added.add(ZbiItem.commandLine(arguments.commandLine()));
        }
        added.add(ZbiItem.e820(arguments.memoryMap().entries().stream()
                .map(entry -> new ZbiItem.E820Range(entry.address(), entry.size(), entry.type().code())).toList()));
        arguments.acpiRsdp().ifPresent(rsdp -> added.add(ZbiItem.acpiRsdp(rsdp)));
        added.addAll(devices);
        data.addAll(added);
        byte[] dataZbi = new Zbi(data).toBytes();

        AddressRange dataRange = new AddressRange((kernel.reservedEnd() + PAGE - 1) & -PAGE, dataZbi.length);
        kernel.requireClear(dataRange);
        requireRam(arguments.memoryMap(), image, kernel, dataRange);
        byte[] kernelImage = kernel.loadImage();
        memory.write(ZirconKernel.LOAD_ADDRESS, kernelImage, 0, kernelImage.length);
        memory.write(dataRange.start(), dataZbi, 0, dataZbi.length);
        DescriptorTable gdt = BootGdt.write(memory, LinuxBoot.GDT);
        long cr3 = BootPageTables.write(memory, LinuxBoot.PAGE_TABLES, IDENTITY_MAPPED);
        X86State state = X86State.longMode(kernel.entry(), 0, cr3, BootGdt.CODE_SELECTOR, gdt)
                .with(Register.RSI, dataRange.start());
        return new Booted(state, dataRange, List.copyOf(added));
    }

    /** Checks that one range of RAM below 4 GiB holds the kernel, its reserved memory and the data ZBI. */
    private static void requireRam(E820Map map, Path image, ZirconKernel kernel, AddressRange data) {
        long end = data.end();
        for (E820Map.Entry entry : map.ram()) {
            if (entry.address() <= ZirconKernel.LOAD_ADDRESS && end <= Math.min(entry.end(), IDENTITY_MAPPED)) {
                return;
            }
        }
        long ramEnd = map.ram().stream().filter(entry -> entry.address() <= ZirconKernel.LOAD_ADDRESS)
                .mapToLong(E820Map.Entry::end).max().orElse(ZirconKernel.LOAD_ADDRESS);
        throw new ImageException(image, ("the kernel, the %s it reserves and the data ZBI (%s) need RAM from 1 MiB to 0x%x"
                + " (below 4 GiB); the guest's RAM there ends at 0x%x")
                .formatted(Sizes.describe(kernel.reserveMemorySize()), Sizes.describe(data.size()), end, ramEnd));
    }
}
