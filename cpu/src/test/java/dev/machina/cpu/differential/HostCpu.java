package dev.machina.cpu.differential;

import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Runs one instruction on the host processor, in user mode, through {@code java.lang.foreign}.
 *
 * <p>One anonymous mapping below 2 GiB (so that 32-bit addresses and absolute disp32
 * operands reach it) holds a code page, a state page and the data buffer. The code page is
 * rewritten for every case as a stub: save the callee-saved registers and the host's RSP, load
 * RFLAGS and all sixteen general registers from the state page, execute the instruction, store
 * them back and return. Around that the stub FXSAVEs the JVM's x87 and SSE state, FXRSTORs the
 * case's image, and after the instruction FXSAVEs the result and FXRSTORs the JVM's again (its
 * control words are callee-saved in the ABI). The stub reaches the state page RIP-relative, so no register is kept
 * back from the instruction: RSP included, which the generator points into the buffer for stack
 * instructions.
 *
 * <p>A faulting instruction would take the JVM down (the signal arrives in code HotSpot does not
 * know); the caller runs each case on the Java CPU first, whose page tables map only the same
 * code page and buffer, and runs it here only if it completed there.
 */
final class HostCpu implements AutoCloseable {
    static final int PAGE = 4096;

    /** Map exactly there, or fail if something is already there (Linux 4.17 and later). */
    private static final int MAP_FIXED_NOREPLACE = 0x10_0000;
    /**
     * Where the mapping goes, the first of these that is free, so that a seed replays with the same
     * addresses; all below 2 GiB, where 32-bit displacements reach. MAP_32BIT's own window (1 to 2
     * GiB) is not enough: the JVM may reserve its randomly placed class space there, whole.
     */
    private static final long[] CANDIDATE_ADDRESSES = {0x5000_0000L, 0x1000_0000L, 0x2000_0000L, 0x3000_0000L, 0x6000_0000L, 0x7000_0000L};
    private static final int RSP = 4;
    private static final int FLAGS_OFFSET = MachineState.REGISTERS * 8;
    private static final int HOST_RSP_OFFSET = FLAGS_OFFSET + 8;
    /** The case's FXSAVE image in the state page, 16-byte aligned as FXSAVE demands. */
    static final int FPU_OFFSET = 1024;
    private static final int HOST_FPU_OFFSET = FPU_OFFSET + FpuImage.SIZE;
    private static final int FXSAVE = 0;
    private static final int FXRSTOR = 1;
    private static final int[] CALLEE_SAVED = {3, 5, 12, 13, 14, 15};
    private static final ValueLayout.OfLong REGISTER = JAVA_LONG.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final MethodHandle MPROTECT = Posix.errnoCall("mprotect", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle MMAP = Posix.errnoCall("mmap", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment code;
    private final MemorySegment state;
    private final MemorySegment data;
    private final MethodHandle stub;
    private final byte[] prologue;

    /** Whether this host can run the stub: Linux on x86-64. */
    static boolean supported() {
        String arch = System.getProperty("os.arch", "");
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    /** Maps {@code length} bytes at the first free candidate address. */
    private static long mapBelowTwoGib(long length) {
        PosixException last = null;
        for (long candidate : CANDIDATE_ADDRESSES) {
            try {
                return Posix.checked("mmap", () -> (long) MMAP.invokeExact(Posix.errnoCapture(), candidate, length,
                        Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0L));
            } catch (PosixException taken) {
                last = taken;
            }
        }
        throw last;
    }

    HostCpu(int dataSize) {
        long length = 2 * PAGE + dataSize;
        long address = mapBelowTwoGib(length);
        MemorySegment mapping = MemorySegment.ofAddress(address).reinterpret(length, arena, Posix::munmap);
        if (address + length > Integer.MAX_VALUE) {
            arena.close();
            throw new IllegalStateException("mmap gave 0x" + Long.toHexString(address) + ", not below 2 GiB");
        }
        code = mapping.asSlice(0, PAGE);
        state = mapping.asSlice(PAGE, PAGE);
        data = mapping.asSlice(2 * PAGE, dataSize);
        stub = Linker.nativeLinker().downcallHandle(code, FunctionDescriptor.ofVoid());
        prologue = new Stub(0).prologue();
    }

    /** Where the instruction under test starts. */
    long instructionAddress() {
        return code.address() + prologue.length;
    }

    long dataAddress() {
        return data.address();
    }

    /** Executes {@code instruction} (one or more instructions that fall through) from {@code initial}. */
    MachineState run(byte[] instruction, MachineState initial) {
        protect(Posix.PROT_READ | Posix.PROT_WRITE);
        byte[] epilogue = new Stub(prologue.length + instruction.length).epilogue();
        MemorySegment.copy(MemorySegment.ofArray(prologue), 0, code, 0, prologue.length);
        MemorySegment.copy(MemorySegment.ofArray(instruction), 0, code, prologue.length, instruction.length);
        MemorySegment.copy(MemorySegment.ofArray(epilogue), 0, code, prologue.length + instruction.length, epilogue.length);
        protect(Posix.PROT_READ | Posix.PROT_EXEC);
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            state.set(REGISTER, r * 8L, initial.register(r));
        }
        state.set(REGISTER, FLAGS_OFFSET, initial.flags());
        MemorySegment.copy(MemorySegment.ofArray(initial.fpu()), 0, state, FPU_OFFSET, FpuImage.SIZE);
        MemorySegment.copy(MemorySegment.ofArray(initial.memory()), 0, data, 0, initial.memory().length);
        try {
            stub.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("the stub could not be called", t);
        }
        long[] registers = new long[MachineState.REGISTERS];
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            registers[r] = state.get(REGISTER, r * 8L);
        }
        return new MachineState(registers, state.get(REGISTER, FLAGS_OFFSET), data.toArray(ValueLayout.JAVA_BYTE),
                state.asSlice(FPU_OFFSET, FpuImage.SIZE).toArray(ValueLayout.JAVA_BYTE));
    }

    private void protect(int protection) {
        Posix.checked("mprotect", () -> (int) MPROTECT.invokeExact(Posix.errnoCapture(), code, code.byteSize(), protection));
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Emits the stub's code from offset {@code start} of the code page; the state page follows
     * the code page, so its slots are at fixed distances from RIP.
     */
    private static final class Stub {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final int start;

        Stub(int start) {
            this.start = start;
        }

        /** The System V entry: no arguments, the state is found RIP-relative. */
        byte[] prologue() {
            for (int r : CALLEE_SAVED) {
                rex(false, 0, r);
                out.write(0x50 + (r & 7));
            }
            ripRelative(RSP, HOST_RSP_OFFSET, true, 0x89); // mov [host rsp], rsp
            ripRelative(FXSAVE, HOST_FPU_OFFSET, true, 0x0F, 0xAE); // fxsave64 [host fpu]
            ripRelative(FXRSTOR, FPU_OFFSET, true, 0x0F, 0xAE); // fxrstor64 [fpu]
            ripRelative(6, FLAGS_OFFSET, false, 0xFF); // push qword [flags]
            out.write(0x9D); // popfq
            for (int r = 0; r < MachineState.REGISTERS; r++) {
                ripRelative(r, r * 8, true, 0x8B); // mov r, [slot r]; nothing uses the stack after popfq
            }
            return out.toByteArray();
        }

        byte[] epilogue() {
            for (int r = 0; r < MachineState.REGISTERS; r++) {
                ripRelative(r, r * 8, true, 0x89); // mov [slot r], r: MOV leaves the flags alone
            }
            ripRelative(FXSAVE, FPU_OFFSET, true, 0x0F, 0xAE); // fxsave64 [fpu]
            ripRelative(FXRSTOR, HOST_FPU_OFFSET, true, 0x0F, 0xAE); // fxrstor64 [host fpu]
            ripRelative(RSP, HOST_RSP_OFFSET, true, 0x8B); // mov rsp, [host rsp]
            out.write(0x9C); // pushfq
            ripRelative(0, FLAGS_OFFSET, false, 0x8F); // pop qword [flags]
            // push 2 ; popfq: the ABI wants DF clear, and a set AC would fault the JVM's unaligned accesses.
            out.writeBytes(new byte[] {0x6A, 0x02, (byte) 0x9D});
            for (int i = CALLEE_SAVED.length - 1; i >= 0; i--) {
                int r = CALLEE_SAVED[i];
                rex(false, 0, r);
                out.write(0x58 + (r & 7));
            }
            out.write(0xC3);
            return out.toByteArray();
        }

        /** {@code opcode} with ModRM.reg {@code reg} and a RIP-relative operand at {@code offset} of the state page. */
        private void ripRelative(int reg, int offset, boolean wide, int... opcode) {
            rex(wide, reg, 0);
            for (int b : opcode) {
                out.write(b);
            }
            out.write((reg & 7) << 3 | 5);
            int next = start + out.size() + 4;
            int displacement = PAGE + offset - next;
            for (int i = 0; i < 4; i++) {
                out.write(displacement >>> (8 * i));
            }
        }

        private void rex(boolean wide, int reg, int rm) {
            int rex = 0x40 | (wide ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
            if (rex != 0x40) {
                out.write(rex);
            }
        }
    }
}
