package dev.machina.vmm.arch.x86.acpi;

import dev.machina.loader.LayoutField;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static dev.machina.loader.LayoutField.bytes;
import static dev.machina.loader.LayoutField.u32;
import static dev.machina.loader.LayoutField.u8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.structLayout;

/** The header every ACPI system description table starts with, and the checksum that seals a table. */
final class AcpiTable {
    static final StructLayout HEADER = structLayout(
            bytes("signature", 4),
            u32("length"),
            u8("revision"),
            u8("checksum"),
            bytes("oem_id", 6),
            bytes("oem_table_id", 8),
            u32("oem_revision"),
            bytes("creator_id", 4),
            u32("creator_revision")).withName("acpi_table_header");

    static final String OEM_ID = "MACHNA";
    static final String OEM_TABLE_ID = "MACHINA ";
    static final String CREATOR_ID = "MCNA";

    private static final LayoutField LENGTH = LayoutField.of(HEADER, "length");
    private static final LayoutField REVISION = LayoutField.of(HEADER, "revision");
    private static final LayoutField CHECKSUM = LayoutField.of(HEADER, "checksum");
    private static final LayoutField OEM_REVISION = LayoutField.of(HEADER, "oem_revision");
    private static final LayoutField CREATOR_REVISION = LayoutField.of(HEADER, "creator_revision");

    private AcpiTable() {
    }

    /** A table of {@code HEADER} followed by {@code body}, sealed. */
    static MemorySegment of(String signature, int revision, byte[] body) {
        MemorySegment table = MemorySegment.ofArray(new byte[(int) HEADER.byteSize() + body.length]);
        MemorySegment.copy(body, 0, table, ValueLayout.JAVA_BYTE, HEADER.byteSize(), body.length);
        seal(table, signature, revision);
        return table;
    }

    /** Fills in the header of {@code table} (its whole length) and sets the checksum last. */
    static void seal(MemorySegment table, String signature, int revision) {
        putAscii(table, 0, signature, 4);
        LENGTH.set(table, table.byteSize());
        REVISION.set(table, revision);
        putAscii(table, HEADER.byteOffset(groupElement("oem_id")), OEM_ID, 6);
        putAscii(table, HEADER.byteOffset(groupElement("oem_table_id")), OEM_TABLE_ID, 8);
        OEM_REVISION.set(table, 1);
        putAscii(table, HEADER.byteOffset(groupElement("creator_id")), CREATOR_ID, 4);
        CREATOR_REVISION.set(table, 1);
        CHECKSUM.set(table, 0);
        CHECKSUM.set(table, checksum(table));
    }

    /** The byte that makes {@code bytes} sum to zero modulo 256. */
    static int checksum(MemorySegment bytes) {
        int sum = 0;
        for (long i = 0; i < bytes.byteSize(); i++) {
            sum += bytes.get(ValueLayout.JAVA_BYTE, i);
        }
        return -sum & 0xFF;
    }

    static void putAscii(MemorySegment target, long offset, String text, int length) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length != length) {
            throw new IllegalArgumentException('"' + text + "\" is not " + length + " characters");
        }
        MemorySegment.copy(bytes, 0, target, ValueLayout.JAVA_BYTE, offset, length);
    }
}
