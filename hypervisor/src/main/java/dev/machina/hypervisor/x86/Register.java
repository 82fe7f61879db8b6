package dev.machina.hypervisor.x86;

/** The x86-64 general-purpose registers, the instruction pointer and the flags, in encoding order. */
public enum Register {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS
}
