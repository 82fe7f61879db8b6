package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.loader.LayoutField;
import dev.machina.loader.SetupHeader;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;

import static dev.machina.loader.LayoutField.bytes;
import static dev.machina.loader.LayoutField.u32;
import static dev.machina.loader.LayoutField.u64;
import static dev.machina.loader.LayoutField.u8;
import static java.lang.foreign.MemoryLayout.structLayout;

/**
 * The zero page: Linux's {@code struct boot_params} (arch/x86/include/uapi/asm/bootparam.h), the
 * page a loader fills and hands to the 64-bit entry point in RSI. Built in host memory, then
 * written into the guest with {@link #writeTo}.
 */
public final class ZeroPage {
    public static final StructLayout E820_ENTRY = structLayout(u64("addr"), u64("size"), u32("type"));
    public static final int E820_MAX_ENTRIES = 128;

    private static final SequenceLayout E820_TABLE = MemoryLayout.sequenceLayout(E820_MAX_ENTRIES, E820_ENTRY);

    public static final StructLayout LAYOUT = structLayout(
            bytes("screen_info", 0x40),
            bytes("apm_bios_info", 0x14),
            bytes("_pad2", 4),
            u64("tboot_addr"),
            bytes("ist_info", 0x10),
            u64("acpi_rsdp_addr"),
            bytes("_pad3", 8),
            bytes("hd0_info", 16),
            bytes("hd1_info", 16),
            bytes("sys_desc_table", 0x10),
            bytes("olpc_ofw_header", 0x10),
            u32("ext_ramdisk_image"),
            u32("ext_ramdisk_size"),
            u32("ext_cmd_line_ptr"),
            bytes("_pad4", 112),
            u32("cc_blob_address"),
            bytes("edid_info", 0x80),
            bytes("efi_info", 0x20),
            u32("alt_mem_k"),
            u32("scratch"),
            u8("e820_entries"),
            u8("eddbuf_entries"),
            u8("edd_mbr_sig_buf_entries"),
            u8("kbd_status"),
            u8("secure_boot"),
            bytes("_pad5", 2),
            u8("sentinel"),
            bytes("_pad6", 1),
            SetupHeader.LAYOUT.withName("hdr"),
            bytes("_pad7", 0x290 - SetupHeader.OFFSET - SetupHeader.LAYOUT.byteSize()),
            bytes("edd_mbr_sig_buffer", 16 * 4),
            E820_TABLE.withName("e820_table"),
            bytes("_pad8", 48),
            bytes("eddbuf", 6 * 82),
            bytes("_pad9", 276)).withName("boot_params");

    public static final long SIZE = LAYOUT.byteSize();

    private static final LayoutField ACPI_RSDP_ADDR = LayoutField.of(LAYOUT, "acpi_rsdp_addr");
    private static final LayoutField EXT_RAMDISK_IMAGE = LayoutField.of(LAYOUT, "ext_ramdisk_image");
    private static final LayoutField EXT_RAMDISK_SIZE = LayoutField.of(LAYOUT, "ext_ramdisk_size");
    private static final LayoutField EXT_CMD_LINE_PTR = LayoutField.of(LAYOUT, "ext_cmd_line_ptr");
    private static final LayoutField E820_ENTRIES = LayoutField.of(LAYOUT, "e820_entries");
    private static final long HEADER_OFFSET = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("hdr"));
    private static final long E820_TABLE_OFFSET = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("e820_table"));

    private final MemorySegment page = MemorySegment.ofArray(new byte[(int) SIZE]);

    /** Copies a kernel's setup header (as {@code BzImage.setupHeader()} gives it) into place. */
    public ZeroPage setupHeader(MemorySegment header) {
        if (header.byteSize() > SetupHeader.LAYOUT.byteSize()) {
            throw new IllegalArgumentException("setup header of " + header.byteSize() + " bytes is larger than boot_params has room for");
        }
        MemorySegment.copy(header, 0, page, HEADER_OFFSET, header.byteSize());
        return this;
    }

    /** Sets a setup header field, e.g. {@link SetupHeader#TYPE_OF_LOADER}. */
    public ZeroPage header(LayoutField field, long value) {
        field.set(header(), value);
        return this;
    }

    public long header(LayoutField field) {
        return field.get(header());
    }

    /** The NUL-terminated command line at {@code address} (split into the 32-bit field and its extension). */
    public ZeroPage commandLine(long address) {
        SetupHeader.CMD_LINE_PTR.set(header(), address);
        EXT_CMD_LINE_PTR.set(page, address >>> 32);
        return this;
    }

    public ZeroPage ramdisk(long address, long size) {
        SetupHeader.RAMDISK_IMAGE.set(header(), address);
        EXT_RAMDISK_IMAGE.set(page, address >>> 32);
        SetupHeader.RAMDISK_SIZE.set(header(), size);
        EXT_RAMDISK_SIZE.set(page, size >>> 32);
        return this;
    }

    public ZeroPage acpiRsdp(long address) {
        ACPI_RSDP_ADDR.set(page, address);
        return this;
    }

    public ZeroPage memoryMap(E820Map map) {
        if (map.entries().size() > E820_MAX_ENTRIES) {
            throw new IllegalArgumentException("the memory map has %d entries, the zero page holds %d"
                    .formatted(map.entries().size(), E820_MAX_ENTRIES));
        }
        map.writeTo(page.asSlice(E820_TABLE_OFFSET, E820_TABLE.byteSize()), E820_ENTRY);
        E820_ENTRIES.set(page, map.entries().size());
        return this;
    }

    /** Writes the page into guest RAM at {@code address}. */
    public void writeTo(GuestMemory memory, long address) {
        memory.write(address, page);
    }

    private MemorySegment header() {
        return page.asSlice(HEADER_OFFSET, SetupHeader.LAYOUT.byteSize());
    }
}
