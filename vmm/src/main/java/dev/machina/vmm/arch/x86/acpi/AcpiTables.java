package dev.machina.vmm.arch.x86.acpi;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.loader.LayoutField;
import dev.machina.vmm.arch.x86.AcpiPm1;
import dev.machina.vmm.arch.x86.CmosRtc;
import dev.machina.vmm.devices.pci.PciBus;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.machina.loader.LayoutField.bytes;
import static dev.machina.loader.LayoutField.u16;
import static dev.machina.loader.LayoutField.u32;
import static dev.machina.loader.LayoutField.u64;
import static dev.machina.loader.LayoutField.u8;
import static java.lang.foreign.MemoryLayout.structLayout;

/**
 * The ACPI tables of an x86 guest, written into the BIOS area of guest RAM: an RSDP at
 * {@link #RSDP_ADDRESS}, where the legacy scan of 0xE0000-0xFFFFF finds it even without a zero
 * page pointer, then FACS, DSDT, FADT, MADT, XSDT and RSDT.
 *
 * <p>The FADT describes a full (not hardware-reduced) ACPI platform: PM1a event and control
 * blocks in port space, an SCI, no SMI command port (so ACPI is always enabled and the PM1a
 * control register must read back with SCI_EN set, as {@link AcpiPm1}'s does). The DSDT's
 * {@code \_S5} package gives {@link AcpiPm1#S5} as SLP_TYP: the PM1a control write with that
 * SLP_TYP and SLP_EN set is Linux's power-off.
 *
 * @param rsdp the RSDP's address, for the zero page's {@code acpi_rsdp_addr}
 * @param area the range the tables occupy, which the memory map reports as reserved
 */
public record AcpiTables(long rsdp, AddressRange area) {
    public static final long RSDP_ADDRESS = 0xE0000;
    /** The end of the area the tables may fill: the BIOS area's top, where the reset vector page begins. */
    public static final long AREA_END = 0xF0000;

    private static final int FACS_ALIGNMENT = 64;
    private static final int TABLE_ALIGNMENT = 16;

    private static final StructLayout RSDP = structLayout(
            bytes("signature", 8), u8("checksum"), bytes("oem_id", 6), u8("revision"), u32("rsdt_address"),
            u32("length"), u64("xsdt_address"), u8("extended_checksum"), bytes("reserved", 3)).withName("rsdp");
    /** The part of the RSDP that ACPI 1.0 defined, which the first checksum covers. */
    private static final long RSDP_V1_LENGTH = RSDP.byteOffset(MemoryLayout.PathElement.groupElement("length"));

    private static final StructLayout FACS = structLayout(
            bytes("signature", 4), u32("length"), u32("hardware_signature"), u32("firmware_waking_vector"),
            u32("global_lock"), u32("flags"), u64("x_firmware_waking_vector"), u8("version"), bytes("reserved", 3),
            u32("ospm_flags"), bytes("reserved2", 24)).withName("facs");

    private static final StructLayout GAS = structLayout(
            u8("space_id"), u8("bit_width"), u8("bit_offset"), u8("access_size"), u64("address"));

    private static final StructLayout FADT = structLayout(
            AcpiTable.HEADER.withName("header"),
            u32("firmware_ctrl"), u32("dsdt"), u8("reserved0"), u8("preferred_pm_profile"), u16("sci_int"),
            u32("smi_cmd"), u8("acpi_enable"), u8("acpi_disable"), u8("s4bios_req"), u8("pstate_cnt"),
            u32("pm1a_evt_blk"), u32("pm1b_evt_blk"), u32("pm1a_cnt_blk"), u32("pm1b_cnt_blk"),
            u32("pm2_cnt_blk"), u32("pm_tmr_blk"), u32("gpe0_blk"), u32("gpe1_blk"),
            u8("pm1_evt_len"), u8("pm1_cnt_len"), u8("pm2_cnt_len"), u8("pm_tmr_len"),
            u8("gpe0_blk_len"), u8("gpe1_blk_len"), u8("gpe1_base"), u8("cst_cnt"),
            u16("p_lvl2_lat"), u16("p_lvl3_lat"), u16("flush_size"), u16("flush_stride"),
            u8("duty_offset"), u8("duty_width"), u8("day_alrm"), u8("mon_alrm"), u8("century"),
            u16("iapc_boot_arch"), u8("reserved1"), u32("flags"),
            GAS.withName("reset_reg"), u8("reset_value"), u16("arm_boot_arch"), u8("fadt_minor_version"),
            u64("x_firmware_ctrl"), u64("x_dsdt"),
            GAS.withName("x_pm1a_evt_blk"), GAS.withName("x_pm1b_evt_blk"),
            GAS.withName("x_pm1a_cnt_blk"), GAS.withName("x_pm1b_cnt_blk"),
            GAS.withName("x_pm2_cnt_blk"), GAS.withName("x_pm_tmr_blk"),
            GAS.withName("x_gpe0_blk"), GAS.withName("x_gpe1_blk"),
            GAS.withName("sleep_control_reg"), GAS.withName("sleep_status_reg"),
            u64("hypervisor_vendor_identity")).withName("fadt");

