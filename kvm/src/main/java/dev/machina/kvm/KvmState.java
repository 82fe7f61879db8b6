package dev.machina.kvm;

import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.kvm.KvmStructs.MpState;
import dev.machina.kvm.KvmStructs.Msrs;
import dev.machina.kvm.KvmStructs.Regs;
import dev.machina.kvm.KvmStructs.Sregs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Locale;

import static dev.machina.kvm.KvmStructs.field;

/**
 * A KVM vCPU's architectural state as {@link X86State}: {@code kvm_regs} and {@code kvm_sregs}
 * translated field by field, and MSRs one at a time through {@code kvm_msrs}.
 */
final class KvmState {
    private static final Register[] REGISTERS = Register.values();
    private static final VarHandle[] REGISTER_FIELDS = new VarHandle[REGISTERS.length];

    static {
        for (Register register : REGISTERS) {
            REGISTER_FIELDS[register.ordinal()] = field(Regs.LAYOUT, register.name().toLowerCase(Locale.ROOT));
        }
    }

    /** A kvm_segment attribute byte and where it sits in {@link Segment}'s access-rights word. */
    private record Attribute(VarHandle field, int shift, int width) {
        Attribute(String name, int shift, int width) {
            this(KvmStructs.field(KvmStructs.Segment.LAYOUT, name), shift, width);
        }

        int fromAccessRights(int accessRights) {
            return (accessRights >>> shift) & ((1 << width) - 1);
        }
    }

    private static final Attribute[] ATTRIBUTES = {
            new Attribute("type", 0, 4), new Attribute("s", 4, 1), new Attribute("dpl", 5, 2),
            new Attribute("present", 7, 1), new Attribute("avl", 12, 1), new Attribute("l", 13, 1),
            new Attribute("db", 14, 1), new Attribute("g", 15, 1), new Attribute("unusable", 16, 1)};
    private static final VarHandle SEGMENT_BASE = field(KvmStructs.Segment.LAYOUT, "base");
    private static final VarHandle SEGMENT_LIMIT = field(KvmStructs.Segment.LAYOUT, "limit");
    private static final VarHandle SEGMENT_SELECTOR = field(KvmStructs.Segment.LAYOUT, "selector");
    private static final VarHandle TABLE_BASE = field(KvmStructs.DescriptorTable.LAYOUT, "base");
    private static final VarHandle TABLE_LIMIT = field(KvmStructs.DescriptorTable.LAYOUT, "limit");
    private static final VarHandle CR0 = field(Sregs.LAYOUT, "cr0");
    private static final VarHandle CR2 = field(Sregs.LAYOUT, "cr2");
    private static final VarHandle CR3 = field(Sregs.LAYOUT, "cr3");
    private static final VarHandle CR4 = field(Sregs.LAYOUT, "cr4");
    private static final VarHandle CR8 = field(Sregs.LAYOUT, "cr8");
    private static final VarHandle EFER = field(Sregs.LAYOUT, "efer");

    private KvmState() {
    }

