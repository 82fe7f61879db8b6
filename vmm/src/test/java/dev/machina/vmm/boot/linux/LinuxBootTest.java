package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.vmm.boot.AssembledGuest;
import dev.machina.loader.BzImage;
import dev.machina.loader.ElfImage;
import dev.machina.loader.ImageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinuxBootTest {
    private static final long MIB = 1 << 20;
    private static final Path KERNEL = Path.of("vmlinuz-test");

    @TempDir
    Path directory;

    private GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(128 * MIB));

    @AfterEach
    void close() {
        memory.close();
    }

    /**
     * A bzImage of protocol 2.15 with one setup sector (kernel at file offset 0x400) whose payload,
     * 0x2CC bytes into the kernel, is a gzip-compressed vmlinux ({@link #vmlinux}, linked at
     * 16 MiB); loadflags with KASLR_FLAG set besides LOADED_HIGH, preferred address 16 MiB,
     * init_size 51 MiB, cmdline_size 64 (characters, without the NUL).
     */
    private BzImage kernel() throws Exception {
        return kernel(0x100_0000);
    }

    private BzImage kernel(long preferredAddress) throws Exception {
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        try (OutputStream gzip = new GZIPOutputStream(payload)) {
            gzip.write(Files.readAllBytes(vmlinux(false).file()));
        }
        int kernelSize = (0x2CC + payload.size() + 15) & ~15;
        ByteBuffer image = ByteBuffer.allocate(0x400 + kernelSize).order(ByteOrder.LITTLE_ENDIAN);
        image.put(0x1F1, (byte) 1).putInt(0x1F4, kernelSize / 16).putShort(0x1FE, (short) 0xAA55);
        image.put(0x200, (byte) 0xEB).put(0x201, (byte) 0x6A).putInt(0x202, 0x5372_6448).putShort(0x206, (short) 0x20F);
        image.put(0x211, (byte) 3).putInt(0x22C, 0x7FFF_FFFF).putInt(0x230, 0x20_0000).put(0x234, (byte) 1);
        image.putShort(0x236, (short) 0x7F).putInt(0x238, 64).putInt(0x248, 0x2CC).putInt(0x24C, payload.size());
        image.putLong(0x258, preferredAddress).putInt(0x260, 0x337_8000);
        image.put(0x400 + 0x2CC, payload.toByteArray());
        return BzImage.parse(KERNEL, image.array());
    }

    private Path initrd(int size) throws Exception {
        Path file = directory.resolve("initrd.gz");
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 13);
        }
        Files.write(file, bytes);
        return file;
    }

    private BootArguments arguments(String commandLine, Optional<Path> initrd) {
        return new BootArguments(commandLine, initrd, OptionalLong.of(0xE0000), E820Map.standard(memory.regions()));
    }

    private String string(long address, int length) {
        byte[] bytes = new byte[length];
        memory.read(address, bytes, 0, length);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    @Test
    void bzImageIsUnpackedToItsVmlinuxAndEnteredInLongModeWithTheZeroPage() throws Exception {
        X86State state = LinuxBoot.bzImage(memory, kernel(), arguments("console=ttyS0", Optional.empty()));

        assertThat(memory.readByte(0x100_0000)).as("nop").isEqualTo((byte) 0x90);
        assertThat(memory.readByte(0x100_0001)).as("hlt").isEqualTo((byte) 0xF4);
        assertThat(state.get(Register.RIP)).as("the vmlinux's startup_64").isEqualTo(0x100_0000);
        assertThat(state.get(Register.RSI)).as("zero page").isEqualTo(0x7000);
        assertThat(state.control().cr3()).isEqualTo(0x9000);
        assertThat(memory.readLong(0x9000) & ~0xFFFL).as("PML4[0] -> PDPT").isEqualTo(0xA000);
        assertThat(state.control().efer() & ControlRegisters.EFER_LMA).isNotZero();
        assertThat(state.segments().cs().selector()).isEqualTo(0x10);
        assertThat(state.segments().ds().selector()).isEqualTo(0x18);
        assertThat(state.segments().cs().longMode()).isTrue();
        assertThat(state.gdt().base()).isEqualTo(0x1000);
        assertThat(memory.readLong(0x1000 + 0x10)).as("__BOOT_CS descriptor").isNotZero();
    }

    @Test
    void zeroPageHoldsTheKernelsHeaderAndTheLoadersFields() throws Exception {
        LinuxBoot.bzImage(memory, kernel(), arguments("console=ttyS0 panic=-1", Optional.of(initrd(10_000))));

        assertThat(memory.readShort(0x7000 + 0x1FE)).as("boot_flag").isEqualTo((short) 0xAA55);
        assertThat(string(0x7000 + 0x202, 4)).as("header").isEqualTo("HdrS");
        assertThat(memory.readShort(0x7000 + 0x206)).as("version").isEqualTo((short) 0x20F);
        assertThat(memory.readLong(0x7000 + 0x258)).as("pref_address").isEqualTo(0x100_0000);
        assertThat(memory.readByte(0x7000 + 0x211)).as("loadflags: KASLR_FLAG cleared, as the decompressor clears it")
                .isEqualTo((byte) 1);
        assertThat(memory.readByte(0x7000 + 0x210)).as("type_of_loader").isEqualTo((byte) 0xFF);
        assertThat(memory.readInt(0x7000 + 0x228)).as("cmd_line_ptr").isEqualTo(0x2_0000);
        assertThat(memory.readInt(0x7000 + 0x0C8)).as("ext_cmd_line_ptr").isZero();
        assertThat(string(0x2_0000, 23)).isEqualTo("console=ttyS0 panic=-1\0");
        assertThat(memory.readLong(0x7000 + 0x070)).as("acpi_rsdp_addr").isEqualTo(0xE0000);

        // 10000 bytes below the top of 128 MiB, rounded down to a page: 0x8000000 - 0x2710 -> 0x7FFD000.
        assertThat(memory.readInt(0x7000 + 0x218)).as("ramdisk_image").isEqualTo(0x7FF_D000);
        assertThat(memory.readInt(0x7000 + 0x21C)).as("ramdisk_size").isEqualTo(10_000);
        assertThat(memory.readByte(0x7FF_D000 + 9_999)).isEqualTo((byte) (9_999 * 13));

        assertThat(memory.readByte(0x7000 + 0x1E8)).as("e820_entries").isEqualTo((byte) 3);
        assertThat(memory.readLong(0x7000 + 0x2D0)).isZero();
        assertThat(memory.readLong(0x7000 + 0x2D8)).isEqualTo(0x9_FC00);
        assertThat(memory.readInt(0x7000 + 0x2E0)).isEqualTo(1);
        assertThat(memory.readLong(0x7000 + 0x2E4)).isEqualTo(0x9_FC00);
        assertThat(memory.readLong(0x7000 + 0x2EC)).isEqualTo(0x6_0400);
        assertThat(memory.readInt(0x7000 + 0x2F4)).isEqualTo(2);
        assertThat(memory.readLong(0x7000 + 0x2F8)).isEqualTo(0x10_0000);
        assertThat(memory.readLong(0x7000 + 0x300)).isEqualTo(0x7F0_0000);
        assertThat(memory.readInt(0x7000 + 0x308)).isEqualTo(1);
    }

    @Test
    void initrdStaysBelowInitrdAddrMaxWhenRamGoesPast4GiB() throws Exception {
        BzImage kernel = kernel();
        memory.close();
        memory = GuestMemory.allocate(X86MemoryMap.ram(5L << 30));

        LinuxBoot.bzImage(memory, kernel, arguments("", Optional.of(initrd(10_000))));

        // initrd_addr_max is 0x7FFFFFFF: the initrd ends below 2 GiB although RAM reaches 3 GiB and beyond 4 GiB.
        assertThat(memory.readInt(0x7000 + 0x218)).isEqualTo(0x7FFF_D000);
        assertThat(memory.readInt(0x7000 + 0x0C0)).as("ext_ramdisk_image").isZero();
        assertThat(memory.readByte(0x7000 + 0x1E8)).as("e820_entries").isEqualTo((byte) 4);
        assertThat(memory.readLong(0x7000 + 0x2D0 + 3 * 20)).isEqualTo(0x1_0000_0000L);
        assertThat(memory.readLong(0x7000 + 0x2D0 + 3 * 20 + 8)).isEqualTo(0x8000_0000L);
    }

    @Test
    void refusesAKernelThatDoesNotFit() throws Exception {
        BzImage kernel = kernel();
        memory.close();
        memory = GuestMemory.allocate(X86MemoryMap.ram(8 * MIB));

        assertThatThrownBy(() -> LinuxBoot.bzImage(memory, kernel, arguments("", Optional.empty())))
                .isInstanceOf(ImageException.class)
                .hasMessageMatching("vmlinuz-test: the unpacked payload: PT_LOAD segment 0 at 0x1000000\\.\\.0x10000[0-9a-f]+"
                        + " does not fit in 8 MiB of guest memory");
    }

    @Test
    void refusesAnInitrdThatDoesNotFitAboveTheKernel() throws Exception {
        Path big = directory.resolve("big.img");
        try (RandomAccessFile file = new RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(120 * MIB);
        }

        assertThatThrownBy(() -> LinuxBoot.bzImage(memory, kernel(), arguments("", Optional.of(big))))
                .isInstanceOf(ImageException.class)
                .hasMessageMatching(Pattern.quote(big + ": the initrd (120 MiB) does not fit in guest RAM between the kernel's end at")
                        + " 0x10000[0-9a-f]+ and the end of RAM at 0x8000000 \\(128 MiB\\)");
        assertThatThrownBy(() -> LinuxBoot.bzImage(memory, kernel(), arguments("", Optional.of(directory.resolve("absent")))))
                .hasMessageStartingWith(directory.resolve("absent") + ": cannot read the initrd");
    }

    @Test
    void refusesAPreferredAddressBeyondThePhysicalAddressSpace() {
        assertThatThrownBy(() -> LinuxBoot.bzImage(memory, kernel(0xFFFF_FFFF_FFFF_F000L), arguments("", Optional.empty())))
                .isInstanceOf(ImageException.class)
                .hasMessage("vmlinuz-test: pref_address 0xfffffffffffff000 with init_size 0x3378000 lies beyond x86-64's"
                        + " 52-bit physical address space");
    }

    @Test
    void refusesACommandLineLongerThanTheKernelAccepts() {
        assertThatThrownBy(() -> LinuxBoot.bzImage(memory, kernel(), arguments("x".repeat(65), Optional.empty())))
                .hasMessage("vmlinuz-test: the command line is 65 bytes; this kernel accepts at most 64");
    }

    /** A tiny ELF "kernel" at 16 MiB; with {@code pvh}, a Xen PVH note naming its second instruction. */
    private ElfImage vmlinux(boolean pvh) throws Exception {
        String note = """
                .pushsection .note.Xen, "a", @note
                .p2align 2
                .long 4, 4, 18
                .asciz "Xen"
                .p2align 2
                .long _start + 1
                .popsection
                """;
        return ElfImage.read(AssembledGuest.build(directory, "nop\nhlt\n" + (pvh ? note : ""), 0x100_0000));
    }

    @Test
    void vmlinuxGetsASynthesizedHeaderAndItsInitrdAboveIt() throws Exception {
        X86State state = LinuxBoot.vmlinux(memory, vmlinux(false), arguments("quiet", Optional.of(initrd(5000))));

        assertThat(state.get(Register.RIP)).isEqualTo(0x100_0000);
        assertThat(state.get(Register.RSI)).isEqualTo(0x7000);
        assertThat(memory.readByte(0x100_0001)).as("hlt").isEqualTo((byte) 0xF4);
        assertThat(memory.readShort(0x7000 + 0x1FE)).isEqualTo((short) 0xAA55);
        assertThat(string(0x7000 + 0x202, 4)).isEqualTo("HdrS");
        assertThat(memory.readShort(0x7000 + 0x206)).isEqualTo((short) 0x20F);
        assertThat(memory.readByte(0x7000 + 0x210)).isEqualTo((byte) 0xFF);
        assertThat(memory.readInt(0x7000 + 0x228)).isEqualTo(0x2_0000);
        assertThat(memory.readInt(0x7000 + 0x218)).isEqualTo(0x7FF_E000);
        assertThat(memory.readInt(0x7000 + 0x21C)).isEqualTo(5000);
    }

    @Test
    void pvhWritesTheStartInfoAndEntersFlatProtectedMode() throws Exception {
        X86State state = LinuxBoot.pvh(memory, vmlinux(true), arguments("console=ttyS0", Optional.of(initrd(5000))));

        assertThat(memory.readInt(0x7000)).as("magic").isEqualTo(0x336E_C578);
        assertThat(memory.readInt(0x7004)).as("version").isEqualTo(1);
        assertThat(memory.readInt(0x700C)).as("nr_modules").isEqualTo(1);
        assertThat(memory.readLong(0x7010)).as("modlist_paddr").isEqualTo(0x7038);
        assertThat(memory.readLong(0x7018)).as("cmdline_paddr").isEqualTo(0x2_0000);
        assertThat(memory.readLong(0x7020)).as("rsdp_paddr").isEqualTo(0xE0000);
        assertThat(memory.readLong(0x7028)).as("memmap_paddr").isEqualTo(0x7038 + 32);
        assertThat(memory.readInt(0x7030)).as("memmap_entries").isEqualTo(3);
        assertThat(memory.readLong(0x7038)).as("module paddr").isEqualTo(0x7FF_E000);
        assertThat(memory.readLong(0x7040)).as("module size").isEqualTo(5000);
        assertThat(memory.readLong(0x7058 + 24)).as("second memmap entry").isEqualTo(0x9_FC00);
        assertThat(memory.readLong(0x7058 + 32)).isEqualTo(0x6_0400);
        assertThat(memory.readInt(0x7058 + 40)).isEqualTo(2);
        assertThat(string(0x2_0000, 14)).isEqualTo("console=ttyS0\0");

        assertThat(state.get(Register.RIP)).as("the PVH note's entry").isEqualTo(0x100_0001);
        assertThat(state.get(Register.RBX)).isEqualTo(0x7000);
        assertThat(state.control().cr0() & (ControlRegisters.CR0_PE | ControlRegisters.CR0_PG)).isEqualTo(ControlRegisters.CR0_PE);
        assertThat(state.control().efer()).isZero();
        assertThat(state.segments().cs().defaultBig()).isTrue();
        assertThat(state.segments().cs().longMode()).isFalse();
        assertThat(state.segments().cs().selector()).isEqualTo(0x10);
    }

    @Test
    void refusesAVmlinuxOverTheBootStructures() throws Exception {
        ElfImage low = ElfImage.read(AssembledGuest.build(directory, "hlt", 0x2_0000));

        assertThatThrownBy(() -> LinuxBoot.vmlinux(memory, low, arguments("", Optional.empty())))
                .isInstanceOf(ImageException.class)
                .hasMessageEndingWith(": loads at 0x20000, over the boot structures below 0x30000");
    }

    @Test
    void pvhNeedsThePvhNote() throws Exception {
        ElfImage kernel = vmlinux(false);

        assertThatThrownBy(() -> LinuxBoot.pvh(memory, kernel, arguments("", Optional.empty())))
                .hasMessage(kernel.file() + ": has no PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY note)");
    }
}