    private static final int FADT_REVISION = 6;
    private static final int MADT_REVISION = 4;
    private static final int DSDT_REVISION = 2;
    private static final int XSDT_REVISION = 1;
    private static final int RSDT_REVISION = 1;
    private static final int RSDP_REVISION = 2;
    private static final int FACS_VERSION = 2;

    private static final int SYSTEM_IO = 1;
    private static final int BYTE_ACCESS = 1;
    private static final int WORD_ACCESS = 2;
    private static final int DWORD_ACCESS = 3;
    private static final int PM1_EVENT_LENGTH = 4;
    private static final int PM1_CONTROL_LENGTH = 2;
    private static final int PM_TIMER_LENGTH = 4;

    private static final int FADT_WBINVD = 1;
    private static final int FADT_PROC_C1 = 1 << 2;
    /** The sleep button, if any, is a control-method device: there is no fixed one (the power button is fixed: PM1's PWRBTN). */
    private static final int FADT_SLP_BUTTON = 1 << 5;
    private static final int FADT_TMR_VAL_EXT = 1 << 8;
    private static final int FADT_RESET_REG_SUP = 1 << 10;
    private static final int BOOT_ARCH_LEGACY_DEVICES = 1;
    private static final int BOOT_ARCH_8042 = 1 << 1;
    private static final int BOOT_ARCH_VGA_NOT_PRESENT = 1 << 2;

    private static final int MADT_PCAT_COMPAT = 1;
    private static final int PIT_IRQ = 0;
    private static final int PIT_GSI = 2;
    private static final int NMI_LINT = 1;
    private static final int MCFG_REVISION = 1;
    private static final int PCI_PINS = 4;

    /** Writes the tables for {@code config} into {@code memory}, which must have RAM at 0xE0000-0xEFFFF. */
    public static AcpiTables write(GuestMemory memory, AcpiConfig config) {
        Placer placer = new Placer(memory, RSDP_ADDRESS + RSDP.byteSize());
        long facs = placer.place(facs(), FACS_ALIGNMENT);
        long dsdt = placer.place(dsdt(config), TABLE_ALIGNMENT);
        long fadt = placer.place(fadt(config, facs, dsdt), TABLE_ALIGNMENT);
        long madt = placer.place(madt(config), TABLE_ALIGNMENT);
        List<Long> tables = new ArrayList<>(List.of(fadt, madt));
        config.pci().ifPresent(pci -> tables.add(placer.place(mcfg(pci), TABLE_ALIGNMENT)));
        long[] pointers = tables.stream().mapToLong(Long::longValue).toArray();
        long xsdt = placer.place(pointerTable("XSDT", XSDT_REVISION, 8, pointers), TABLE_ALIGNMENT);
        long rsdt = placer.place(pointerTable("RSDT", RSDT_REVISION, 4, pointers), TABLE_ALIGNMENT);
        memory.write(RSDP_ADDRESS, rsdp(rsdt, xsdt));
        return new AcpiTables(RSDP_ADDRESS, new AddressRange(RSDP_ADDRESS, placer.next - RSDP_ADDRESS));
    }

    private static MemorySegment rsdp(long rsdt, long xsdt) {
        MemorySegment rsdp = MemorySegment.ofArray(new byte[(int) RSDP.byteSize()]);
        AcpiTable.putAscii(rsdp, 0, "RSD PTR ", 8);
        AcpiTable.putAscii(rsdp, RSDP.byteOffset(MemoryLayout.PathElement.groupElement("oem_id")), AcpiTable.OEM_ID, 6);
        field(RSDP, "revision").set(rsdp, RSDP_REVISION);
        field(RSDP, "rsdt_address").set(rsdp, rsdt);
        field(RSDP, "length").set(rsdp, RSDP.byteSize());
        field(RSDP, "xsdt_address").set(rsdp, xsdt);
        field(RSDP, "checksum").set(rsdp, AcpiTable.checksum(rsdp.asSlice(0, RSDP_V1_LENGTH)));
        field(RSDP, "extended_checksum").set(rsdp, AcpiTable.checksum(rsdp));
        return rsdp;
    }

