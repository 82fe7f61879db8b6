package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.loader.BzImage;
import dev.machina.loader.ImageException;
import dev.machina.loader.SetupHeader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Lays out a Linux x86-64 guest in RAM and says how to enter it: a bzImage or an already loaded
 * vmlinux through the 64-bit boot protocol (zero page in RSI), or a vmlinux through PVH.
 *
 * <p>The layout, below the EBDA and far from anything the kernel decompresses over:
 * <ul>
 *   <li>{@link #BOOT_TABLES} 0x1000-0x6FFF: left to the caller for the boot GDT and identity page
 *       tables ({@link LinuxEntry.LongMode#state} takes their addresses);</li>
 *   <li>{@link #BOOT_PARAMS} 0x7000: the zero page, or the PVH start info with its module list and
 *       memory map;</li>
 *   <li>{@link #COMMAND_LINE} 0x20000: the NUL-terminated command line;</li>
 *   <li>the kernel at its preferred address ({@code pref_address}, 16 MiB for Debian's kernels),
 *       so it runs where it was linked and needs no relocation, with {@code init_size} bytes
 *       reserved from there for its in-place decompression;</li>
 *   <li>the initrd as high as RAM below 4 GiB and the kernel's {@code initrd_addr_max} allow, as
 *       GRUB and QEMU place it: out of the way of the kernel's decompression and early
 *       allocations, which grow upwards from the kernel. A fixed address like 64 MiB collides
 *       with a modern kernel's 51 MiB {@code init_size} above a 16 MiB load address.</li>
 * </ul>
 */
public final class LinuxBoot {
    public static final AddressRange BOOT_TABLES = new AddressRange(0x1000, 0x6000);
    public static final long BOOT_PARAMS = 0x7000;
    public static final long COMMAND_LINE = 0x2_0000;
    /** x86's COMMAND_LINE_SIZE, the limit of a kernel that does not declare {@code cmdline_size}. */
    public static final int DEFAULT_COMMAND_LINE_SIZE = 2048;
    /** What every x86-64 kernel's header declares as {@code initrd_addr_max}. */
    public static final long DEFAULT_INITRD_ADDRESS_MAX = 0x7FFF_FFFF;
    /** The boot protocol a synthesized setup header (for a vmlinux) claims: the fields this loader fills. */
    static final int SYNTHESIZED_PROTOCOL = 0x20F;

    private static final long PAGE = 4096;

    private LinuxBoot() {
    }

    /** Copies a bzImage to its preferred address and prepares the zero page. */
    public static LinuxEntry.LongMode bzImage(GuestMemory memory, BzImage kernel, BootArguments arguments)
            throws ImageException {
        long load = kernel.preferredAddress();
        long footprint = Math.max(kernel.initSize(), kernel.protectedModeKernel().byteSize());
        requireRam(arguments.memoryMap(), kernel.file(), new AddressRange(load, footprint));
        memory.write(load, kernel.protectedModeKernel());
        ZeroPage page = new ZeroPage().setupHeader(kernel.setupHeader());
        finishZeroPage(memory, page, arguments, kernel.file(), kernel.cmdlineSize() + 1,
                load + footprint, kernel.initrdAddressMax());
        return new LinuxEntry.LongMode(kernel.entry64(load), BOOT_PARAMS);
    }

    /**
     * Prepares the zero page for a vmlinux the caller has loaded, with a setup header of the
     * fields a loader owns (the kernel file has none).
     */
    public static LinuxEntry.LongMode vmlinux(GuestMemory memory, LoadedKernel kernel, BootArguments arguments)
            throws ImageException {
        requireRam(arguments.memoryMap(), kernel.file(), kernel.occupied());
        ZeroPage page = new ZeroPage()
                .header(SetupHeader.BOOT_FLAG, SetupHeader.BOOT_FLAG_MAGIC)
                .header(SetupHeader.HEADER, SetupHeader.HEADER_MAGIC)
                .header(SetupHeader.VERSION, SYNTHESIZED_PROTOCOL)
                .header(SetupHeader.LOADFLAGS, SetupHeader.LOADED_HIGH)
                .header(SetupHeader.CMDLINE_SIZE, DEFAULT_COMMAND_LINE_SIZE - 1)
                .header(SetupHeader.INITRD_ADDR_MAX, DEFAULT_INITRD_ADDRESS_MAX);
        finishZeroPage(memory, page, arguments, kernel.file(), DEFAULT_COMMAND_LINE_SIZE,
                kernel.occupied().end(), DEFAULT_INITRD_ADDRESS_MAX);
        return new LinuxEntry.LongMode(kernel.entry64(), BOOT_PARAMS);
    }

    /** Prepares the PVH start info for a vmlinux the caller has loaded, which must have a PVH entry point. */
    public static LinuxEntry.Pvh pvh(GuestMemory memory, LoadedKernel kernel, BootArguments arguments)
            throws ImageException {
        if (kernel.pvhEntry().isEmpty()) {
            throw new ImageException(kernel.file(), "has no PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY note)");
        }
        requireRam(arguments.memoryMap(), kernel.file(), kernel.occupied());
        writeCommandLine(memory, arguments.commandLine(), DEFAULT_COMMAND_LINE_SIZE, kernel.file());
        Optional<AddressRange> initrd = loadInitrd(memory, arguments, kernel.occupied().end(), DEFAULT_INITRD_ADDRESS_MAX);
        memory.write(BOOT_PARAMS, PvhStartInfo.build(BOOT_PARAMS, COMMAND_LINE, initrd,
                arguments.acpiRsdp(), arguments.memoryMap()));
        return new LinuxEntry.Pvh(kernel.pvhEntry().getAsLong(), BOOT_PARAMS);
    }

    private static void finishZeroPage(GuestMemory memory, ZeroPage page, BootArguments arguments, Path kernelFile,
                                       long commandLineLimit, long kernelEnd, long initrdAddressMax)
            throws ImageException {
        writeCommandLine(memory, arguments.commandLine(), commandLineLimit, kernelFile);
        Optional<AddressRange> initrd = loadInitrd(memory, arguments, kernelEnd, initrdAddressMax);
        page.header(SetupHeader.TYPE_OF_LOADER, SetupHeader.LOADER_UNDEFINED)
                .commandLine(COMMAND_LINE)
                .memoryMap(arguments.memoryMap());
        initrd.ifPresent(range -> page.ramdisk(range.start(), range.size()));
        arguments.acpiRsdp().ifPresent(page::acpiRsdp);
        page.writeTo(memory, BOOT_PARAMS);
    }

    /** Writes the command line and its NUL, which together must fit the kernel's {@code limit}. */
    private static void writeCommandLine(GuestMemory memory, String commandLine, long limit, Path kernelFile)
            throws ImageException {
        byte[] text = (commandLine + '\0').getBytes(StandardCharsets.UTF_8);
        if (text.length > limit) {
            throw new ImageException(kernelFile, "the command line is %d bytes; this kernel accepts at most %d"
                    .formatted(text.length - 1, limit - 1));
        }
        memory.write(COMMAND_LINE, text, 0, text.length);
    }

    /**
     * Copies the initrd, if any, page-aligned to the highest RAM below both 4 GiB and
     * {@code addressMax + 1} that lies above {@code lowest}.
     */
    private static Optional<AddressRange> loadInitrd(GuestMemory memory, BootArguments arguments, long lowest,
                                                     long addressMax) throws ImageException {
        if (arguments.initrd().isEmpty()) {
            return Optional.empty();
        }
        Path file = arguments.initrd().get();
        try (FileChannel channel = FileChannel.open(file)) {
            long size = channel.size();
            if (size == 0) {
                throw new ImageException(file, "the initrd is empty");
            }
            long limit = Math.min(addressMax + 1, 1L << 32);
            List<E820Map.Entry> ram = arguments.memoryMap().ram();
            for (int i = ram.size() - 1; i >= 0; i--) {
                E820Map.Entry entry = ram.get(i);
                long address = (Math.min(entry.end(), limit) - size) & -PAGE;
                if (address >= Math.max(entry.address(), lowest)) {
                    ByteBuffer target = memory.slice(address, size).asByteBuffer();
                    while (target.hasRemaining()) {
                        if (channel.read(target) < 0) {
                            throw new ImageException(file, "the initrd shrank while it was being read");
                        }
                    }
                    return Optional.of(new AddressRange(address, size));
                }
            }
            throw new ImageException(file, "the initrd (%s) does not fit in guest RAM between the kernel's end at 0x%x and 0x%x"
                    .formatted(mebibytes(size), lowest, limit));
        } catch (IOException e) {
            throw new ImageException(file, "cannot read the initrd: " + e.getMessage());
        }
    }

    private static void requireRam(E820Map map, Path file, AddressRange range) throws ImageException {
        for (E820Map.Entry entry : map.ram()) {
            if (entry.address() <= range.start() && range.end() <= entry.end()) {
                return;
            }
        }
        throw new ImageException(file, "the kernel needs %s of RAM at %s, which the guest's memory does not cover"
                .formatted(mebibytes(range.size()), range));
    }

    private static String mebibytes(long bytes) {
        return "%.1f MiB".formatted(bytes / (1024.0 * 1024.0));
    }
}
