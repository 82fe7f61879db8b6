package dev.machina.cpu.differential;

import dev.machina.hypervisor.os.Posix;

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
 * <p>One anonymous mapping below 2 GiB (MAP_32BIT, so 32-bit addresses and absolute disp32
 * operands reach it) holds a code page followed by the data buffer. The code page is rewritten
 * for every case as a stub: save the callee-saved registers, load RFLAGS and every general
 * register but RSP from a state block, execute the instruction, store them back and return. RSP
 * stays the host stack, so instructions under test must neither read nor write it.
 *
 * <p>A faulting instruction would take the JVM down (the signal arrives in code HotSpot does not
 * know); the caller runs each case on the Java CPU first, whose page tables map only the same
 * code page and buffer, and runs it here only if it completed there.
 */
final class HostCpu implements AutoCloseable {
    static final int PAGE = 4096;

    private static final int MAP_32BIT = 0x40;
    private static final int RAX = 0;
    private static final int RSP = 4;
    private static final int RDI = 7;
    private static final int FLAGS_OFFSET = MachineState.REGISTERS * 8;
    private static final int[] CALLEE_SAVED = {3, 5, 12, 13, 14, 15};
    private static final ValueLayout.OfLong REGISTER = JAVA_LONG.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final MethodHandle MPROTECT = Posix.errnoCall("mprotect", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);

    private static final byte[] PROLOGUE = prologue();
    private static final byte[] EPILOGUE = epilogue();

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment mapping;
    private final MemorySegment code;
    private final MemorySegment data;
    private final MemorySegment stateBlock;
    private final MethodHandle stub;

    /** Whether this host can run the stub: Linux on x86-64. */
    static boolean supported() {
        String arch = System.getProperty("os.arch", "");
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    HostCpu(int dataSize) {
        long length = PAGE + dataSize;
        MemorySegment raw = Posix.mmap(length, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        mapping = raw.reinterpret(length, arena, Posix::munmap);
        code = mapping.asSlice(0, PAGE);
        data = mapping.asSlice(PAGE, dataSize);
        stateBlock = arena.allocate(FLAGS_OFFSET + 8, 8);
        stub = Linker.nativeLinker().downcallHandle(code, FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** Where the instruction under test starts. */
    long instructionAddress() {
        return code.address() + PROLOGUE.length;
    }

    long dataAddress() {
        return data.address();
    }

    /** The most instruction bytes the code page takes after the stub's own. */
    static int maximumInstructionLength() {
        return PAGE - PROLOGUE.length - EPILOGUE.length;
    }

    /** Executes {@code instruction} (one or more instructions that fall through) from {@code initial}. */
    MachineState run(byte[] instruction, MachineState initial) {
        protect(Posix.PROT_READ | Posix.PROT_WRITE);
        MemorySegment.copy(MemorySegment.ofArray(PROLOGUE), 0, code, 0, PROLOGUE.length);
        MemorySegment.copy(MemorySegment.ofArray(instruction), 0, code, PROLOGUE.length, instruction.length);
        MemorySegment.copy(MemorySegment.ofArray(EPILOGUE), 0, code, PROLOGUE.length + instruction.length, EPILOGUE.length);
        protect(Posix.PROT_READ | Posix.PROT_EXEC);
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            stateBlock.set(REGISTER, r * 8L, initial.register(r));
        }
        stateBlock.set(REGISTER, FLAGS_OFFSET, initial.flags());
        MemorySegment.copy(MemorySegment.ofArray(initial.memory()), 0, data, 0, initial.memory().length);
        try {
            stub.invokeExact(stateBlock);
        } catch (Throwable t) {
            throw new AssertionError("the stub could not be called", t);
        }
        long[] registers = new long[MachineState.REGISTERS];
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            registers[r] = r == RSP ? initial.register(r) : stateBlock.get(REGISTER, r * 8L);
        }
        return new MachineState(registers, stateBlock.get(REGISTER, FLAGS_OFFSET), data.toArray(ValueLayout.JAVA_BYTE));
    }

    private void protect(int protection) {
        Posix.checked("mprotect", () -> (int) MPROTECT.invokeExact(Posix.errnoCapture(), code, code.byteSize(), protection));
    }

    @Override
    public void close() {
        arena.close();
    }

    /** The System V entry: the state block's address arrives in RDI. */
    private static byte[] prologue() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r : CALLEE_SAVED) {
            emitRex(out, false, 0, r);
            out.write(0x50 + (r & 7));
        }
        out.write(0x57); // push rdi: the state block, found again after the instruction
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xB7}); // push qword [rdi + FLAGS_OFFSET]
        emitInt(out, FLAGS_OFFSET);
        out.write(0x9D); // popfq
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            if (r != RSP && r != RDI) {
                emitMove(out, 0x8B, r, RDI);
            }
        }
        emitMove(out, 0x8B, RDI, RDI);
        return out.toByteArray();
    }

    private static byte[] epilogue() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x9C); // pushfq first: nothing below may run before the flags are safe
        out.write(0x50); // push rax
        out.writeBytes(new byte[] {0x48, (byte) 0x8B, 0x44, 0x24, 0x10}); // mov rax, [rsp + 16]: the state block
        for (int r = 1; r < MachineState.REGISTERS; r++) {
            if (r != RSP) {
                emitMove(out, 0x89, r, RAX);
            }
        }
        out.writeBytes(new byte[] {(byte) 0x8F, 0x00}); // pop qword [rax]: the instruction's RAX
        out.writeBytes(new byte[] {(byte) 0x8F, (byte) 0x80}); // pop qword [rax + FLAGS_OFFSET]
        emitInt(out, FLAGS_OFFSET);
        out.write(0x58); // pop rax: drops the state block's address
        out.write(0xFC); // cld: the ABI wants DF clear on return
        for (int i = CALLEE_SAVED.length - 1; i >= 0; i--) {
            int r = CALLEE_SAVED[i];
            emitRex(out, false, 0, r);
            out.write(0x58 + (r & 7));
        }
        out.write(0xC3);
        return out.toByteArray();
    }

    /** {@code mov reg, [base + 8*reg]} (8B) or {@code mov [base + 8*reg], reg} (89), 64-bit. */
    private static void emitMove(ByteArrayOutputStream out, int opcode, int register, int base) {
        emitRex(out, true, register, base);
        out.write(opcode);
        out.write(0x40 | (register & 7) << 3 | base);
        out.write(register * 8);
    }

    private static void emitRex(ByteArrayOutputStream out, boolean wide, int reg, int rm) {
        int rex = 0x40 | (wide ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
        if (rex != 0x40) {
            out.write(rex);
        }
    }

    private static void emitInt(ByteArrayOutputStream out, int value) {
        for (int i = 0; i < 4; i++) {
            out.write(value >>> (8 * i));
        }
    }
}
