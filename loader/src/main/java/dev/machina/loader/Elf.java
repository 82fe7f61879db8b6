package dev.machina.loader;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** The ELF64 structures the loader reads (System V gABI), little-endian, declared once. */
final class Elf {
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong XWORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final StructLayout HEADER = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, ValueLayout.JAVA_BYTE).withName("e_ident"),
            HALF.withName("e_type"),
            HALF.withName("e_machine"),
            WORD.withName("e_version"),
            XWORD.withName("e_entry"),
            XWORD.withName("e_phoff"),
            XWORD.withName("e_shoff"),
            WORD.withName("e_flags"),
            HALF.withName("e_ehsize"),
            HALF.withName("e_phentsize"),
            HALF.withName("e_phnum"),
            HALF.withName("e_shentsize"),
            HALF.withName("e_shnum"),
            HALF.withName("e_shstrndx"));

    static final StructLayout PROGRAM_HEADER = MemoryLayout.structLayout(
            WORD.withName("p_type"),
            WORD.withName("p_flags"),
            XWORD.withName("p_offset"),
            XWORD.withName("p_vaddr"),
            XWORD.withName("p_paddr"),
            XWORD.withName("p_filesz"),
            XWORD.withName("p_memsz"),
            XWORD.withName("p_align"));

    static final StructLayout SECTION_HEADER = MemoryLayout.structLayout(
            WORD.withName("sh_name"),
            WORD.withName("sh_type"),
            XWORD.withName("sh_flags"),
            XWORD.withName("sh_addr"),
            XWORD.withName("sh_offset"),
            XWORD.withName("sh_size"),
            WORD.withName("sh_link"),
            WORD.withName("sh_info"),
            XWORD.withName("sh_addralign"),
            XWORD.withName("sh_entsize"));

    static final StructLayout NOTE_HEADER = MemoryLayout.structLayout(
            WORD.withName("n_namesz"),
            WORD.withName("n_descsz"),
            WORD.withName("n_type"));

    static final VarHandle E_TYPE = field(HEADER, "e_type");
    static final VarHandle E_MACHINE = field(HEADER, "e_machine");
    static final VarHandle E_ENTRY = field(HEADER, "e_entry");
    static final VarHandle E_PHOFF = field(HEADER, "e_phoff");
    static final VarHandle E_PHENTSIZE = field(HEADER, "e_phentsize");
    static final VarHandle E_PHNUM = field(HEADER, "e_phnum");

    static final VarHandle E_SHOFF = field(HEADER, "e_shoff");
    static final VarHandle E_SHENTSIZE = field(HEADER, "e_shentsize");
    static final VarHandle E_SHNUM = field(HEADER, "e_shnum");
    static final VarHandle E_SHSTRNDX = field(HEADER, "e_shstrndx");

    static final VarHandle SH_NAME = field(SECTION_HEADER, "sh_name");
    static final VarHandle SH_OFFSET = field(SECTION_HEADER, "sh_offset");
    static final VarHandle SH_SIZE = field(SECTION_HEADER, "sh_size");

    static final VarHandle P_TYPE = field(PROGRAM_HEADER, "p_type");
    static final VarHandle P_OFFSET = field(PROGRAM_HEADER, "p_offset");
    static final VarHandle P_PADDR = field(PROGRAM_HEADER, "p_paddr");
    static final VarHandle P_FILESZ = field(PROGRAM_HEADER, "p_filesz");
    static final VarHandle P_MEMSZ = field(PROGRAM_HEADER, "p_memsz");

    static final VarHandle N_NAMESZ = field(NOTE_HEADER, "n_namesz");
    static final VarHandle N_DESCSZ = field(NOTE_HEADER, "n_descsz");
    static final VarHandle N_TYPE = field(NOTE_HEADER, "n_type");

    /** e_ident: the magic, then EI_CLASS, EI_DATA. */
    static final byte[] MAGIC = {0x7F, 'E', 'L', 'F'};
    static final int EI_CLASS = 4;
    static final int EI_DATA = 5;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int ET_EXEC = 2;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;

    /** The note Xen's PVH boot protocol reads the 32-bit entry point from. */
    static final String XEN_NOTE_NAME = "Xen";
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    private Elf() {
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(PathElement.groupElement(name));
    }
}
