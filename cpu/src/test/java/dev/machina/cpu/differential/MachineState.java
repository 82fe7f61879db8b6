package dev.machina.cpu.differential;

import java.util.HexFormat;

/**
 * What an instruction under test starts from or ends with, the same for the host and the Java CPU:
 * the sixteen general registers in encoding order, RFLAGS, the contents of the data buffer and
 * the x87, MMX and SSE state as the 512-byte FXSAVE image ({@link FpuImage}), which both sides
 * load with FXRSTOR before the instruction and store with FXSAVE after it.
 */
record MachineState(long[] registers, long flags, byte[] memory, byte[] fpu) {
    static final int REGISTERS = 16;
    static final int RSP = 4;
    static final long TF = 1 << 8;
    static final long IF = 1 << 9;
    static final long DF = 1 << 10;

    private static final String[] NAMES = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

    MachineState {
        if (registers.length != REGISTERS) {
            throw new IllegalArgumentException("expected 16 registers, got " + registers.length);
        }
        if (fpu.length != FpuImage.SIZE) {
            throw new IllegalArgumentException("expected a " + FpuImage.SIZE + "-byte FXSAVE image, got " + fpu.length);
        }
    }

    static String name(int register) {
        return NAMES[register];
    }

    long register(int number) {
        return registers[number];
    }

    /** The registers and flags on one line, the data buffer left out. */
    String registersText() {
        StringBuilder text = new StringBuilder();
        for (int r = 0; r < REGISTERS; r++) {
            text.append(NAMES[r]).append('=').append(Long.toHexString(registers[r])).append(' ');
        }
        return text.append("rflags=").append(Long.toHexString(flags)).toString();
    }

    /** Up to {@code length} bytes of the data buffer from {@code offset}, in hex. */
    String memoryText(int offset, int length) {
        int from = Math.max(0, offset);
        int to = Math.min(memory.length, offset + length);
        return HexFormat.ofDelimiter(" ").formatHex(memory, from, to);
    }
}
