package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.os.FileErrors;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.BootGdt;
import dev.machina.loader.BootPageTables;
import dev.machina.loader.BzImage;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;
import dev.machina.loader.SetupHeader;
import dev.machina.loader.Sizes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Lays out a Linux x86-64 guest in RAM and returns the boot vCPU's entry state: a bzImage (its
 * payload unpacked on the host) or a vmlinux through the 64-bit boot protocol (long mode, the low
 * 4 GiB identity-mapped, RSI = the zero page), or a vmlinux through PVH (flat 32-bit protected
 * mode, paging off, EBX = the {@code hvm_start_info}).
 *
 * <p>The layout, in the conventional RAM below the EBDA:
 * <ul>
 *   <li>{@link #GDT} 0x1000: the boot GDT ({@code __BOOT_CS} 0x10, {@code __BOOT_DS} 0x18);</li>
 *   <li>{@link #BOOT_PARAMS} 0x7000: the zero page, or the PVH start info with its module list
 *       and memory map;</li>
 *   <li>{@link #PAGE_TABLES} 0x9000: identity page tables for the low 4 GiB (24 KiB);</li>
 *   <li>{@link #COMMAND_LINE} 0x20000: the NUL-terminated command line (at most 64 KiB);</li>
 *   <li>the vmlinux at its ELF physical addresses (from 16 MiB for Debian's kernels), where it was
 *       linked, so it needs no relocation;</li>
 *   <li>the initrd as high as RAM below 4 GiB and the kernel's {@code initrd_addr_max} allow, as
 *       GRUB and QEMU place it: clear of the kernel's early allocations, which grow upwards from
 *       the kernel. A fixed address such as 64 MiB would collide with a modern kernel, which spans
 *       50 MiB and more from 16 MiB.</li>
 * </ul>
 */
public final class LinuxBoot {
    public static final long GDT = 0x1000;
    public static final long BOOT_PARAMS = 0x7000;
    public static final long PAGE_TABLES = 0x9000;
    public static final long COMMAND_LINE = 0x2_0000;
    /** The end of the boot structures: no kernel may load below it. */
    public static final long BOOT_AREA_END = 0x3_0000;
    /** x86's COMMAND_LINE_SIZE, the limit of a kernel that does not declare {@code cmdline_size}. */
    public static final int DEFAULT_COMMAND_LINE_SIZE = 2048;
    /** What every x86-64 kernel's header declares as {@code initrd_addr_max}. */
    public static final long DEFAULT_INITRD_ADDRESS_MAX = 0x7FFF_FFFF;
    /** The boot protocol a synthesized setup header (for a vmlinux) claims: the fields this loader fills. */
    static final int SYNTHESIZED_PROTOCOL = 0x20F;

    private static final long PAGE = 4096;
    private static final byte[] ELF_MAGIC = {0x7F, 'E', 'L', 'F'};
    private static final long IDENTITY_MAPPED = X86MemoryMap.FOUR_GIB;

    private LinuxBoot() {
    }

    /**
     * Boots {@code kernel} by its format: an ELF file (its first bytes are the ELF magic) as a
     * vmlinux through the 64-bit protocol, anything else as a bzImage.
     *
     * @throws ImageException naming the file and what is wrong with it or with the layout
     */
    public static X86State load(GuestMemory memory, Path kernel, BootArguments arguments) {
        return isElf(kernel)
                ? vmlinux(memory, ElfImage.read(kernel), arguments)
                : bzImage(memory, BzImage.read(kernel), arguments);
    }

    /**
     * The kernel's vmlinux ELF: the file itself, or a bzImage's payload unpacked.
     *
     * @throws ImageException naming the file and what is wrong with it
     */
    public static ElfImage vmlinuxOf(Path kernel) {
        return isElf(kernel) ? ElfImage.read(kernel) : BzImage.read(kernel).unpack();
    }

    private static boolean isElf(Path file) {
        byte[] magic = new byte[ELF_MAGIC.length];
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(magic, 0, magic.length) == magic.length && Arrays.equals(magic, ELF_MAGIC);
        } catch (NoSuchFileException e) {
            throw new ImageException(file, "no such file");
        } catch (IOException e) {
            throw new ImageException(file, "cannot read the kernel: " + FileErrors.reason(e));
        }
    }

    /**
     * Boots a bzImage as its decompressor would leave it, the decompression done on the host, which
     * on a software CPU spares seconds (tens of them for an xz-compressed kernel).
     *
     * <p>The decompressor ({@code extract_kernel} in arch/x86/boot/compressed/misc.c) unpacks the
     * vmlinux, places its segments at their physical addresses and jumps to its {@code startup_64}
     * in long mode, RSI still pointing at the zero page it was given, changed in two fields only:
     * {@code loadflags}' KASLR_FLAG cleared (set again only when it moves the kernel, and a kernel
     * at its link address is as under {@code nokaslr}) and {@code acpi_rsdp_addr} filled in (with
     * the loader's own value when it gave one, as Machina does). So the unpacked vmlinux is entered
     * at that same {@code startup_64}, its ELF entry point, with that zero page: the bzImage's own
     * setup header, the command line, initrd, E820 map and RSDP, all exactly what in-guest
     * decompression hands the kernel. The PVH entry would not do: there the kernel builds its
     * boot_params itself from the start info, without the image's setup header.
     */
    public static X86State bzImage(GuestMemory memory, BzImage kernel, BootArguments arguments) {
        ZeroPage page = new ZeroPage()
                .setupHeader(kernel.setupHeader())
                .header(SetupHeader.LOADFLAGS, kernel.loadFlags() & ~SetupHeader.KASLR_FLAG);
        return longMode(memory, kernel.unpack(), page, arguments, kernel.cmdlineSize() + 1, kernel.initrdAddressMax());
    }

    /**
     * Loads a vmlinux at its physical addresses and prepares the zero page, with a setup header
     * of the fields a loader owns (the ELF file has none); enters it at its ELF entry point,
     * {@code startup_64}'s physical address.
     */
    public static X86State vmlinux(GuestMemory memory, ElfImage kernel, BootArguments arguments) {
        ZeroPage page = new ZeroPage()
                .header(SetupHeader.BOOT_FLAG, SetupHeader.BOOT_FLAG_MAGIC)
                .header(SetupHeader.HEADER, SetupHeader.HEADER_MAGIC)
                .header(SetupHeader.VERSION, SYNTHESIZED_PROTOCOL)
                .header(SetupHeader.LOADFLAGS, SetupHeader.LOADED_HIGH)
                .header(SetupHeader.CMDLINE_SIZE, DEFAULT_COMMAND_LINE_SIZE - 1)
                .header(SetupHeader.INITRD_ADDR_MAX, DEFAULT_INITRD_ADDRESS_MAX);
        return longMode(memory, kernel, page, arguments, DEFAULT_COMMAND_LINE_SIZE, DEFAULT_INITRD_ADDRESS_MAX);
    }

    /**
     * Loads a vmlinux that has a PVH entry point and prepares the start info. The GDTR points at
     * the boot GDT; the kernel loads its own GDT before it reloads a segment register.
     */
    public static X86State pvh(GuestMemory memory, ElfImage kernel, BootArguments arguments) {
        if (kernel.pvhEntry().isEmpty()) {
            throw new ImageException(kernel.file(), "has no PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY note)");
        }
        AddressRange occupied = load(memory, kernel, arguments);
        writeCommandLine(memory, arguments.commandLine(), DEFAULT_COMMAND_LINE_SIZE, kernel.file());
        Optional<AddressRange> initrd = loadInitrd(memory, arguments, occupied.end(), DEFAULT_INITRD_ADDRESS_MAX);
        memory.write(BOOT_PARAMS, PvhStartInfo.build(BOOT_PARAMS, COMMAND_LINE, initrd,
                arguments.acpiRsdp(), arguments.memoryMap()));
        DescriptorTable gdt = BootGdt.write(memory, GDT);
        GeneralRegisters registers = GeneralRegisters.reset()
                .with(Register.RIP, kernel.pvhEntry().getAsLong())
                .with(Register.RBX, BOOT_PARAMS);
        return new X86State(registers, SegmentRegisters.flat32(BootGdt.CODE_SELECTOR), ControlRegisters.protectedMode(),
                gdt, DescriptorTable.empty());
    }

    /**
     * Loads {@code kernel}, its command line and initrd, completes and writes {@code page}, and
     * returns the 64-bit entry state: boot GDT and identity page tables written, RSI = the zero page.
     */
    private static X86State longMode(GuestMemory memory, ElfImage kernel, ZeroPage page, BootArguments arguments,
                                     long commandLineLimit, long initrdAddressMax) {
        AddressRange occupied = load(memory, kernel, arguments);
        writeCommandLine(memory, arguments.commandLine(), commandLineLimit, kernel.file());
        Optional<AddressRange> initrd = loadInitrd(memory, arguments, occupied.end(), initrdAddressMax);
        page.header(SetupHeader.TYPE_OF_LOADER, SetupHeader.LOADER_UNDEFINED)
                .commandLine(COMMAND_LINE)
                .memoryMap(arguments.memoryMap());
        initrd.ifPresent(range -> page.ramdisk(range.start(), range.size()));
        arguments.acpiRsdp().ifPresent(page::acpiRsdp);
        page.writeTo(memory, BOOT_PARAMS);
        DescriptorTable gdt = BootGdt.write(memory, GDT);
        long cr3 = BootPageTables.write(memory, PAGE_TABLES, IDENTITY_MAPPED);
        return X86State.longMode(kernel.entry(), 0, cr3, BootGdt.CODE_SELECTOR, gdt).with(Register.RSI, BOOT_PARAMS);
    }

    private static AddressRange load(GuestMemory memory, ElfImage kernel, BootArguments arguments) {
        ElfImage.LoadedImage image = kernel.load(memory);
        AddressRange occupied = new AddressRange(image.lowestAddress(), image.endAddress() - image.lowestAddress());
        requireLoadable(arguments.memoryMap(), kernel.file(), occupied);
        return occupied;
    }

    /** Writes the command line and its NUL, which together must fit the kernel's {@code limit} and the boot area. */
    private static void writeCommandLine(GuestMemory memory, String commandLine, long limit, Path kernelFile) {
        byte[] text = (commandLine + '\0').getBytes(StandardCharsets.UTF_8);
        long room = Math.min(limit, BOOT_AREA_END - COMMAND_LINE);
        if (text.length > room) {
            throw new ImageException(kernelFile, "the command line is %d bytes; this kernel accepts at most %d"
                    .formatted(text.length - 1, room - 1));
        }
        memory.write(COMMAND_LINE, text, 0, text.length);
    }

    /**
     * Copies the initrd, if any, page-aligned to the highest RAM below both 4 GiB and
     * {@code addressMax + 1} that lies above {@code lowest}.
     */
    private static Optional<AddressRange> loadInitrd(GuestMemory memory, BootArguments arguments, long lowest,
                                                     long addressMax) {
        if (arguments.initrd().isEmpty()) {
            return Optional.empty();
        }
        Path file = arguments.initrd().get();
        try (FileChannel channel = FileChannel.open(file)) {
            long size = channel.size();
            if (size == 0) {
                throw new ImageException(file, "the initrd is empty");
            }
            long limit = Math.min(addressMax + 1, X86MemoryMap.FOUR_GIB);
            List<E820Map.Entry> ram = arguments.memoryMap().ram();
            long ramTop = ram.stream().filter(entry -> entry.address() < limit)
                    .mapToLong(entry -> Math.min(entry.end(), limit)).max().orElse(0);
            for (int i = ram.size() - 1; i >= 0; i--) {
                E820Map.Entry entry = ram.get(i);
                long address = (Math.min(entry.end(), limit) - size) & -PAGE;
                if (address >= Math.max(entry.address(), lowest)) {
                    memory.update(address, size, initrd -> {
                        ByteBuffer target = initrd.asByteBuffer();
                        while (target.hasRemaining()) {
                            if (channel.read(target) < 0) {
                                throw new ImageException(file, "the initrd shrank while it was being read");
                            }
                        }
                    });
                    return Optional.of(new AddressRange(address, size));
                }
            }
            // Name where RAM ends, not the kernel's limit, when RAM ends first: that is what to raise.
            throw new ImageException(file, "the initrd (%s) does not fit in guest RAM between the kernel's end at 0x%x and %s"
                    .formatted(Sizes.describe(size), lowest, ramTop < limit
                            ? "the end of RAM at 0x%x (%s)".formatted(ramTop, Sizes.describe(ramTop))
                            : "0x%x, the highest address %s allows".formatted(limit,
                                    limit == X86MemoryMap.FOUR_GIB ? "below 4 GiB" : "this kernel's initrd_addr_max")));
        } catch (IOException e) {
            throw new ImageException(file, "cannot read the initrd: " + FileErrors.reason(e));
        }
    }

    /** Checks that the kernel at {@code range} stays clear of the boot structures and in RAM the guest is told of. */
    private static void requireLoadable(E820Map map, Path file, AddressRange range) {
        if (range.start() < BOOT_AREA_END) {
            throw new ImageException(file, "loads at 0x%x, over the boot structures below 0x%x"
                    .formatted(range.start(), BOOT_AREA_END));
        }
        for (E820Map.Entry entry : map.ram()) {
            if (entry.address() <= range.start() && range.end() <= entry.end()) {
                return;
            }
        }
        throw new ImageException(file, "the kernel needs %s of RAM at %s, which the guest's memory does not cover"
                .formatted(Sizes.describe(range.size()), range));
    }
}