    private static MemorySegment facs() {
        MemorySegment facs = MemorySegment.ofArray(new byte[(int) FACS.byteSize()]);
        AcpiTable.putAscii(facs, 0, "FACS", 4);
        field(FACS, "length").set(facs, FACS.byteSize());
        field(FACS, "version").set(facs, FACS_VERSION);
        return facs;
    }

    private static MemorySegment dsdt(AcpiConfig config) {
        List<byte[]> devices = new ArrayList<>();
        for (IsaDevice device : config.isaDevices()) {
            devices.add(Aml.device(device.name(),
                    Aml.name("_HID", Aml.eisaId(device.hardwareId())),
                    Aml.name("_UID", Aml.integer(device.uid())),
                    Aml.name("_CRS", Aml.resourceTemplate(Aml.ioPorts(device.port(), device.ports()), Aml.irq(device.irq())))));
        }
        config.pci().ifPresent(pci -> devices.addAll(pciDevices(pci)));
        byte[] body = Aml.terms(
                Aml.name("_S5", Aml.packageOf(
                        Aml.integer(AcpiPm1.S5), Aml.integer(AcpiPm1.S5), Aml.integer(0), Aml.integer(0))),
                Aml.scope("\\_SB", devices.toArray(byte[][]::new)));
        return AcpiTable.of("DSDT", DSDT_REVISION, body);
    }

    /**
     * The PCI Express host bridge (its bus, the configuration ports, the I/O ports and the memory
     * window it forwards, and each slot's INTx routing to IOAPIC inputs in {@code _PRT}), and a
     * motherboard resource reserving the ECAM, without which Linux does not trust the MCFG.
     */
    private static List<byte[]> pciDevices(PciHost pci) {
        byte[][] routes = new byte[PciBus.SLOTS * PCI_PINS][];
        for (int slot = 0; slot < PciBus.SLOTS; slot++) {
            for (int pin = 0; pin < PCI_PINS; pin++) {
                routes[slot * PCI_PINS + pin] = Aml.packageOf(Aml.integer(((long) slot << 16) | 0xFFFF), Aml.integer(pin),
                        Aml.integer(0), Aml.integer(PciBus.intxGsi(slot, pin)));
            }
        }
        byte[] bridge = Aml.device("PCI0",
                Aml.name("_HID", Aml.eisaId("PNP0A08")),
                Aml.name("_CID", Aml.eisaId("PNP0A03")),
                Aml.name("_UID", Aml.integer(0)),
                Aml.name("_SEG", Aml.integer(0)),
                Aml.name("_BBN", Aml.integer(0)),
                Aml.name("_CRS", Aml.resourceTemplate(
                        Aml.busNumbers(0, 0),
                        Aml.ioPorts(PciBus.CONFIG_ADDRESS_PORT, PciBus.CONFIG_PORTS),
                        Aml.ioWindow(0, PciBus.CONFIG_ADDRESS_PORT - 1),
                        Aml.ioWindow(PciBus.CONFIG_ADDRESS_PORT + PciBus.CONFIG_PORTS, 0xFFFF),
                        Aml.memoryWindow(pci.windowStart(), pci.windowEnd()))),
                Aml.name("_PRT", Aml.packageOf(routes)));
        byte[] ecam = Aml.device("MRES",
                Aml.name("_HID", Aml.eisaId("PNP0C02")),
                Aml.name("_UID", Aml.integer(1)),
                Aml.name("_CRS", Aml.resourceTemplate(Aml.memory32Fixed(pci.ecamBase(), PciBus.ECAM_SIZE))));
        return List.of(bridge, ecam);
    }

    /** The MCFG: bus 0 of segment 0 has its ECAM at {@code pci.ecamBase()}. */
    private static MemorySegment mcfg(PciHost pci) {
        ByteBuffer body = ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        body.putLong(0);                               // reserved
        body.putLong(pci.ecamBase()).putShort((short) 0).put((byte) 0).put((byte) 0).putInt(0);
        return AcpiTable.of("MCFG", MCFG_REVISION, body.array());
    }

