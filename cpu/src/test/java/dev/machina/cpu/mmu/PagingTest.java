package dev.machina.cpu.mmu;

import dev.machina.cpu.InstructionRunner.Faulted;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 4-level paging with a 4 KiB page table under the test machine's 2 MiB identity map: linear
 * 0x200000 maps to physical 0x5000 (writable), 0x201000 to 0x6000 (read-only), 0x202000 is absent.
 */
class PagingTest {
    private static final long PAGE_TABLE = 0x4000;
    private static final long ACCESSED = 1 << 5;
    private static final long DIRTY = 1 << 6;

    private final LongModeMachine machine = new LongModeMachine();

    @BeforeEach
    void mapFourKilobytePages() {
        machine.memory.writeLong(0x3008, PAGE_TABLE | 0x7);
        machine.memory.writeLong(PAGE_TABLE, 0x5000 | 0x7);
        machine.memory.writeLong(PAGE_TABLE + 8, 0x6000 | 0x5);
        machine.memory.writeLong(0x5008, 0xABCDEF);
    }

    @AfterEach
    void close() {
        machine.close();
    }

    @Test
    void aReadTranslatesThroughThePageTableAndSetsOnlyTheAccessedBit() {
        // mov rax, [0x200008]
        X86State after = machine.completes(machine.start(), 0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00);
        assertThat(after.get(Register.RAX)).isEqualTo(0xABCDEF);
        assertThat(machine.memory.readLong(PAGE_TABLE) & (ACCESSED | DIRTY)).isEqualTo(ACCESSED);
    }

    @Test
    void aWriteSetsTheDirtyBit() {
        // mov [0x200010], rbx
        machine.completes(machine.start().with(Register.RBX, 0x55), 0x48, 0x89, 0x1C, 0x25, 0x10, 0x00, 0x20, 0x00);
        assertThat(machine.memory.readLong(0x5010)).isEqualTo(0x55);
        assertThat(machine.memory.readLong(PAGE_TABLE) & (ACCESSED | DIRTY)).isEqualTo(ACCESSED | DIRTY);
    }

    @Test
    void aWriteToAReadOnlyPageFaultsWithPresentAndWriteBitsUnderWriteProtect() {
        // mov [0x201000], rbx
        var outcome = machine.run(machine.start(), 0x48, 0x89, 0x1C, 0x25, 0x00, 0x10, 0x20, 0x00);
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(14);
            assertThat(fault.errorCode()).isEqualTo(0b011);
            assertThat(fault.faultAddress()).isEqualTo(0x201000);
        });
    }

    @Test
    void aReadOfAnAbsentPageFaultsWithErrorCodeZero() {
        // mov rax, [0x202000]
        var outcome = machine.run(machine.start(), 0x48, 0x8B, 0x04, 0x25, 0x00, 0x20, 0x20, 0x00);
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, fault -> {
            assertThat(fault.errorCode()).isZero();
            assertThat(fault.faultAddress()).isEqualTo(0x202000);
        });
    }

    @Test
    void invlpgMakesAChangedMappingVisible() {
        machine.memory.writeLong(0x7008, 0x77);
        X86State start = machine.start().with(Register.RBX, 0x7000 | 0x7);
        X86State after = machine.completes(start,
                0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00,  // mov rax, [0x200008]
                0x48, 0x89, 0x1C, 0x25, 0x00, 0x40, 0x00, 0x00,  // mov [0x4000], rbx: remap to 0x7000
                0x0F, 0x01, 0x3C, 0x25, 0x08, 0x00, 0x20, 0x00,  // invlpg [0x200008]
                0x48, 0x8B, 0x0C, 0x25, 0x08, 0x00, 0x20, 0x00); // mov rcx, [0x200008]
        assertThat(after.get(Register.RAX)).isEqualTo(0xABCDEF);
        assertThat(after.get(Register.RCX)).isEqualTo(0x77);
    }

    @Test
    void userCodeCannotReadASupervisorPage() {
        machine.memory.writeLong(PAGE_TABLE, 0x5000 | 0x3);
        X86State user = machine.start();
        user = user.withSegments(new SegmentRegisters(
                new Segment(0x2B, 0, 0xFFFF_FFFF, user.segments().cs().accessRights() | (3 << 5)),
                user.segments().ds(), user.segments().es(), user.segments().fs(), user.segments().gs(),
                new Segment(0x23, 0, 0xFFFF_FFFF, user.segments().ss().accessRights() | (3 << 5)),
                user.segments().tr(), user.segments().ldtr()));
        var outcome = machine.run(user, 0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00);
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(14);
            assertThat(fault.errorCode()).isEqualTo(0b101);
        });
    }

    @Test
    void aOneGigabytePageMapsThroughThePageDirectoryPointerEntry() {
        long pdpte = 0x2000 + 8; // the second gigabyte of linear addresses
        machine.memory.writeLong(pdpte, 0x0 | 0x80 | 0x7); // PS: 1 GiB at physical 0
        machine.memory.writeLong(0x40008, 0x1234);
        X86State after = machine.completes(machine.start().with(Register.RBX, 0x99),
                0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x04, 0x40,  // mov rax, [0x40040008]
                0x48, 0x89, 0x1C, 0x25, 0x10, 0x00, 0x04, 0x40); // mov [0x40040010], rbx
        assertThat(after.get(Register.RAX)).isEqualTo(0x1234);
        assertThat(machine.memory.readLong(0x40010)).isEqualTo(0x99);
        assertThat(machine.memory.readLong(pdpte) & (ACCESSED | DIRTY)).isEqualTo(ACCESSED | DIRTY);
    }

    @Test
    void reservedBitsInAPresentEntryFaultWithTheReservedBit() {
        machine.memory.writeLong(PAGE_TABLE, 0x5000 | 1L << 45 | 0x7); // an address bit above MAXPHYADDR (40)
        assertReservedFault(machine.run(machine.start(), 0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00)); // mov rax, [0x200008]
        machine.memory.writeLong(PAGE_TABLE, 0x5000 | 1L << 40 | 0x7); // the lowest of them
        assertReservedFault(machine.run(machine.start(), 0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00));

        machine.memory.writeLong(0x3008, 0x20_2000 | 0x80 | 0x7); // a 2 MiB page with address bit 13 set (bit 12 would be PAT)
        assertReservedFault(machine.run(machine.start(), 0x48, 0x8B, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00));
    }

    private static void assertReservedFault(dev.machina.cpu.InstructionRunner.Outcome outcome) {
        assertThat(outcome).isInstanceOfSatisfying(Faulted.class, fault -> {
            assertThat(fault.vector()).isEqualTo(14);
            assertThat(fault.errorCode()).as("present, reserved bit").isEqualTo(0b1001);
            assertThat(fault.faultAddress()).isEqualTo(0x200008);
        });
    }
}
