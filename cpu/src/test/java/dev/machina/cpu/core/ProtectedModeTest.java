package dev.machina.cpu.core;

import dev.machina.cpu.InstructionRunner.Completed;
import dev.machina.cpu.InstructionRunner.Outcome;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** 32-bit protected mode as the PVH entry leaves it: paging turned on both ways, and an interrupt gate. */
class ProtectedModeTest {
    private static final long GDT = 0x600;
    private static final long IDT = 0x700;
    private static final long CODE = LongModeMachine.CODE;

    private final LongModeMachine machine = new LongModeMachine();

    @AfterEach
    void close() {
        machine.close();
    }

    private X86State flat32() {
        machine.memory.writeLong(GDT + 8, 0x00CF_9A00_0000_FFFFL);
        machine.memory.writeLong(GDT + 16, 0x00CF_9200_0000_FFFFL);
        GeneralRegisters registers = GeneralRegisters.reset().with(Register.RIP, CODE).with(Register.RSP, LongModeMachine.STACK);
        return new X86State(registers, SegmentRegisters.flat32(8), ControlRegisters.protectedMode(),
                new DescriptorTable(GDT, 23), new DescriptorTable(IDT, 0x31 * 8 - 1));
    }

    private static final int[] ENABLE_PAGING_AND_READ = {
        0x0F, 0x20, 0xC0,                   // mov eax, cr0
        0x0D, 0x00, 0x00, 0x00, 0x80,       // or eax, PG
        0x0F, 0x22, 0xC0,                   // mov cr0, eax
        0x8B, 0x1D, 0x10, 0x50, 0x40, 0x00, // mov ebx, [0x405010]
    };

    private static int[] concat(int[] first, int[] second) {
        int[] all = new int[first.length + second.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    @Test
    void twoLevelPagingWithAFourMegabytePageForTheCode() {
        machine.memory.writeInt(0x20000, 0x83);              // 4 MiB page at 0 (PSE)
        machine.memory.writeInt(0x20004, 0x21000 | 0x3);     // 0x400000.. through a page table
        machine.memory.writeInt(0x21000 + 5 * 4, 0x5000 | 0x3);
        machine.memory.writeInt(0x5010, 0xCAFE_BABE);
        int[] setup = {
            0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x10, 0x0F, 0x22, 0xE0, // cr4 |= PSE
            0xB8, 0x00, 0x00, 0x02, 0x00, 0x0F, 0x22, 0xD8,       // cr3 = 0x20000
        };
        X86State after = machine.completes(flat32(), concat(setup, ENABLE_PAGING_AND_READ));
        assertThat(after.get(Register.RBX)).isEqualTo(0xCAFE_BABEL);
    }

    @Test
    void paePagingWithATwoMegabytePageForTheCode() {
        machine.memory.writeLong(0x20000, 0x21000 | 0x1);     // PDPTE 0
        machine.memory.writeLong(0x21000, 0x83);              // 2 MiB page at 0
        machine.memory.writeLong(0x21000 + 2 * 8, 0x22000 | 0x3);
        machine.memory.writeLong(0x22000 + 5 * 8, 0x5000 | 0x3);
        machine.memory.writeInt(0x5010, 0x1234_5678);
        int[] setup = {
            0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xE0, // cr4 |= PAE
            0xB8, 0x00, 0x00, 0x02, 0x00, 0x0F, 0x22, 0xD8,       // cr3 = 0x20000
        };
        X86State after = machine.completes(flat32(), concat(setup, ENABLE_PAGING_AND_READ));
        assertThat(after.get(Register.RBX)).isEqualTo(0x1234_5678L);
    }

    @Test
    void softwareInterruptThroughA32BitInterruptGatePushesEflagsCsEip() {
        long handler = 0x11000;
        long gate = (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((handler >>> 16) & 0xFFFF) << 48;
        machine.memory.writeLong(IDT + 0x30 * 8, gate);
        int[] handlerCode = {0x8B, 0x34, 0x24, 0x8B, 0x7C, 0x24, 0x04}; // mov esi, [esp] ; mov edi, [esp+4]
        for (int i = 0; i < handlerCode.length; i++) {
            machine.memory.writeByte(handler + i, (byte) handlerCode[i]);
        }
        machine.memory.writeByte(CODE, (byte) 0xCD);
        machine.memory.writeByte(CODE + 1, (byte) 0x30);
        machine.runner.forgetCode();
        X86State start = flat32().with(Register.RFLAGS, 0x202);

        Outcome outcome = machine.runner.runDelivering(start, 10, handler + handlerCode.length);

        assertThat(outcome).isInstanceOf(Completed.class);
        X86State after = outcome.state();
        assertThat(after.get(Register.RSI)).isEqualTo(CODE + 2);
        assertThat(after.get(Register.RDI)).isEqualTo(8);
        assertThat(after.get(Register.RSP)).isEqualTo(LongModeMachine.STACK - 12);
        assertThat(after.get(Register.RFLAGS) & 0x200).as("IF cleared by the interrupt gate").isZero();
    }
}
