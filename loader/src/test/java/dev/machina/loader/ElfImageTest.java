package dev.machina.loader;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ElfImageTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path directory;

    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(2 * MIB));

    @AfterEach
    void closeMemory() {
        memory.close();
    }

    private static byte[] bytes(int count, int first) {
        byte[] data = new byte[count];
        for (int i = 0; i < count; i++) {
            data[i] = (byte) (first + i);
        }
        return data;
    }

    private void assertRejected(byte[] file, String problem) throws IOException {
        Path path = ElfBuilder.write(directory, file);
        assertThatThrownBy(() -> ElfImage.read(path))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(path + ": ")
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(((ImageException) e).file()).isEqualTo(path));
    }

    private static ElfBuilder oneSegment() {
        return new ElfBuilder().load(0x100000, bytes(16, 1), 16);
    }

    @Test
    void loadsSegmentsAtTheirPhysicalAddressesAndZeroesTheirTails() throws IOException {
        Path path = new ElfBuilder().entry(0x100010)
                .load(0x100000, bytes(32, 1), 0x40)
                .load(0x180000, bytes(8, 100), 8)
                .writeTo(directory);
        memory.fill(0x100000, 0x100, (byte) 0xFF);

        ElfImage image = ElfImage.read(path);
        ElfImage.LoadedImage loaded = image.load(memory);

        assertThat(image.file()).isEqualTo(path);
        assertThat(image.entry()).isEqualTo(0x100010);
        assertThat(loaded).isEqualTo(new ElfImage.LoadedImage(0x100000, 0x180008, 0x100010));
        byte[] first = new byte[0x41];
        memory.read(0x100000, first, 0, first.length);
        assertThat(Arrays.copyOfRange(first, 0, 32)).isEqualTo(bytes(32, 1));
        assertThat(Arrays.copyOfRange(first, 32, 0x40)).containsOnly(0);
        assertThat(first[0x40]).as("the byte after p_memsz is untouched").isEqualTo((byte) 0xFF);
        byte[] second = new byte[8];
        memory.read(0x180000, second, 0, 8);
        assertThat(second).isEqualTo(bytes(8, 100));
    }

    @Test
    void flattensSegmentsIntoOneBlockWithZerosBetweenThem() throws IOException {
        ElfImage image = ElfImage.read(new ElfBuilder()
                .load(0x100000, bytes(4, 1), 0x10)
                .load(0x100020, bytes(4, 50), 0x100)
                .writeTo(directory));

        ElfImage.FlatImage flat = image.flatten();

        assertThat(flat.address()).isEqualTo(0x100000);
        assertThat(flat.endAddress()).as("the second segment's zero-filled tail included").isEqualTo(0x100120);
        assertThat(flat.bytes()).hasSize(0x24);
        assertThat(Arrays.copyOfRange(flat.bytes(), 0, 4)).isEqualTo(bytes(4, 1));
        assertThat(Arrays.copyOfRange(flat.bytes(), 4, 0x20)).containsOnly(0);
        assertThat(Arrays.copyOfRange(flat.bytes(), 0x20, 0x24)).isEqualTo(bytes(4, 50));
    }

    @Test
    void findsTheXenPvhEntryNoteAmongOtherNotes() throws IOException {
        byte[] gnu = ElfBuilder.noteEntry("GNU", 3, bytes(20, 0));
        byte[] xen = ElfBuilder.noteEntry("Xen", 18, ElfBuilder.littleEndianInt(0x1234_5678));
        byte[] notes = new byte[gnu.length + xen.length];
        System.arraycopy(gnu, 0, notes, 0, gnu.length);
        System.arraycopy(xen, 0, notes, gnu.length, xen.length);

        ElfImage image = ElfImage.read(oneSegment().note(notes).writeTo(directory));

        assertThat(image.pvhEntry()).hasValue(0x1234_5678L);
    }

    @Test
    void hasNoPvhEntryWithoutTheXenNote() throws IOException {
        byte[] other = ElfBuilder.noteEntry("Xen", 17, ElfBuilder.littleEndianInt(7));
        assertThat(ElfImage.read(oneSegment().note(other).writeTo(directory)).pvhEntry()).isEmpty();
        assertThat(ElfImage.read(oneSegment().writeTo(directory)).pvhEntry()).isEmpty();
    }

    @Test
    void rejectsATruncatedNote() throws IOException {
        byte[] note = ElfBuilder.noteEntry("Xen", 18, ElfBuilder.littleEndianInt(1));
        assertRejected(oneSegment().note(Arrays.copyOf(note, note.length - 4)).build(), "truncated ELF note");
    }

    @Test
    void rejectsAMissingFile() {
        Path path = directory.resolve("absent.elf");
        assertThatThrownBy(() -> ElfImage.read(path))
                .isInstanceOf(ImageException.class)
                .hasMessage(path + ": no such file");
    }

    @Test
    void rejectsATruncatedHeader() throws IOException {
        assertRejected(Arrays.copyOf(oneSegment().build(), 40), "truncated ELF header (40 bytes, need 64)");
    }

    @Test
    void rejectsBadMagic() throws IOException {
        byte[] file = oneSegment().build();
        file[1] = 'X';
        assertRejected(file, "not an ELF file (bad magic)");
    }

    @Test
    void rejectsA32BitElf() throws IOException {
        assertRejected(oneSegment().elfClass(1).build(), "not a 64-bit ELF (class 1)");
    }

    @Test
    void rejectsABigEndianElf() throws IOException {
        assertRejected(oneSegment().dataEncoding(2).build(), "not a little-endian ELF");
    }

    @Test
    void rejectsAnotherMachine() throws IOException {
        assertRejected(oneSegment().machine(3).build(), "not an x86-64 ELF (machine 3)");
    }

    @Test
    void rejectsASharedObject() throws IOException {
        assertRejected(oneSegment().type(3).build(), "not an executable ELF (type 3, expected ET_EXEC)");
    }

    @Test
    void rejectsTruncatedProgramHeaders() throws IOException {
        byte[] file = oneSegment().load(0x200000, new byte[0], 0).build();
        assertRejected(Arrays.copyOf(file, ElfBuilder.HEADER_SIZE + ElfBuilder.PROGRAM_HEADER_SIZE + 10), "truncated program headers");
    }

    @Test
    void rejectsASegmentPastTheEndOfTheFile() throws IOException {
        assertRejected(new ElfBuilder().loadAt(0x100000, 0x10000, bytes(16, 0)).build(),
                "PT_LOAD segment 0 at file offset 0x10000 (0x10 bytes) lies outside the file");
    }

    @Test
    void rejectsAnImageWithoutLoadableSegments() throws IOException {
        assertRejected(new ElfBuilder().build(), "no PT_LOAD segment");
    }

    @Test
    void refusesAnImageLargerThanRamWithoutWritingAnything() throws IOException {
        Path path = new ElfBuilder()
                .load(0x100000, bytes(16, 1), 16)
                .load(0x1F0000, bytes(16, 1), 0x20000)
                .writeTo(directory);
        ElfImage image = ElfImage.read(path);

        assertThatThrownBy(() -> image.load(memory))
                .isInstanceOf(ImageException.class)
                .hasMessage(path + ": PT_LOAD segment 1 at 0x1f0000..0x210000 does not fit in 2 MiB of guest memory");
        byte[] first = new byte[16];
        memory.read(0x100000, first, 0, 16);
        assertThat(first).as("the segment that fits was not written either").containsOnly(0);
    }
}
