package dev.machina.cpu.core;

import dev.machina.cpu.InstructionRunner.Completed;
import dev.machina.cpu.InstructionRunner.Faulted;
import dev.machina.cpu.InstructionRunner.Outcome;
import dev.machina.cpu.InstructionRunner.TripleFaulted;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.Msr;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Exception delivery, SYSCALL/SYSRET and the mode switches, on hand-encoded guests. */
class SystemTest {
    private static final long IDT = 0x700;
    private static final long HANDLER = 0x11000;
    private static final long RESUME_FLAG = 1L << 16;

    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    @Test
    void invalidOpcodeIsDeliveredThroughALongModeGateWithTheFaultingRip() {
        machine.interruptGate(IDT, 6, HANDLER);
        machine.write(HANDLER,
                0x4C, 0x8B, 0x04, 0x24,        // mov r8, [rsp]       (RIP)
                0x4C, 0x8B, 0x4C, 0x24, 0x08,  // mov r9, [rsp+8]     (CS)
                0x4C, 0x8B, 0x54, 0x24, 0x18,  // mov r10, [rsp+24]   (RSP)
                0x4C, 0x8B, 0x5C, 0x24, 0x10); // mov r11, [rsp+16]   (RFLAGS)
        machine.write(LongModeMachine.CODE, 0x0F, 0x0B); // ud2
        X86State start = machine.start().withIdt(new DescriptorTable(IDT, 16 * 32 - 1));
        machine.runner.forgetCode();
        Outcome outcome = machine.runner.runDelivering(start, 100, HANDLER + 19);

        assertThat(outcome).isInstanceOf(Completed.class);
        X86State after = outcome.state();
        assertThat(after.get(Register.R8)).isEqualTo(LongModeMachine.CODE);
        assertThat(after.get(Register.R9)).isEqualTo(8);
        assertThat(after.get(Register.R10)).isEqualTo(LongModeMachine.STACK);
        assertThat(after.get(Register.RSP)).isEqualTo(LongModeMachine.STACK - 40);
        assertThat(after.get(Register.R11) & RESUME_FLAG).as("RF in a fault's frame").isNotZero();
        assertThat(after.get(Register.RFLAGS) & RESUME_FLAG).as("RF in the handler").isZero();
    }

    @Test
    void anExceptionWithNoUsableGateEndsInATripleFault() {
        machine.write(LongModeMachine.CODE, 0x0F, 0x0B);
        X86State start = machine.start().withIdt(new DescriptorTable(IDT, 16 * 32 - 1));
        machine.runner.forgetCode();
        assertThat(machine.runner.runDelivering(start, 100, -1)).isInstanceOf(TripleFaulted.class);
    }

    @Test
    void syscallEntersTheKernelAndSysretReturnsToUserMode() {
        long syscallEntry = 0x12000;
        machine.runner.writeMsr(Msr.STAR, (0x18L << 48) | (0x08L << 32));
        machine.runner.writeMsr(Msr.LSTAR, syscallEntry);
        machine.runner.writeMsr(Msr.SFMASK, 0x200);
        machine.write(syscallEntry,
                0x49, 0x89, 0xCC,        // mov r12, rcx
                0x9C, 0x41, 0x5D,        // pushfq ; pop r13
                0x48, 0x0F, 0x07);       // sysretq
        X86State start = machine.start().with(Register.RFLAGS, 0x202);

        X86State after = machine.completes(start, 0x0F, 0x05); // syscall

        assertThat(after.get(Register.R12)).isEqualTo(LongModeMachine.CODE + 2);
        assertThat(after.get(Register.R13)).as("flags in the kernel, IF masked").isEqualTo(0x2);
        assertThat(after.get(Register.R11)).isEqualTo(0x202);
        assertThat(after.get(Register.RFLAGS)).isEqualTo(0x202);
        assertThat(after.segments().cs().selector()).isEqualTo(0x2B);
        assertThat(after.segments().cs().dpl()).isEqualTo(3);
        assertThat(after.segments().ss().selector()).isEqualTo(0x23);
    }

