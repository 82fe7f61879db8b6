package dev.machina.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The structures of {@code <linux/kvm.h>} (x86-64) that Machina exchanges with KVM, each declared
 * once as a {@link MemoryLayout} with named fields; fields are reached through the VarHandles
 * here, never through offsets written by hand.
 */
final class KvmStructs {
    private KvmStructs() {
    }

    /** The VarHandle of the field at {@code path} (group names) in {@code layout}. */
    static VarHandle field(MemoryLayout layout, String... path) {
        return layout.varHandle(Arrays.stream(path).map(PathElement::groupElement).toArray(PathElement[]::new));
    }

    private static MemoryLayout u64Array(String name, int count) {
        return sequenceLayout(count, JAVA_LONG).withName(name);
    }

    /** {@code struct kvm_userspace_memory_region}. */
    static final class MemoryRegion {
        static final StructLayout LAYOUT = structLayout(
                JAVA_INT.withName("slot"), JAVA_INT.withName("flags"),
                JAVA_LONG.withName("guest_phys_addr"), JAVA_LONG.withName("memory_size"),
                JAVA_LONG.withName("userspace_addr"));
        static final VarHandle SLOT = field(LAYOUT, "slot");
        static final VarHandle GUEST_PHYS_ADDR = field(LAYOUT, "guest_phys_addr");
        static final VarHandle MEMORY_SIZE = field(LAYOUT, "memory_size");
        static final VarHandle USERSPACE_ADDR = field(LAYOUT, "userspace_addr");

        private MemoryRegion() {
        }
    }

    /** {@code struct kvm_regs}: the general registers in KVM's order (not the encoding order). */
    static final class Regs {
        static final StructLayout LAYOUT = structLayout(
                JAVA_LONG.withName("rax"), JAVA_LONG.withName("rbx"), JAVA_LONG.withName("rcx"), JAVA_LONG.withName("rdx"),
                JAVA_LONG.withName("rsi"), JAVA_LONG.withName("rdi"), JAVA_LONG.withName("rsp"), JAVA_LONG.withName("rbp"),
                JAVA_LONG.withName("r8"), JAVA_LONG.withName("r9"), JAVA_LONG.withName("r10"), JAVA_LONG.withName("r11"),
                JAVA_LONG.withName("r12"), JAVA_LONG.withName("r13"), JAVA_LONG.withName("r14"), JAVA_LONG.withName("r15"),
                JAVA_LONG.withName("rip"), JAVA_LONG.withName("rflags"));

        private Regs() {
        }
    }

    /** {@code struct kvm_segment}: a segment register with its hidden part, one byte per attribute. */
    static final class Segment {
        static final StructLayout LAYOUT = structLayout(
                JAVA_LONG.withName("base"), JAVA_INT.withName("limit"), JAVA_SHORT.withName("selector"),
                JAVA_BYTE.withName("type"), JAVA_BYTE.withName("present"), JAVA_BYTE.withName("dpl"),
                JAVA_BYTE.withName("db"), JAVA_BYTE.withName("s"), JAVA_BYTE.withName("l"), JAVA_BYTE.withName("g"),
                JAVA_BYTE.withName("avl"), JAVA_BYTE.withName("unusable"), JAVA_BYTE.withName("padding"));

        private Segment() {
        }
    }

    /** {@code struct kvm_dtable}: GDTR or IDTR. */
    static final class DescriptorTable {
        static final StructLayout LAYOUT = structLayout(
                JAVA_LONG.withName("base"), JAVA_SHORT.withName("limit"), paddingLayout(6));

        private DescriptorTable() {
        }
    }

    /** {@code struct kvm_sregs}. */
    static final class Sregs {
        static final String[] SEGMENTS = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};
        static final StructLayout LAYOUT = structLayout(
                Segment.LAYOUT.withName("cs"), Segment.LAYOUT.withName("ds"), Segment.LAYOUT.withName("es"),
                Segment.LAYOUT.withName("fs"), Segment.LAYOUT.withName("gs"), Segment.LAYOUT.withName("ss"),
                Segment.LAYOUT.withName("tr"), Segment.LAYOUT.withName("ldt"),
                DescriptorTable.LAYOUT.withName("gdt"), DescriptorTable.LAYOUT.withName("idt"),
                JAVA_LONG.withName("cr0"), JAVA_LONG.withName("cr2"), JAVA_LONG.withName("cr3"), JAVA_LONG.withName("cr4"),
                JAVA_LONG.withName("cr8"), JAVA_LONG.withName("efer"), JAVA_LONG.withName("apic_base"),
                u64Array("interrupt_bitmap", 4));