    static X86State read(int vcpuFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(Regs.LAYOUT);
            MemorySegment sregs = arena.allocate(Sregs.LAYOUT);
            KvmIoctls.GET_REGS.call(vcpuFd, regs);
            KvmIoctls.GET_SREGS.call(vcpuFd, sregs);
            long[] values = new long[REGISTERS.length];
            for (Register register : REGISTERS) {
                values[register.ordinal()] = (long) REGISTER_FIELDS[register.ordinal()].get(regs, 0L);
            }
            Segment[] segments = new Segment[Sregs.SEGMENTS.length];
            for (int i = 0; i < segments.length; i++) {
                segments[i] = readSegment(member(sregs, Sregs.SEGMENTS[i]));
            }
            return new X86State(GeneralRegisters.of(values),
                    new SegmentRegisters(segments[0], segments[1], segments[2], segments[3], segments[4], segments[5], segments[6], segments[7]),
                    new ControlRegisters((long) CR0.get(sregs, 0L), (long) CR2.get(sregs, 0L), (long) CR3.get(sregs, 0L),
                            (long) CR4.get(sregs, 0L), (long) CR8.get(sregs, 0L), (long) EFER.get(sregs, 0L)),
                    readTable(member(sregs, "gdt")), readTable(member(sregs, "idt")));
        }
    }

    /**
     * Writes {@code state} and makes the vCPU runnable, so a secondary vCPU stops waiting for
     * INIT/SIPI. The APIC base and pending-interrupt bitmap KVM holds are kept as they are.
     */
    static void write(int vcpuFd, X86State state) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(Sregs.LAYOUT);
            KvmIoctls.GET_SREGS.call(vcpuFd, sregs);
            SegmentRegisters segments = state.segments();
            Segment[] values = {segments.cs(), segments.ds(), segments.es(), segments.fs(), segments.gs(), segments.ss(), segments.tr(), segments.ldtr()};
            for (int i = 0; i < values.length; i++) {
                writeSegment(member(sregs, Sregs.SEGMENTS[i]), values[i]);
            }
            writeTable(member(sregs, "gdt"), state.gdt());
            writeTable(member(sregs, "idt"), state.idt());
            ControlRegisters control = state.control();
            CR0.set(sregs, 0L, control.cr0());
            CR2.set(sregs, 0L, control.cr2());
            CR3.set(sregs, 0L, control.cr3());
            CR4.set(sregs, 0L, control.cr4());
            CR8.set(sregs, 0L, control.cr8());
            EFER.set(sregs, 0L, control.efer());
            KvmIoctls.SET_SREGS.call(vcpuFd, sregs);

            MemorySegment regs = arena.allocate(Regs.LAYOUT);
            for (Register register : REGISTERS) {
                REGISTER_FIELDS[register.ordinal()].set(regs, 0L, state.get(register));
            }
            KvmIoctls.SET_REGS.call(vcpuFd, regs);

            MemorySegment mpState = arena.allocate(MpState.LAYOUT);
            MpState.MP_STATE.set(mpState, 0L, MpState.RUNNABLE);
            KvmIoctls.SET_MP_STATE.call(vcpuFd, mpState);
        }
    }

    static long readMsr(int vcpuFd, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msrs = oneMsr(arena, index);
            requireOne(KvmIoctls.GET_MSRS.call(vcpuFd, msrs), "read", index);
            return (long) Msrs.DATA.get(msrs, 0L);
        }
    }

    static void writeMsr(int vcpuFd, int index, long value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msrs = oneMsr(arena, index);
            Msrs.DATA.set(msrs, 0L, value);
            requireOne(KvmIoctls.SET_MSRS.call(vcpuFd, msrs), "write", index);
        }
    }

    private static MemorySegment oneMsr(Arena arena, int index) {
        MemorySegment msrs = arena.allocate(Msrs.ONE);
        Msrs.NMSRS.set(msrs, 0L, 1);
        Msrs.INDEX.set(msrs, 0L, index);
        return msrs;
    }

    /** KVM_GET/SET_MSRS answer how many MSRs they processed: 0 means KVM refused this one. */
    private static void requireOne(int processed, String verb, int index) {
        if (processed != 1) {
            throw new HypervisorException("KVM could not " + verb + " MSR 0x" + Integer.toHexString(index));
        }
    }

    private static MemorySegment member(MemorySegment sregs, String name) {
        long offset = Sregs.LAYOUT.byteOffset(PathElement.groupElement(name));
        return sregs.asSlice(offset, Sregs.LAYOUT.select(PathElement.groupElement(name)).byteSize());
    }

    private static Segment readSegment(MemorySegment kvm) {
        int accessRights = 0;
        for (Attribute attribute : ATTRIBUTES) {
            accessRights |= ((byte) attribute.field.get(kvm, 0L) & ((1 << attribute.width) - 1)) << attribute.shift;
        }
        return new Segment(Short.toUnsignedInt((short) SEGMENT_SELECTOR.get(kvm, 0L)), (long) SEGMENT_BASE.get(kvm, 0L),
                (int) SEGMENT_LIMIT.get(kvm, 0L), accessRights);
    }

    private static void writeSegment(MemorySegment kvm, Segment segment) {
        SEGMENT_BASE.set(kvm, 0L, segment.base());
        SEGMENT_LIMIT.set(kvm, 0L, segment.limit());
        SEGMENT_SELECTOR.set(kvm, 0L, (short) segment.selector());
        for (Attribute attribute : ATTRIBUTES) {
            attribute.field.set(kvm, 0L, (byte) attribute.fromAccessRights(segment.accessRights()));
        }
    }

    private static DescriptorTable readTable(MemorySegment kvm) {
        return new DescriptorTable((long) TABLE_BASE.get(kvm, 0L), Short.toUnsignedInt((short) TABLE_LIMIT.get(kvm, 0L)));
    }

    private static void writeTable(MemorySegment kvm, DescriptorTable table) {
        TABLE_BASE.set(kvm, 0L, table.base());
        TABLE_LIMIT.set(kvm, 0L, (short) table.limit());
    }
}
