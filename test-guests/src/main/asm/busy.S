# Takes interrupts while it computes: its own GDT and IDT, reports ready, then loops with
# interrupts enabled, counting iterations at PROGRESS, where the test reads how far it got. Each
# time it sees a new interrupt taken it reports its iteration count; after two it exits. A CPU
# that delivers an interrupt only when the guest stops or halts never gets it there.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    call interrupts_init
    READY %r15d
    xor %ebx, %ebx              # iterations
    xor %r12d, %r12d            # interrupts seen
    xor %edx, %edx
    sti
1:  inc %rbx
    mov %rbx, PROGRESS
    lea (%rbx, %rbx, 2), %rcx   # work the loop does besides counting
    xor %rcx, %rdx
    mov interrupts_taken(%rip), %rax
    cmp %r12, %rax
    je 1b
    mov %rax, %r12
    mov %ebx, %eax
    out %eax, $PORT_DATA
    cmp $2, %r12
    jb 1b
    cli
    EXIT
