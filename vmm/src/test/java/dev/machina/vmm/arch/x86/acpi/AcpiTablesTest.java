package dev.machina.vmm.arch.x86.acpi;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AcpiTablesTest {
    private static final PciHost PCI = new PciHost(0xE000_0000L, 0xC000_0000L, 0xDFFF_FFFFL);
    private static final IsaDevice COM1 = new IsaDevice("COM1", "PNP0501", 1, 0x3F8, 8, 4);
    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(2 << 20));

    @AfterEach
    void close() {
        memory.close();
    }

    private byte[] bytes(long address, int length) {
        byte[] bytes = new byte[length];
        memory.read(address, bytes, 0, length);
        return bytes;
    }

    /** A whole table at {@code address}, by the length in its header (offset 4). */
    private ByteBuffer table(long address) {
        return ByteBuffer.wrap(bytes(address, memory.readInt(address + 4))).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String signature(ByteBuffer table) {
        return new String(table.array(), 0, 4, StandardCharsets.US_ASCII);
    }

    private static int sum(byte[] bytes, int length) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += bytes[i];
        }
        return sum & 0xFF;
    }

    /** The tables the XSDT lists, by following it from the RSDP. */
    private List<ByteBuffer> xsdtTables(AcpiTables tables) {
        ByteBuffer xsdt = table(memory.readLong(tables.rsdp() + 24));
        List<ByteBuffer> listed = new ArrayList<>();
        for (int offset = 36; offset < xsdt.capacity(); offset += 8) {
            listed.add(table(xsdt.getLong(offset)));
        }
        return listed;
    }

    private ByteBuffer listed(AcpiTables tables, String signature) {
        return xsdtTables(tables).stream().filter(t -> signature(t).equals(signature)).findFirst().orElseThrow();
    }

    @Test
    void rsdpIsInTheLegacyScanAreaWithBothChecksums() {
        AcpiTables tables = AcpiTables.write(memory, AcpiConfig.defaults(1));

        assertThat(tables.rsdp()).isEqualTo(0xE0000);
        byte[] rsdp = bytes(0xE0000, 36);
        assertThat(new String(rsdp, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("RSD PTR ");
        assertThat(rsdp[15]).as("revision").isEqualTo((byte) 2);
        assertThat(memory.readInt(0xE0000 + 20)).as("length").isEqualTo(36);
        assertThat(sum(rsdp, 20)).isZero();
        assertThat(sum(rsdp, 36)).isZero();
        assertThat(tables.area().start()).isEqualTo(0xE0000);
        assertThat(tables.area().end()).isLessThanOrEqualTo(0xF0000);
    }

    @Test
    void everyTableSumsToZeroAndLiesInTheReportedArea() {
        AcpiTables tables = AcpiTables.write(memory, AcpiConfig.defaults(4));
        ByteBuffer fadt = listed(tables, "FACP");
        long rsdtAddress = Integer.toUnsignedLong(memory.readInt(tables.rsdp() + 16));
        long xsdtAddress = memory.readLong(tables.rsdp() + 24);
        long dsdtAddress = Integer.toUnsignedLong(fadt.getInt(40));

        List<ByteBuffer> all = new ArrayList<>(xsdtTables(tables));
        all.add(table(rsdtAddress));
        all.add(table(xsdtAddress));
        all.add(table(dsdtAddress));
        assertThat(all).extracting(AcpiTablesTest::signature).containsExactly("FACP", "APIC", "RSDT", "XSDT", "DSDT");
        for (ByteBuffer table : all) {
            assertThat(sum(table.array(), table.capacity())).as(signature(table)).isZero();
        }
        for (long address : List.of(rsdtAddress, xsdtAddress, dsdtAddress)) {
            assertThat(tables.area().contains(address)).isTrue();
        }
        ByteBuffer rsdt = table(rsdtAddress);
        assertThat(rsdt.capacity()).isEqualTo(36 + 2 * 4);
        assertThat(Integer.toUnsignedLong(rsdt.getInt(36))).isEqualTo(memory.readLong(xsdtAddress + 36));
    }

    @Test
    void fadtDescribesThePmBlocksSciResetAndFacs() {
        AcpiConfig config = new AcpiConfig(1, 0x700, 0x704, OptionalInt.of(0x708), 9, ResetRegister.RESET_CONTROL_CF9, 0, List.of(), Optional.empty());
        ByteBuffer fadt = listed(AcpiTables.write(memory, config), "FACP");

        assertThat(fadt.capacity()).isEqualTo(276);
        assertThat(fadt.get(8)).as("revision").isEqualTo((byte) 6);
        assertThat(fadt.getShort(46)).as("SCI_INT").isEqualTo((short) 9);
        assertThat(fadt.getInt(48)).as("SMI_CMD: ACPI always enabled").isZero();
        assertThat(fadt.getInt(56)).as("PM1a_EVT_BLK").isEqualTo(0x700);
        assertThat(fadt.getInt(64)).as("PM1a_CNT_BLK").isEqualTo(0x704);
        assertThat(fadt.getInt(76)).as("PM_TMR_BLK").isEqualTo(0x708);
        assertThat(fadt.get(88)).as("PM1_EVT_LEN").isEqualTo((byte) 4);
        assertThat(fadt.get(89)).as("PM1_CNT_LEN").isEqualTo((byte) 2);
        assertThat(fadt.get(91)).as("PM_TMR_LEN").isEqualTo((byte) 4);
        assertThat(fadt.getInt(112) & (1 << 20)).as("HW_REDUCED_ACPI").isZero();
        assertThat(fadt.getInt(112) & (1 << 10)).as("RESET_REG_SUP").isNotZero();
        assertThat(fadt.getInt(112) & (1 << 8)).as("TMR_VAL_EXT: a 32-bit PM timer").isNotZero();
        assertThat(fadt.get(116)).as("reset register in system I/O").isEqualTo((byte) 1);
        assertThat(fadt.getLong(120)).as("reset port").isEqualTo(0xCF9);
        assertThat(fadt.get(128)).as("reset value").isEqualTo((byte) 6);
        assertThat(fadt.getLong(140)).as("X_DSDT").isEqualTo(Integer.toUnsignedLong(fadt.getInt(40)));
        assertThat(fadt.get(148)).as("X_PM1a_EVT_BLK space").isEqualTo((byte) 1);
        assertThat(fadt.get(149)).as("X_PM1a_EVT_BLK bit width").isEqualTo((byte) 32);
        assertThat(fadt.getLong(152)).as("X_PM1a_EVT_BLK address").isEqualTo(0x700);
        assertThat(fadt.getLong(176)).as("X_PM1a_CNT_BLK address").isEqualTo(0x704);

        long facs = Integer.toUnsignedLong(fadt.getInt(36));
        assertThat(facs % 64).isZero();
        assertThat(new String(bytes(facs, 4), StandardCharsets.US_ASCII)).isEqualTo("FACS");
        assertThat(memory.readInt(facs + 4)).isEqualTo(64);
        assertThat(fadt.getLong(132)).as("X_FIRMWARE_CTRL").isEqualTo(facs);
    }

    record Entry(int type, byte[] bytes) {
    }

    @Test
    void madtHasOneLocalApicPerCpuTheIoApicOverridesAndNmi() {
        ByteBuffer madt = listed(AcpiTables.write(memory, AcpiConfig.defaults(3)), "APIC");

        assertThat(madt.getInt(36)).as("local APIC address").isEqualTo(0xFEE0_0000);
        assertThat(madt.getInt(40)).as("PCAT_COMPAT").isEqualTo(1);
        List<Entry> entries = new ArrayList<>();
        for (int offset = 44; offset < madt.capacity(); offset += madt.get(offset + 1)) {
            byte[] entry = new byte[madt.get(offset + 1)];
            madt.get(offset, entry);
            entries.add(new Entry(entry[0], entry));
        }
        HexFormat hex = HexFormat.of();
        assertThat(entries).extracting(e -> hex.formatHex(e.bytes())).containsExactly(
                "0008000001000000",         // processor 0, APIC id 0, enabled
                "0008010101000000",
                "0008020201000000",
                "010c00000000c0fe00000000", // IOAPIC id 0 at 0xFEC00000, GSI base 0
                "020a0000020000000500",     // ISA IRQ 0 -> GSI 2, edge, active high
                "020a0009090000000d00",     // ISA IRQ 9 -> GSI 9, level, active high
                "0406ff050001");            // NMI on LINT1 of every processor
        assertThat(madt.capacity()).isEqualTo(44 + 3 * 8 + 12 + 2 * 10 + 6);
    }

    @Test
    void dsdtHoldsTheS5PackageAndTheIsaDevicesItIsGiven() {
        ByteBuffer fadt = listed(AcpiTables.write(memory, AcpiConfig.defaults(1).withIsaDevices(List.of(COM1))), "FACP");
        ByteBuffer dsdt = table(Integer.toUnsignedLong(fadt.getInt(40)));

        String aml = HexFormat.of().formatHex(dsdt.array(), 36, dsdt.capacity());
        assertThat(aml).isEqualTo(
                "085f53355f1208040a050a050000"           // Name(_S5, Package(){5, 5, 0, 0})
                + "1033" + "5c5f53425f"                  // Scope(\_SB) {
                + "5b822b" + "434f4d31"                  //   Device(COM1) {
                + "085f4849440c41d00501"                 //     Name(_HID, EisaId("PNP0501"))
                + "085f55494401"                         //     Name(_UID, 1)
                + "085f43525311100a0d"                   //     Name(_CRS, ResourceTemplate() {
                + "4701f803f8030108" + "221000" + "7900"); //       IO(0x3F8, 8), IRQNoFlags(){4} })
    }

    @Test
    void iaslDisassemblesEveryTableWithoutErrors(@TempDir Path directory) throws Exception {
        Path iasl = Path.of("/usr/bin/iasl");
        assumeTrue(Files.isExecutable(iasl), "iasl is absent: install acpica-tools to check the tables with it");
        AcpiTables tables = AcpiTables.write(memory, AcpiConfig.defaults(2).withIsaDevices(List.of(COM1)).withPci(PCI));
        ByteBuffer fadt = listed(tables, "FACP");
        List<ByteBuffer> all = new ArrayList<>(xsdtTables(tables));
        all.add(table(memory.readLong(tables.rsdp() + 24)));
        all.add(table(Integer.toUnsignedLong(fadt.getInt(40))));

        for (ByteBuffer table : all) {
            Path file = directory.resolve(signature(table).toLowerCase() + ".dat");
            Files.write(file, table.array());
            Process process = new ProcessBuilder(iasl.toString(), "-d", file.toString())
                    .directory(directory.toFile()).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as(output).isZero();
            assertThat(output).as(output).doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("warning");
            String listing = Files.readString(directory.resolve(signature(table).toLowerCase() + ".dsl"));
            assertThat(listing).as(listing).doesNotContain("Invalid").doesNotContain("Incorrect")
                    .contains('"' + signature(table) + '"');
            if (signature(table).equals("DSDT")) {
                assertThat(listing).as(listing).contains("EisaId (\"PNP0A08\")", "_PRT", "0x001FFFFF",
                        "0xC0000000", "0xDFFFFFFF", "Memory32Fixed (ReadWrite,", "0xE0000000");
            }
            if (signature(table).equals("MCFG")) {
                assertThat(listing).as(listing).contains("Base Address : 00000000E0000000");
            }
        }
    }

    @Test
    void pciHostAddsAnMcfgForBusZero() {
        ByteBuffer mcfg = listed(AcpiTables.write(memory, AcpiConfig.defaults(1).withPci(PCI)), "MCFG");
        assertThat(mcfg.capacity()).isEqualTo(36 + 8 + 16);
        assertThat(mcfg.getLong(44)).as("ECAM base").isEqualTo(0xE000_0000L);
        assertThat(mcfg.getShort(52)).as("segment").isZero();
        assertThat(mcfg.get(54)).as("first bus").isZero();
        assertThat(mcfg.get(55)).as("last bus").isZero();
    }
}
