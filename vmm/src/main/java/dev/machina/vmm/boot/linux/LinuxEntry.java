package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;

/**
 * How the boot vCPU enters a loaded Linux kernel. Both entries use Linux's boot selectors: flat
 * code at {@link #CODE_SELECTOR}, flat data at {@code CODE_SELECTOR + 8}; the GDT the caller passes
 * must hold those descriptors (64-bit code for {@link LongMode}, 32-bit code for {@link Pvh}).
 */
public sealed interface LinuxEntry {
    /** {@code __BOOT_CS}: Linux's boot code selector; {@code __BOOT_DS} follows at 0x18. */
    int CODE_SELECTOR = 0x10;

    /**
     * The 64-bit boot protocol: long mode with identity-mapping page tables, RSI = the zero page.
     *
     * @param rip      {@code startup_64}
     * @param zeroPage the guest address of {@code struct boot_params}
     */
    record LongMode(long rip, long zeroPage) implements LinuxEntry {
        /** The vCPU state, given the identity page tables at {@code cr3} and the boot GDT. */
        public X86State state(long cr3, DescriptorTable gdt) {
            return X86State.longMode(rip, 0, cr3, CODE_SELECTOR, gdt).with(Register.RSI, zeroPage);
        }
    }

    /**
     * The PVH entry: flat 32-bit protected mode, paging off, EBX = the start info.
     *
     * @param eip       the kernel's XEN_ELFNOTE_PHYS32_ENTRY
     * @param startInfo the guest address of {@code struct hvm_start_info}
     */
    record Pvh(long eip, long startInfo) implements LinuxEntry {
        /** The vCPU state, given the boot GDT. */
        public X86State state(DescriptorTable gdt) {
            GeneralRegisters registers = GeneralRegisters.reset().with(Register.RIP, eip).with(Register.RBX, startInfo);
            return new X86State(registers, SegmentRegisters.flat32(CODE_SELECTOR), ControlRegisters.protectedMode(),
                    gdt, DescriptorTable.empty());
        }
    }
}
