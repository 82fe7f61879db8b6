# Computes a function of the registers the test wrote and leaves it in registers for the test to
# read back (HypervisorConformanceTest.registersWrittenBeforeTheRunAreReadBackTransformedByTheGuest);
# RFLAGS becomes the entry RFLAGS with CF flipped. Exits with id 0 without touching the flags.
.include "test-device.inc"
.text
.globl _start
_start:
    pushfq
    pop %r11                    # R11 = RFLAGS at entry
    add %rax, %rbx              # RBX = RAX + RBX
    xor %rdx, %rcx              # RCX = RCX ^ RDX
    sub %rdi, %rsi
    mov %rsi, %rdx              # RDX = RSI - RDI
    mov %rbp, %rsi
    rol $7, %rsi                # RSI = RBP rotated left 7
    mov %r8, %rdi
    imul %r9, %rdi              # RDI = R8 * R9
    mov %r10, %rbp
    shr $3, %rbp                # RBP = R10 >> 3 (logical)
    mov %r11, %r8               # R8 = RFLAGS at entry
    mov %r12, %r9
    not %r9                     # R9 = ~R12
    mov %r13, %r10
    or %r14, %r10               # R10 = R13 | R14
    lea 1(%r15), %r12           # R12 = R15 + 1
    xor $1, %r11                # R11 = RFLAGS at entry with CF flipped, and so is RFLAGS
    push %r11
    popfq
    EXIT $0
