package dev.machina.hypervisor.x86;

/**
 * The architectural state of an x86-64 vCPU that a VMM reads and writes: general registers,
 * segment registers, control registers and descriptor tables. MSRs are read and written one at a
 * time through the vCPU.
 */
public record X86State(GeneralRegisters general, SegmentRegisters segments, ControlRegisters control,
                       DescriptorTable gdt, DescriptorTable idt) {

    /** The state after RESET, as a secondary CPU waits for INIT/SIPI. */
    public static X86State reset() {
        return new X86State(GeneralRegisters.reset().with(Register.RIP, 0xFFF0), SegmentRegisters.reset(),
                ControlRegisters.reset(), DescriptorTable.empty(), DescriptorTable.empty());
    }

    /**
     * 64-bit mode at {@code rip} with stack {@code rsp}, paging from the tables at {@code cr3},
     * flat segments whose code selector is {@code codeSelector} (data at {@code codeSelector + 8})
     * and the GDT {@code gdt}, which must hold those descriptors if the guest reloads them.
     */
    public static X86State longMode(long rip, long rsp, long cr3, int codeSelector, DescriptorTable gdt) {
        return new X86State(GeneralRegisters.reset().with(Register.RIP, rip).with(Register.RSP, rsp),
                SegmentRegisters.flat64(codeSelector), ControlRegisters.longMode(cr3), gdt, DescriptorTable.empty());
    }

    public X86State withGeneral(GeneralRegisters value) {
        return new X86State(value, segments, control, gdt, idt);
    }

    public X86State withSegments(SegmentRegisters value) {
        return new X86State(general, value, control, gdt, idt);
    }

    public X86State withControl(ControlRegisters value) {
        return new X86State(general, segments, value, gdt, idt);
    }

    public X86State withGdt(DescriptorTable value) {
        return new X86State(general, segments, control, value, idt);
    }

    public X86State withIdt(DescriptorTable value) {
        return new X86State(general, segments, control, gdt, value);
    }

    public X86State with(Register register, long value) {
        return withGeneral(general.with(register, value));
    }

    public long get(Register register) {
        return general.get(register);
    }
}
