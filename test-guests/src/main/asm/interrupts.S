# Loads its own GDT and IDT, reports ready, then halts with interrupts enabled. Each time HLT
# returns it reports how many interrupts it has taken (the handler reports each vector), so a
# vCPU that does not stay halted shows; it exits once the count reaches RSI (at least one).
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    mov %rsi, %r14
    test %r14, %r14
    jnz 1f
    inc %r14
1:  call interrupts_init
    READY %r15d
2:  sti
    hlt
    cli
    mov interrupts_taken(%rip), %rax
    out %eax, $PORT_DATA
    cmp %r14, %rax
    jb 2b
    EXIT
