package dev.machina.cpu.differential;

import dev.machina.cpu.InstructionRunner;
import dev.machina.cpu.LongModeMachine;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * The Java CPU set up to mirror {@link HostCpu}: in ring 3, with page tables that map the host's
 * code page and data buffer at the host's virtual addresses (code read-only, data not executable)
 * and nothing else, so an access the generator did not mean, which on the host would crash the
 * JVM, faults here first. The host's state page is mapped too, for the FXSAVE image: as on the
 * host, an FXRSTOR64 of it runs just before the instruction and an FXSAVE64 just after, so the
 * x87 and SSE state goes in and out through the Java CPU's own implementation of those two.
 */
final class SimulatedCpu implements AutoCloseable {
    private static final long PML4 = 0x1000;
    private static final long TABLES_END = 0x8000;
    private static final long CODE = 0x8000;
    private static final long STATE = 0x9000;
    /** The length of FXSAVE64 or FXRSTOR64 with a RIP-relative operand: REX.W 0F AE ModRM disp32. */
    private static final int FXSAVE_LENGTH = 8;
    private static final long DATA = 0x10000;
    /** SALC, which 64-bit mode does not have. */
    private static final byte UNDECODABLE = (byte) 0xD6;
    /** Where the translated tier's warm-up keeps RAX: in the state page, past the FXSAVE image. */
    private static final int SCRATCH = 0xF00;
    private static final long PRESENT = 1;
    private static final long WRITABLE = 1 << 1;
    private static final long USER = 1 << 2;
    private static final long NO_EXECUTE = 1L << 63;
    private static final int DPL_3 = 3 << 5;
    /** Ring 3, as the host runs the instruction: POPF may not change IF or IOPL there. */
    private static final SegmentRegisters RING_3 = userSegments();

    /** How a run on the Java CPU ended. */
    sealed interface Outcome {
    }

    record Completed(MachineState state) implements Outcome {
    }

    record Faulted(int vector, int errorCode, long address) implements Outcome {
        @Override
        public String toString() {
            return "exception " + vector + " (error code " + errorCode + ", address 0x" + Long.toHexString(address) + ")";
        }
    }

    private final GuestMemory memory;
    private final InstructionRunner runner;
    private final boolean translated;
    private final byte[] warmUp;
    private final int warmUpInstructions;
    private final long codePage;
    private final long instructionAddress;
    private final long fpuImage;
    private final int dataSize;
    private long nextTable = PML4 + HostCpu.PAGE;

    /**
     * A Java CPU for cases at {@code instructionAddress} with their data buffer; with
     * {@code translated}, each case runs as a region of the translating tier instead of one
     * instruction at a time.
     */
    SimulatedCpu(long instructionAddress, long dataAddress, int dataSize, boolean translated) {
        this.instructionAddress = instructionAddress;
        this.codePage = instructionAddress & -HostCpu.PAGE;
        this.dataSize = dataSize;
        this.fpuImage = codePage + HostCpu.PAGE + HostCpu.FPU_OFFSET;
        memory = GuestMemory.allocate(List.of(new AddressRange(0, DATA + dataSize)));
        LongModeMachine.writeGdt(memory);
        map(codePage, CODE, PRESENT | USER);
        map(codePage + HostCpu.PAGE, STATE, PRESENT | WRITABLE | USER | NO_EXECUTE);
        for (int page = 0; page < dataSize / HostCpu.PAGE; page++) {
            map(dataAddress + (long) page * HostCpu.PAGE, DATA + (long) page * HostCpu.PAGE, PRESENT | WRITABLE | USER | NO_EXECUTE);
        }
        runner = new InstructionRunner(memory);
        this.translated = translated;
        this.warmUp = warmUp(instructionAddress, dataAddress, dataSize);
        this.warmUpInstructions = 2 + 2 * dataSize / HostCpu.PAGE + 2;
        if (translated) {
            runner.translate(1);
        }
    }