    private static MemorySegment fadt(AcpiConfig config, long facs, long dsdt) {
        MemorySegment fadt = MemorySegment.ofArray(new byte[(int) FADT.byteSize()]);
        field(FADT, "firmware_ctrl").set(fadt, facs);
        field(FADT, "x_firmware_ctrl").set(fadt, facs);
        field(FADT, "dsdt").set(fadt, dsdt);
        field(FADT, "x_dsdt").set(fadt, dsdt);
        field(FADT, "sci_int").set(fadt, config.sciIrq());
        field(FADT, "pm1a_evt_blk").set(fadt, config.pm1aEventPort());
        field(FADT, "pm1_evt_len").set(fadt, PM1_EVENT_LENGTH);
        ioRegister(fadt, "x_pm1a_evt_blk", config.pm1aEventPort(), PM1_EVENT_LENGTH, WORD_ACCESS);
        field(FADT, "pm1a_cnt_blk").set(fadt, config.pm1aControlPort());
        field(FADT, "pm1_cnt_len").set(fadt, PM1_CONTROL_LENGTH);
        ioRegister(fadt, "x_pm1a_cnt_blk", config.pm1aControlPort(), PM1_CONTROL_LENGTH, WORD_ACCESS);
        int flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
        if (config.pmTimerPort().isPresent()) {
            int port = config.pmTimerPort().getAsInt();
            field(FADT, "pm_tmr_blk").set(fadt, port);
            field(FADT, "pm_tmr_len").set(fadt, PM_TIMER_LENGTH);
            ioRegister(fadt, "x_pm_tmr_blk", port, PM_TIMER_LENGTH, DWORD_ACCESS);
            flags |= FADT_TMR_VAL_EXT;
        }
        field(FADT, "flags").set(fadt, flags);
        field(FADT, "century").set(fadt, CmosRtc.CENTURY);
        field(FADT, "iapc_boot_arch").set(fadt, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_VGA_NOT_PRESENT);
        ioRegister(fadt, "reset_reg", config.reset().port(), 1, BYTE_ACCESS);
        field(FADT, "reset_value").set(fadt, config.reset().value());
        AcpiTable.seal(fadt, "FACP", FADT_REVISION);
        return fadt;
    }

    /** A Generic Address Structure naming {@code bytes} bytes of port space at {@code port}. */
    private static void ioRegister(MemorySegment fadt, String name, int port, int bytes, int accessSize) {
        field(FADT, name, "space_id").set(fadt, SYSTEM_IO);
        field(FADT, name, "bit_width").set(fadt, bytes * 8L);
        field(FADT, name, "access_size").set(fadt, accessSize);
        field(FADT, name, "address").set(fadt, port);
    }

    private static MemorySegment madt(AcpiConfig config) {
        List<MadtEntry> entries = new ArrayList<>();
        for (int cpu = 0; cpu < config.cpus(); cpu++) {
            entries.add(new MadtEntry.LocalApic(cpu));
        }
        entries.add(new MadtEntry.IoApic(config.ioApicId(), X86MemoryMap.IOAPIC_BASE, 0));
        entries.add(new MadtEntry.InterruptSourceOverride(PIT_IRQ, PIT_GSI, MadtEntry.EDGE | MadtEntry.ACTIVE_HIGH));
        entries.add(new MadtEntry.InterruptSourceOverride(config.sciIrq(), config.sciIrq(),
                MadtEntry.LEVEL | MadtEntry.ACTIVE_HIGH));
        entries.add(new MadtEntry.LocalApicNmi(NMI_LINT, MadtEntry.EDGE | MadtEntry.ACTIVE_HIGH));

        ByteBuffer body = ByteBuffer.allocate(8 + MadtEntry.MAX_LENGTH * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        body.putInt((int) X86MemoryMap.LOCAL_APIC_BASE).putInt(MADT_PCAT_COMPAT);
        entries.forEach(entry -> entry.writeTo(body));
        return AcpiTable.of("APIC", MADT_REVISION, Arrays.copyOf(body.array(), body.position()));
    }

    /** An RSDT ({@code pointerSize} 4) or XSDT ({@code pointerSize} 8) listing {@code tables}. */
    private static MemorySegment pointerTable(String signature, int revision, int pointerSize, long... tables) {
        ByteBuffer body = ByteBuffer.allocate(pointerSize * tables.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long table : tables) {
            if (pointerSize == 4) {
                body.putInt((int) table);
            } else {
                body.putLong(table);
            }
        }
        return AcpiTable.of(signature, revision, body.array());
    }

    private static LayoutField field(StructLayout struct, String... path) {
        return LayoutField.of(struct, path);
    }

    /** Writes tables one after the other, each at the next suitably aligned address. */
    private static final class Placer {
        private final GuestMemory memory;
        private long next;

        Placer(GuestMemory memory, long start) {
            this.memory = memory;
            this.next = start;
        }

        long place(MemorySegment table, int alignment) {
            long address = (next + alignment - 1) & -alignment;
            if (address + table.byteSize() > AREA_END) {
                throw new IllegalStateException("the ACPI tables outgrow the BIOS area at 0x%x".formatted(address));
            }
            memory.write(address, table);
            next = address + table.byteSize();
            return address;
        }
    }
}