        private Sregs() {
        }
    }

    /** {@code struct kvm_msrs} header; {@code struct kvm_msr_entry} elements follow it. */
    static final class Msrs {
        static final StructLayout HEADER = structLayout(JAVA_INT.withName("nmsrs"), JAVA_INT.withName("pad"));
        static final StructLayout ENTRY = structLayout(
                JAVA_INT.withName("index"), JAVA_INT.withName("reserved"), JAVA_LONG.withName("data"));
        /** A request for one MSR, the only shape Machina uses. */
        static final StructLayout ONE = structLayout(HEADER.withName("header"), ENTRY.withName("entry"));
        static final VarHandle NMSRS = field(ONE, "header", "nmsrs");
        static final VarHandle INDEX = field(ONE, "entry", "index");
        static final VarHandle DATA = field(ONE, "entry", "data");

        private Msrs() {
        }
    }

    /** {@code struct kvm_cpuid2} header; {@code struct kvm_cpuid_entry2} elements follow it. */
    static final class Cpuid {
        /** KVM_MAX_CPUID_ENTRIES. */
        static final int MAX_ENTRIES = 256;
        static final StructLayout HEADER = structLayout(JAVA_INT.withName("nent"), JAVA_INT.withName("padding"));
        static final StructLayout ENTRY = structLayout(
                JAVA_INT.withName("function"), JAVA_INT.withName("index"), JAVA_INT.withName("flags"),
                JAVA_INT.withName("eax"), JAVA_INT.withName("ebx"), JAVA_INT.withName("ecx"), JAVA_INT.withName("edx"),
                sequenceLayout(3, JAVA_INT).withName("padding"));
        static final StructLayout TABLE = structLayout(
                HEADER.withName("header"), sequenceLayout(MAX_ENTRIES, ENTRY).withName("entries"));
        static final VarHandle NENT = field(HEADER, "nent");
        static final VarHandle FUNCTION = field(ENTRY, "function");
        static final VarHandle EBX = field(ENTRY, "ebx");
        static final VarHandle EDX = field(ENTRY, "edx");

        private Cpuid() {
        }
    }

    /** {@code struct kvm_irqfd}. */
    static final class Irqfd {
        static final StructLayout LAYOUT = structLayout(
                JAVA_INT.withName("fd"), JAVA_INT.withName("gsi"), JAVA_INT.withName("flags"),
                JAVA_INT.withName("resamplefd"), paddingLayout(16));
        static final VarHandle FD = field(LAYOUT, "fd");
        static final VarHandle GSI = field(LAYOUT, "gsi");
        static final VarHandle FLAGS = field(LAYOUT, "flags");
        static final VarHandle RESAMPLEFD = field(LAYOUT, "resamplefd");
        static final int DEASSIGN = 1;
        /** The line stays asserted until the guest's EOI, which lowers it and signals {@code resamplefd}. */
        static final int RESAMPLE = 1 << 1;

        private Irqfd() {
        }
    }

    /** {@code struct kvm_ioeventfd}. */
    static final class Ioeventfd {
        static final StructLayout LAYOUT = structLayout(
                JAVA_LONG.withName("datamatch"), JAVA_LONG.withName("addr"), JAVA_INT.withName("len"),
                JAVA_INT.withName("fd"), JAVA_INT.withName("flags"), paddingLayout(36));
        static final VarHandle ADDR = field(LAYOUT, "addr");
        static final VarHandle LEN = field(LAYOUT, "len");
        static final VarHandle FD = field(LAYOUT, "fd");
        static final VarHandle FLAGS = field(LAYOUT, "flags");
        static final int DEASSIGN = 1 << 2;

        private Ioeventfd() {
        }
    }

    /** {@code struct kvm_msi}. */
    static final class Msi {
        static final StructLayout LAYOUT = structLayout(
                JAVA_INT.withName("address_lo"), JAVA_INT.withName("address_hi"), JAVA_INT.withName("data"),
                JAVA_INT.withName("flags"), JAVA_INT.withName("devid"), paddingLayout(12));
        static final VarHandle ADDRESS_LO = field(LAYOUT, "address_lo");
        static final VarHandle ADDRESS_HI = field(LAYOUT, "address_hi");
        static final VarHandle DATA = field(LAYOUT, "data");

        private Msi() {
        }
    }

    /** {@code struct kvm_mp_state}. */
    static final class MpState {
        static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("mp_state"));
        static final VarHandle MP_STATE = field(LAYOUT, "mp_state");
        static final int RUNNABLE = 0;

        private MpState() {
        }
    }

    /** {@code struct kvm_pit_config}. */
    static final class PitConfig {
        static final StructLayout LAYOUT = structLayout(JAVA_INT.withName("flags"), paddingLayout(60));
        static final VarHandle FLAGS = field(LAYOUT, "flags");
        /** The PC speaker port (0x61) is emulated by KVM as a dummy. */
        static final int SPEAKER_DUMMY = 1;

        private PitConfig() {
        }
    }

    /** {@code struct kvm_stats_header}, at the start of a binary statistics file. */
    static final class StatsHeader {
        static final StructLayout LAYOUT = structLayout(
                JAVA_INT.withName("flags"), JAVA_INT.withName("name_size"), JAVA_INT.withName("num_desc"),
                JAVA_INT.withName("id_offset"), JAVA_INT.withName("desc_offset"), JAVA_INT.withName("data_offset"));
        static final VarHandle NAME_SIZE = field(LAYOUT, "name_size");
        static final VarHandle NUM_DESC = field(LAYOUT, "num_desc");
        static final VarHandle DESC_OFFSET = field(LAYOUT, "desc_offset");
        static final VarHandle DATA_OFFSET = field(LAYOUT, "data_offset");

        private StatsHeader() {
        }
    }

    /** {@code struct kvm_stats_desc}; {@code name_size} bytes of NUL-terminated name follow it. */
    static final class StatsDescriptor {
        static final StructLayout LAYOUT = structLayout(
                JAVA_INT.withName("flags"), JAVA_SHORT.withName("exponent"), JAVA_SHORT.withName("size"),
                JAVA_INT.withName("offset"), JAVA_INT.withName("bucket_size"));
        static final VarHandle SIZE = field(LAYOUT, "size");
        static final VarHandle OFFSET = field(LAYOUT, "offset");

        private StatsDescriptor() {
        }
    }

    /**
     * The start of {@code struct kvm_run}, the page KVM shares with each vCPU: the header and the
     * union describing the last exit (the register-sync area after it is not used).
     */
    static final class Run {
        private static final StructLayout IO = structLayout(
                JAVA_BYTE.withName("direction"), JAVA_BYTE.withName("size"), JAVA_SHORT.withName("port"),
                JAVA_INT.withName("count"), JAVA_LONG.withName("data_offset"));
        private static final StructLayout MMIO = structLayout(
                JAVA_LONG.withName("phys_addr"), sequenceLayout(8, JAVA_BYTE).withName("data"),
                JAVA_INT.withName("len"), JAVA_BYTE.withName("is_write"), paddingLayout(3));
        private static final StructLayout FAIL_ENTRY = structLayout(
                JAVA_LONG.withName("hardware_entry_failure_reason"), JAVA_INT.withName("cpu"), paddingLayout(4));
        private static final StructLayout INTERNAL = structLayout(
                JAVA_INT.withName("suberror"), JAVA_INT.withName("ndata"), u64Array("data", 16));
        private static final StructLayout SYSTEM_EVENT = structLayout(
                JAVA_INT.withName("type"), JAVA_INT.withName("ndata"), u64Array("data", 16));
        private static final UnionLayout EXIT = MemoryLayout.unionLayout(
                structLayout(JAVA_LONG.withName("hardware_exit_reason")).withName("hw"),
                FAIL_ENTRY.withName("fail_entry"), IO.withName("io"), MMIO.withName("mmio"),
                INTERNAL.withName("internal"), SYSTEM_EVENT.withName("system_event"),
                paddingLayout(256));

        static final StructLayout LAYOUT = structLayout(
                JAVA_BYTE.withName("request_interrupt_window"), JAVA_BYTE.withName("immediate_exit"), paddingLayout(6),
                JAVA_INT.withName("exit_reason"), JAVA_BYTE.withName("ready_for_interrupt_injection"),
                JAVA_BYTE.withName("if_flag"), JAVA_SHORT.withName("flags"),
                JAVA_LONG.withName("cr8"), JAVA_LONG.withName("apic_base"), EXIT.withName("exit"));

        static final VarHandle IMMEDIATE_EXIT = field(LAYOUT, "immediate_exit");
        static final VarHandle EXIT_REASON = field(LAYOUT, "exit_reason");
        static final VarHandle HARDWARE_EXIT_REASON = field(LAYOUT, "exit", "hw", "hardware_exit_reason");
        static final VarHandle FAIL_ENTRY_REASON = field(LAYOUT, "exit", "fail_entry", "hardware_entry_failure_reason");
        static final VarHandle FAIL_ENTRY_CPU = field(LAYOUT, "exit", "fail_entry", "cpu");
        static final VarHandle IO_DIRECTION = field(LAYOUT, "exit", "io", "direction");
        static final VarHandle IO_SIZE = field(LAYOUT, "exit", "io", "size");
        static final VarHandle IO_PORT = field(LAYOUT, "exit", "io", "port");
        static final VarHandle IO_COUNT = field(LAYOUT, "exit", "io", "count");
        static final VarHandle IO_DATA_OFFSET = field(LAYOUT, "exit", "io", "data_offset");
        static final VarHandle MMIO_PHYS_ADDR = field(LAYOUT, "exit", "mmio", "phys_addr");
        static final long MMIO_DATA = LAYOUT.byteOffset(PathElement.groupElement("exit"),
                PathElement.groupElement("mmio"), PathElement.groupElement("data"));
        static final VarHandle MMIO_LEN = field(LAYOUT, "exit", "mmio", "len");
        static final VarHandle MMIO_IS_WRITE = field(LAYOUT, "exit", "mmio", "is_write");
        static final VarHandle INTERNAL_SUBERROR = field(LAYOUT, "exit", "internal", "suberror");
        static final VarHandle INTERNAL_NDATA = field(LAYOUT, "exit", "internal", "ndata");
        static final VarHandle INTERNAL_DATA = LAYOUT.varHandle(PathElement.groupElement("exit"),
                PathElement.groupElement("internal"), PathElement.groupElement("data"), PathElement.sequenceElement());
        static final VarHandle SYSTEM_EVENT_TYPE = field(LAYOUT, "exit", "system_event", "type");

        private Run() {
        }
    }
}