    /**
     * Runs {@code code}, placed at the host's instruction address, until execution falls off its
     * end. Translated, a warm-up comes between FXRSTOR and the code: it reads and writes back a
     * quadword of each data page, RAX saved and restored around that (so the TLB holds the pages,
     * and translated code reaches them inline rather than leaving the region at its first access),
     * then jumps, so that the code starts at a branch target, where a region is entered. The
     * region ends before the FXSAVE, which it does not render.
     */
    Outcome run(byte[] code, MachineState initial) {
        long start = instructionAddress - FXSAVE_LENGTH - (translated ? warmUp.length : 0);
        long end = instructionAddress + code.length;
        memory.write(CODE + (start - codePage), fxsave(1, start), 0, FXSAVE_LENGTH);
        if (translated) {
            memory.write(CODE + (start + FXSAVE_LENGTH - codePage), warmUp, 0, warmUp.length);
        }
        memory.write(CODE + (instructionAddress - codePage), code, 0, code.length);
        memory.write(CODE + (end - codePage), fxsave(0, end), 0, FXSAVE_LENGTH);
        // A byte that does not decode ends a translated region where the interpreter stops.
        memory.writeByte(CODE + (end + FXSAVE_LENGTH - codePage), UNDECODABLE);
        memory.write(DATA, initial.memory(), 0, dataSize);
        memory.write(STATE + HostCpu.FPU_OFFSET, initial.fpu(), 0, FpuImage.SIZE);
        runner.forgetCode();
        X86State state = LongModeMachine.longMode(start, initial.register(MachineState.RSP), PML4).withSegments(RING_3);
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            state = state.with(Register.values()[r], initial.register(r));
        }
        state = state.with(Register.RFLAGS, initial.flags());
        long stop = end + FXSAVE_LENGTH;
        InstructionRunner.Outcome outcome = runner.run(state, code.length + 2 + (translated ? warmUpInstructions : 0), stop);
        return switch (outcome) {
            case InstructionRunner.Faulted fault -> new Faulted(fault.vector(), fault.errorCode(), fault.faultAddress());
            case InstructionRunner.Completed done when done.state().get(Register.RIP) != stop ->
                    throw new IllegalStateException("the Java CPU stopped at 0x" + Long.toHexString(done.state().get(Register.RIP))
                            + " after " + done.executed() + " instructions");
            default -> new Completed(finalState(outcome.state()));
        };
    }

    private static SegmentRegisters userSegments() {
        SegmentRegisters kernel = SegmentRegisters.flat64(8);
        Segment code = kernel.cs();
        Segment data = kernel.ds();
        Segment userCode = new Segment(0x2B, code.base(), code.limit(), code.accessRights() | DPL_3);
        Segment userData = new Segment(0x23, data.base(), data.limit(), data.accessRights() | DPL_3);
        return new SegmentRegisters(userCode, userData, userData, userData, userData, userData, kernel.tr(), kernel.ldtr());
    }

    private MachineState finalState(X86State state) {
        long[] registers = new long[MachineState.REGISTERS];
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            registers[r] = state.get(Register.values()[r]);
        }
        byte[] data = new byte[dataSize];
        memory.read(DATA, data, 0, dataSize);
        byte[] fpu = new byte[FpuImage.SIZE];
        memory.read(STATE + HostCpu.FPU_OFFSET, fpu, 0, FpuImage.SIZE);
        return new MachineState(registers, state.get(Register.RFLAGS), data, fpu);
    }

    /**
     * The translated tier's warm-up, to end at {@code instructionAddress}: save RAX, load and
     * store back a quadword of each data page, restore RAX, JMP over a NOP.
     */
    private static byte[] warmUp(long instructionAddress, long dataAddress, int dataSize) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pages = dataSize / HostCpu.PAGE;
        int length = 7 + 16 * pages + 7 + 3;
        long at = instructionAddress - length;
        long scratch = (instructionAddress & -HostCpu.PAGE) + HostCpu.PAGE + SCRATCH;
        ripRelative(out, 0x89, scratch - (at + 7)); // mov [scratch], rax
        for (int page = 0; page < pages; page++) {
            long quadword = dataAddress + (long) page * HostCpu.PAGE;
            absolute(out, 0x8B, quadword); // mov rax, [page]
            absolute(out, 0x89, quadword); // mov [page], rax
        }
        ripRelative(out, 0x8B, scratch - (instructionAddress - 3)); // mov rax, [scratch]
        out.writeBytes(new byte[] {(byte) 0xEB, 0x01, (byte) 0x90}); // jmp over a nop
        return out.toByteArray();
    }

    private static void ripRelative(ByteArrayOutputStream out, int opcode, long displacement) {
        out.writeBytes(new byte[] {0x48, (byte) opcode, 0x05});
        writeInt(out, displacement);
    }

    private static void absolute(ByteArrayOutputStream out, int opcode, long address) {
        out.writeBytes(new byte[] {0x48, (byte) opcode, 0x04, 0x25});
        writeInt(out, address);
    }

    private static void writeInt(ByteArrayOutputStream out, long value) {
        out.writeBytes(new byte[] {(byte) value, (byte) (value >> 8), (byte) (value >> 16), (byte) (value >> 24)});
    }

    /** FXSAVE64 (extension 0) or FXRSTOR64 (1) of the image, placed at {@code address}. */
    private byte[] fxsave(int extension, long address) {
        int displacement = (int) (fpuImage - (address + FXSAVE_LENGTH));
        return new byte[] {0x48, 0x0F, (byte) 0xAE, (byte) (extension << 3 | 5),
                (byte) displacement, (byte) (displacement >> 8), (byte) (displacement >> 16), (byte) (displacement >> 24)};
    }

    /** Maps the 4 KiB page at {@code virtual} to {@code physical}, adding page tables as needed. */
    private void map(long virtual, long physical, long attributes) {
        long table = PML4;
        for (int shift = 39; shift > 12; shift -= 9) {
            long entryAddress = table + ((virtual >>> shift) & 511) * 8;
            long entry = memory.readLong(entryAddress);
            if ((entry & PRESENT) == 0) {
                if (nextTable == TABLES_END) {
                    throw new IllegalStateException("out of page-table pages");
                }
                entry = nextTable | PRESENT | WRITABLE | USER;
                nextTable += HostCpu.PAGE;
                memory.writeLong(entryAddress, entry);
            }
            table = entry & 0x000F_FFFF_FFFF_F000L;
        }
        memory.writeLong(table + ((virtual >>> 12) & 511) * 8, physical | attributes);
    }

    @Override
    public void close() {
        memory.close();
    }
}