    /**
     * IRET checks which flags it may restore against the privilege of the code that executes it,
     * not the ring it returns to: a kernel returning to user mode restores IF and IOPL, while user
     * code returning within ring 3 can change neither. (Checking against the new CPL left every
     * interrupted user program running with interrupts off: Linux's timer never preempted it.)
     */
    @Test
    void iretRestoresInterruptFlagAndIoplByTheRingItLeaves() {
        machine.memory.writeLong(LongModeMachine.GDT + 0x20, 0x00CF_F300_0000_FFFFL); // user data, DPL 3
        machine.memory.writeLong(LongModeMachine.GDT + 0x28, 0x00AF_FB00_0000_FFFFL); // user code, 64-bit, DPL 3
        long userCode = LongModeMachine.CODE + 21;
        int[] returnToUser = {
                0x6A, 0x23,                             // push 0x23 (SS)
                0x68, 0x00, 0x70, 0x07, 0x00,           // push 0x77000 (RSP)
                0x68, 0x02, 0x32, 0x00, 0x00,           // push 0x3202 (IF, IOPL 3)
                0x6A, 0x2B,                             // push 0x2B (CS)
                0x68, (int) userCode & 0xFF, (int) (userCode >>> 8) & 0xFF, (int) (userCode >>> 16) & 0xFF, 0x00, // push user RIP
                0x48, 0xCF,                             // iretq
                0x9C, 0x41, 0x5D};                      // (ring 3) pushfq ; pop r13
        X86State kernel = X86State.longMode(LongModeMachine.CODE, LongModeMachine.STACK, LongModeMachine.PML4, 8,
                new DescriptorTable(LongModeMachine.GDT, 0x2F)).with(Register.RFLAGS, 0x2);

        X86State user = machine.completes(kernel, returnToUser);

        assertThat(user.segments().cs().dpl()).isEqualTo(3);
        assertThat(user.get(Register.R13)).as("flags as user code sees them after the kernel's IRET").isEqualTo(0x3202);

        SegmentRegisters ring3 = user.segments();
        int[] iretWithinRing3 = {
                0x6A, 0x23, 0x68, 0x00, 0x70, 0x07, 0x00,
                0x68, 0x02, 0x32, 0x00, 0x00,           // push 0x3202: asks for IF and IOPL 3
                0x6A, 0x2B,
                0x68, (int) userCode & 0xFF, (int) (userCode >>> 8) & 0xFF, (int) (userCode >>> 16) & 0xFF, 0x00,
                0x48, 0xCF, 0x9C, 0x41, 0x5D};
        X86State userWithoutPrivilege = kernel.withSegments(ring3).with(Register.RFLAGS, 0x2);

        X86State after = machine.completes(userWithoutPrivilege, iretWithinRing3);

        assertThat(after.get(Register.R13)).as("ring 3 with IOPL 0 changes neither IF nor IOPL").isEqualTo(0x2);
    }

    @Test
    void theIoPermissionBitmapLetsUserCodeReachTheGrantedPortsOnly() {
        long tss = 0x31000;
        int bitmap = 0x68;
        int limit = bitmap + 0x400 / 8; // the map covers ports 0-0x3FF
        machine.memory.writeShort(tss + 0x66, (short) bitmap);
        for (int b = 0; b < 0x400 / 8; b++) {
            machine.memory.writeByte(tss + bitmap + b, (byte) 0xFF);
        }
        machine.memory.writeByte(tss + bitmap + 0x80 / 8, (byte) 0xFC); // ports 0x80 and 0x81 granted
        SegmentRegisters kernel = machine.start().segments();
        Segment userCode = new Segment(0x2B, 0, kernel.cs().limit(), kernel.cs().accessRights() | 3 << 5);
        Segment userData = new Segment(0x23, 0, kernel.ds().limit(), kernel.ds().accessRights() | 3 << 5);
        X86State user = machine.start().withSegments(new SegmentRegisters(userCode, userData, userData, userData, userData,
                userData, Segment.taskState(0x30, tss, limit), kernel.ldtr()));

        assertThat(machine.run(user.with(Register.RDX, 0x80), 0xE6, 0x80, 0xE4, 0x81, 0x66, 0xEF)) // out 0x80, al; in al, 0x81; out dx, ax
                .as("the granted ports").isInstanceOf(Completed.class);
        assertDenied(machine.run(user, 0xE4, 0x82), "in al, 0x82");
        assertDenied(machine.run(user.with(Register.RDX, 0x7F), 0x66, 0xEF), "out dx, ax to 0x7F-0x80");
        assertDenied(machine.run(user.with(Register.RDX, 0x400), 0xEC), "in al, dx beyond the map");
        assertThat(machine.run(machine.start(), 0xE4, 0x82)).as("ring 0 needs no map").isInstanceOf(Completed.class);
    }

