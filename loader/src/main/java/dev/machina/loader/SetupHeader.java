package dev.machina.loader;

import java.lang.foreign.StructLayout;

import static dev.machina.loader.LayoutField.u16;
import static dev.machina.loader.LayoutField.u32;
import static dev.machina.loader.LayoutField.u64;
import static dev.machina.loader.LayoutField.u8;
import static java.lang.foreign.MemoryLayout.structLayout;

/**
 * The Linux x86 real-mode kernel header ({@code struct setup_header}, Documentation/arch/x86/boot.rst)
 * as of boot protocol 2.15. It sits at {@link #OFFSET} both in a bzImage's first sector and in the
 * zero page ({@code struct boot_params}) the kernel is entered with.
 */
public final class SetupHeader {
    /** Where the header starts, in the image and in the zero page. */
    public static final long OFFSET = 0x1F1;

    public static final StructLayout LAYOUT = structLayout(
            u8("setup_sects"),
            u16("root_flags"),
            u32("syssize"),
            u16("ram_size"),
            u16("vid_mode"),
            u16("root_dev"),
            u16("boot_flag"),
            u16("jump"),
            u32("header"),
            u16("version"),
            u32("realmode_swtch"),
            u16("start_sys_seg"),
            u16("kernel_version"),
            u8("type_of_loader"),
            u8("loadflags"),
            u16("setup_move_size"),
            u32("code32_start"),
            u32("ramdisk_image"),
            u32("ramdisk_size"),
            u32("bootsect_kludge"),
            u16("heap_end_ptr"),
            u8("ext_loader_ver"),
            u8("ext_loader_type"),
            u32("cmd_line_ptr"),
            u32("initrd_addr_max"),
            u32("kernel_alignment"),
            u8("relocatable_kernel"),
            u8("min_alignment"),
            u16("xloadflags"),
            u32("cmdline_size"),
            u32("hardware_subarch"),
            u64("hardware_subarch_data"),
            u32("payload_offset"),
            u32("payload_length"),
            u64("setup_data"),
            u64("pref_address"),
            u32("init_size"),
            u32("handover_offset"),
            u32("kernel_info_offset")).withName("setup_header");

    public static final LayoutField SETUP_SECTS = field("setup_sects");
    public static final LayoutField SYSSIZE = field("syssize");
    public static final LayoutField BOOT_FLAG = field("boot_flag");
    public static final LayoutField JUMP = field("jump");
    public static final LayoutField HEADER = field("header");
    public static final LayoutField VERSION = field("version");
    public static final LayoutField KERNEL_VERSION = field("kernel_version");
    public static final LayoutField TYPE_OF_LOADER = field("type_of_loader");
    public static final LayoutField LOADFLAGS = field("loadflags");
    public static final LayoutField RAMDISK_IMAGE = field("ramdisk_image");
    public static final LayoutField RAMDISK_SIZE = field("ramdisk_size");
    public static final LayoutField CMD_LINE_PTR = field("cmd_line_ptr");
    public static final LayoutField INITRD_ADDR_MAX = field("initrd_addr_max");
    public static final LayoutField KERNEL_ALIGNMENT = field("kernel_alignment");
    public static final LayoutField RELOCATABLE_KERNEL = field("relocatable_kernel");
    public static final LayoutField XLOADFLAGS = field("xloadflags");
    public static final LayoutField CMDLINE_SIZE = field("cmdline_size");
    public static final LayoutField PAYLOAD_OFFSET = field("payload_offset");
    public static final LayoutField PAYLOAD_LENGTH = field("payload_length");
    public static final LayoutField PREF_ADDRESS = field("pref_address");
    public static final LayoutField INIT_SIZE = field("init_size");

    /** {@code boot_flag}: the boot sector signature. */
    public static final int BOOT_FLAG_MAGIC = 0xAA55;
    /** {@code header}: "HdrS" read as a little-endian integer. */
    public static final int HEADER_MAGIC = 0x5372_6448;
    /** {@code type_of_loader}: a boot loader without an assigned id. */
    public static final int LOADER_UNDEFINED = 0xFF;
    /** {@code loadflags}: the protected-mode kernel is loaded at 0x100000 or above. */
    public static final int LOADED_HIGH = 0x01;
    /** {@code loadflags}: the decompressor randomized where the kernel runs (KASLR); set by it, never by a loader. */
    public static final int KASLR_FLAG = 0x02;
    /** {@code xloadflags}: the kernel has the 64-bit entry point at load address + 0x200. */
    public static final int XLF_KERNEL_64 = 0x01;
    /** {@code xloadflags}: the kernel, boot_params, command line and ramdisk may lie above 4 GiB. */
    public static final int XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;

    private SetupHeader() {
    }

    private static LayoutField field(String name) {
        return LayoutField.of(LAYOUT, name);
    }
}
