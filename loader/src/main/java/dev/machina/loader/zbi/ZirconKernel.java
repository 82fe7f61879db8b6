package dev.machina.loader.zbi;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;
import dev.machina.loader.Sizes;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The x86-64 kernel of a bootable ZBI, whose first item must be KERNEL_X64. Its payload begins
 * with {@code zbi_kernel_t}: the entry point (a physical address) and {@code reserve_memory_size},
 * the scratch memory the kernel uses right after its image before it reads the memory map. The
 * boot loader copies the image's container header, the kernel's item header and its payload to
 * {@link #LOAD_ADDRESS} (1 MiB) and must put nothing in the reserved memory after it.
 *
 * @param file              the image, for messages
 * @param item              the KERNEL_X64 item
 * @param entry             where the vCPU starts
 * @param reserveMemorySize bytes after the image the kernel needs free
 */
public record ZirconKernel(Path file, ZbiItem item, long entry, long reserveMemorySize) {
    public static final long LOAD_ADDRESS = 0x10_0000;
    /** {@code zbi_kernel_t}: entry and reserve_memory_size. */
    public static final int KERNEL_HEADER_SIZE = 16;
    /** Where the kernel's code begins: after the two headers and {@code zbi_kernel_t}. */
    public static final long CODE_ADDRESS = LOAD_ADDRESS + 2L * Zbi.HEADER_SIZE + KERNEL_HEADER_SIZE;
    /** The x86-64 boot enters the kernel with only this much identity-mapped. */
    public static final long ADDRESS_LIMIT = 0x1_0000_0000L;

    /**
     * The kernel of {@code zbi}, read from {@code file}, checked: its item first, x86-64, long enough
     * for {@code zbi_kernel_t}, the entry inside the image, image and reserved memory below 4 GiB.
     *
     * @throws ImageException naming the file and what is wrong
     */
    public static ZirconKernel of(Path file, Zbi zbi) {
        List<ZbiItem> items = zbi.items();
        if (items.isEmpty()) {
            throw new ImageException(file, "has no items; a bootable ZBI begins with a KERNEL_X64 item");
        }
        ZbiItem first = items.getFirst();
        if (first.type() != ZbiType.KERNEL_X64.code()) {
            if (ZbiType.isKernel(first.type())) {
                throw new ImageException(file, "its kernel is %s; Machina boots x86-64 kernels (KERNEL_X64)"
                        .formatted(ZbiType.name(first.type())));
            }
            for (int i = 1; i < items.size(); i++) {
                if (ZbiType.isKernel(items.get(i).type())) {
                    throw new ImageException(file, "the kernel is item %d; it must be the first item (the first is %s)"
                            .formatted(i + 1, ZbiType.name(first.type())));
                }
            }
            throw new ImageException(file, "has no kernel; a bootable ZBI begins with a KERNEL_X64 item (this one with %s)"
                    .formatted(ZbiType.name(first.type())));
        }
        if (first.length() < KERNEL_HEADER_SIZE) {
            throw new ImageException(file, "the kernel item is %d bytes, too short for its entry point and reserve_memory_size (%d)"
                    .formatted(first.length(), KERNEL_HEADER_SIZE));
        }
        ZirconKernel kernel = new ZirconKernel(file, first, first.u64(0), first.u64(8));
        if (kernel.entry < CODE_ADDRESS || kernel.entry >= kernel.imageEnd()) {
            throw new ImageException(file, "the kernel's entry point 0x%x lies outside its code at 0x%x-0x%x"
                    .formatted(kernel.entry, CODE_ADDRESS, kernel.imageEnd()));
        }
        if (Long.compareUnsigned(kernel.reserveMemorySize, ADDRESS_LIMIT - kernel.imageEnd()) > 0) {
            throw new ImageException(file, "the kernel reserves %s after its image (reserve_memory_size 0x%x), past 4 GiB"
                    .formatted(Sizes.describe(kernel.reserveMemorySize), kernel.reserveMemorySize));
        }
        return kernel;
    }

    /**
     * The KERNEL_X64 item for a kernel linked to run at {@link #CODE_ADDRESS}: the ELF's bytes as
     * one image, its entry point, and as reserved memory the zeros its segments end with (its
     * {@code .bss}), which the boot loader must leave free.
     *
     * @throws ImageException naming the ELF if it is linked elsewhere
     */
    public static ZbiItem fromElf(ElfImage elf) {
        ElfImage.FlatImage flat = elf.flatten();
        if (flat.address() != CODE_ADDRESS) {
            throw new ImageException(elf.file(), "is linked at 0x%x; a ZBI kernel's code begins at 0x%x, after its headers at 1 MiB"
                    .formatted(flat.address(), CODE_ADDRESS));
        }
        byte[] bytes = flat.bytes();
        long reserve = flat.endAddress() - (flat.address() + bytes.length);
        ByteBuffer payload = ByteBuffer.allocate(KERNEL_HEADER_SIZE + bytes.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(elf.entry()).putLong(reserve).put(bytes);
        return ZbiItem.of(ZbiType.KERNEL_X64.code(), 0, payload.array());
    }

    /**
     * What goes to {@link #LOAD_ADDRESS}: a container header holding just the kernel item, the
     * item's header and its payload.
     */
    public byte[] loadImage() {
        byte[] image = new Zbi(List.of(item)).toBytes();
        return Arrays.copyOf(image, 2 * Zbi.HEADER_SIZE + item.length());
    }

    /** One past the image's last byte in guest memory. */
    public long imageEnd() {
        return LOAD_ADDRESS + 2L * Zbi.HEADER_SIZE + item.length();
    }

    /** One past the memory the kernel reserves right after its image. */
    public long reservedEnd() {
        return imageEnd() + reserveMemorySize;
    }

    /**
     * Checks that the data ZBI at {@code data} leaves the kernel's image and reserved memory alone.
     *
     * @throws ImageException naming the image and both ranges
     */
    public void requireClear(AddressRange data) {
        AddressRange kernel = new AddressRange(LOAD_ADDRESS, reservedEnd() - LOAD_ADDRESS);
        if (data.overlaps(kernel)) {
            throw new ImageException(file, "the data ZBI at %s overlaps the kernel's image and the memory it reserves at %s"
                    .formatted(data, kernel));
        }
    }
}