    private static void assertDenied(Outcome outcome, String what) {
        assertThat(outcome).as(what).isInstanceOfSatisfying(Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(13);
            assertThat(fault.errorCode()).isZero();
        });
    }

    @Test
    void swapgsExchangesGsBaseWithKernelGsBase() {
        machine.runner.writeMsr(Msr.KERNEL_GS_BASE, 0x1234_5000L);
        X86State after = machine.completes(machine.start(), 0x0F, 0x01, 0xF8); // swapgs
        assertThat(after.segments().gs().base()).isEqualTo(0x1234_5000L);
        assertThat(machine.runner.readMsr(Msr.KERNEL_GS_BASE)).isZero();
    }

    @Test
    void realModeCodeSwitchesToProtectedAndThenToLongModeAsATrampolineDoes() {
        long gdt = 0x600;
        machine.memory.writeLong(gdt + 8, 0x00CF_9A00_0000_FFFFL);
        machine.memory.writeLong(gdt + 16, 0x00CF_9200_0000_FFFFL);
        machine.memory.writeLong(gdt + 24, 0x00AF_9A00_0000_FFFFL);
        machine.memory.writeShort(0x6F0, (short) 31);
        machine.memory.writeInt(0x6F2, (int) gdt);
        long trampoline = 0x8000;
        machine.write(trampoline,
                0xFA,                                      // 8000 cli
                0x0F, 0x01, 0x16, 0xF0, 0x06,              // 8001 lgdt [0x6F0]
                0x0F, 0x20, 0xC0,                          // 8006 mov eax, cr0
                0x0C, 0x01,                                // 8009 or al, 1
                0x0F, 0x22, 0xC0,                          // 800B mov cr0, eax
                0x66, 0xEA, 0x16, 0x80, 0x00, 0x00, 0x08, 0x00, // 800E jmp dword 0x08:0x8016
                0x66, 0xB8, 0x10, 0x00,                    // 8016 mov ax, 0x10
                0x8E, 0xD8,                                // 801A mov ds, ax
                0x8E, 0xD0,                                // 801C mov ss, ax
                0x0F, 0x20, 0xE0,                          // 801E mov eax, cr4
                0x83, 0xC8, 0x20,                          // 8021 or eax, 0x20 (PAE)
                0x0F, 0x22, 0xE0,                          // 8024 mov cr4, eax
                0xB8, 0x00, 0x10, 0x00, 0x00,              // 8027 mov eax, 0x1000
                0x0F, 0x22, 0xD8,                          // 802C mov cr3, eax
                0xB9, 0x80, 0x00, 0x00, 0xC0,              // 802F mov ecx, EFER
                0x0F, 0x32,                                // 8034 rdmsr
                0x0D, 0x00, 0x01, 0x00, 0x00,              // 8036 or eax, LME
                0x0F, 0x30,                                // 803B wrmsr
                0x0F, 0x20, 0xC0,                          // 803D mov eax, cr0
                0x0D, 0x00, 0x00, 0x00, 0x80,              // 8040 or eax, PG
                0x0F, 0x22, 0xC0,                          // 8045 mov cr0, eax
                0xEA, 0x4F, 0x80, 0x00, 0x00, 0x18, 0x00,  // 8048 jmp 0x18:0x804F
                0x48, 0xB8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11); // 804F mov rax, imm64
        Segment code = Segment.realMode(0, true);
        Segment data = Segment.realMode(0, false);
        SegmentRegisters real = SegmentRegisters.reset();
        real = new SegmentRegisters(code, data, data, data, data, data, real.tr(), real.ldtr());
        X86State start = X86State.reset().withSegments(real).with(Register.RIP, trampoline);
        machine.runner.forgetCode();

        Outcome outcome = machine.runner.run(start, 100, 0x8059);

        assertThat(outcome).isInstanceOf(Completed.class);
        X86State after = outcome.state();
        assertThat(after.get(Register.RIP)).isEqualTo(0x8059);
        assertThat(after.get(Register.RAX)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(after.segments().cs().selector()).isEqualTo(0x18);
        assertThat(after.segments().cs().longMode()).isTrue();
        assertThat(after.segments().ds().selector()).isEqualTo(0x10);
        assertThat(after.control().efer() & (ControlRegisters.EFER_LME | ControlRegisters.EFER_LMA))
                .isEqualTo(ControlRegisters.EFER_LME | ControlRegisters.EFER_LMA);
        assertThat(after.control().cr0() & (ControlRegisters.CR0_PG | ControlRegisters.CR0_PE))
                .isEqualTo(ControlRegisters.CR0_PG | ControlRegisters.CR0_PE);
    }

    @Test
    void cpuidReportsTheVendorAndLongMode() {
        X86State vendor = machine.completes(machine.start(), 0x31, 0xC0, 0x0F, 0xA2); // xor eax,eax ; cpuid
        assertThat(vendor.get(Register.RBX)).isEqualTo(0x756E_6547L); // "Genu"
        assertThat(vendor.get(Register.RDX)).isEqualTo(0x4965_6E69L); // "ineI"
        assertThat(vendor.get(Register.RCX)).isEqualTo(0x6C65_746EL); // "ntel"
        X86State extended = machine.completes(machine.start().with(Register.RAX, 0x8000_0001L), 0x0F, 0xA2);
        assertThat(extended.get(Register.RDX) & (1L << 29)).as("LM").isNotZero();
        assertThat(extended.get(Register.RDX) & (1L << 20)).as("NX").isNotZero();
    }

    @Test
    void rdrandIsAdvertisedAndGivesRandomNumbersOfTheOperandSizeWithOnlyCarrySet() {
        X86State features = machine.completes(machine.start().with(Register.RAX, 1), 0x0F, 0xA2); // cpuid
        assertThat(features.get(Register.RCX) & (1L << 30)).as("RDRAND").isNotZero();
        X86State after = machine.completes(machine.start().with(Register.RCX, -1L),
                0x48, 0x0F, 0xC7, 0xF0,                   // rdrand rax
                0x48, 0x0F, 0xC7, 0xF3,                   // rdrand rbx
                0x31, 0xF6,                               // xor esi, esi (ZF and PF set)
                0x66, 0x0F, 0xC7, 0xF1,                   // rdrand cx
                0x9C, 0x5A);                              // pushfq; pop rdx
        assertThat(after.get(Register.RAX)).as("two 64-bit random numbers").isNotEqualTo(after.get(Register.RBX));
        assertThat(after.get(Register.RCX) >>> 16).as("bits above CX").isEqualTo(0xFFFF_FFFF_FFFFL);
        assertThat(after.get(Register.RDX) & 0x8D5).as("OF, SF, ZF, AF, PF, CF").isEqualTo(1);
    }

    @Test
    void verrAndVerwReportThroughZeroFlagWhetherTheGdtSegmentCouldBeReadOrWritten() {
        X86State after = machine.completes(machine.start(),
                0x66, 0xB8, 0x08, 0x00,       // mov ax, 0x08 (code, readable)
                0x0F, 0x00, 0xE0,             // verr ax
                0x0F, 0x94, 0xC3,             // setz bl
                0x0F, 0x00, 0xE8,             // verw ax
                0x0F, 0x94, 0xC1,             // setz cl
                0x66, 0xB8, 0x10, 0x00,       // mov ax, 0x10 (writable data)
                0x0F, 0x00, 0xE8,             // verw ax
                0x0F, 0x94, 0xC2,             // setz dl
                0x31, 0xC0,                   // xor eax, eax (the null selector)
                0x0F, 0x00, 0xE8,             // verw ax
                0x40, 0x0F, 0x94, 0xC6,       // setz sil
                0x66, 0xB8, 0x30, 0x00,       // mov ax, 0x30 (past the GDT's limit)
                0x0F, 0x00, 0xE0,             // verr ax
                0x40, 0x0F, 0x94, 0xC7);      // setz dil
        assertThat(after.get(Register.RBX) & 0xFF).as("code readable").isEqualTo(1);
        assertThat(after.get(Register.RCX) & 0xFF).as("code writable").isZero();
        assertThat(after.get(Register.RDX) & 0xFF).as("data writable").isEqualTo(1);
        assertThat(after.get(Register.RSI) & 0xFF).as("null selector").isZero();
        assertThat(after.get(Register.RDI) & 0xFF).as("past the limit").isZero();
    }

    @Test
    void larAndLslReadTheAccessRightsAndTheScaledLimit() {
        X86State after = machine.completes(machine.start(),
                0xB9, 0x10, 0x00, 0x00, 0x00, // mov ecx, 0x10
                0x0F, 0x03, 0xC1,             // lsl eax, ecx
                0xB9, 0x08, 0x00, 0x00, 0x00, // mov ecx, 0x08
                0x0F, 0x02, 0xD1);            // lar edx, ecx
        assertThat(after.get(Register.RAX)).as("4 GiB limit, page granular").isEqualTo(0xFFFF_FFFFL);
        // The second doubleword of descriptor 0x00AF_9B00_0000_FFFF without base and limit bits.
        assertThat(after.get(Register.RDX)).isEqualTo(0x00A0_9B00L);
    }

    @Test
    void archCapabilitiesSayTheCoreHasNoSpeculativeSideChannels() {
        X86State leaf7 = machine.completes(machine.start().with(Register.RAX, 7), 0x31, 0xC9, 0x0F, 0xA2); // xor ecx,ecx ; cpuid
        assertThat(leaf7.get(Register.RDX) & (1L << 29)).as("ARCH_CAPABILITIES").isNotZero();
        X86State msr = machine.completes(machine.start().with(Register.RCX, 0x10A), 0x0F, 0x32); // rdmsr
        assertThat(msr.get(Register.RAX) & 1).as("RDCL_NO").isEqualTo(1);
        assertThat(msr.get(Register.RAX) & (1 << 5)).as("MDS_NO").isNotZero();
    }
}
