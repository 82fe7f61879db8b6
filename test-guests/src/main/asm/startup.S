# Run by vCPU 0 only; vCPU 1 waits, as a PC's application processors do, for INIT and a startup IPI.
# vCPU 0 copies a real-mode trampoline to TRAMPOLINE and sends vCPU 1 INIT and then SIPI with the
# trampoline's page as the vector; vCPU 1 then starts in real mode at TRAMPOLINE, reports
# STARTED (a 16-bit write) and exits.
.include "test-device.inc"

.equ LAPIC_ICR_LOW,   0x300
.equ LAPIC_ICR_HIGH,  0x310
.equ ICR_INIT,        0x4500     # INIT, level assert
.equ ICR_STARTUP,     0x4600     # startup IPI; the vector is the start page
.equ TRAMPOLINE,      0x8000
.equ STARTED,         0x5150

.text
.globl _start
_start:
    mov %rdi, %r15
    mov $LAPIC_BASE, %ebx
    movl $0x1FF, LAPIC_SVR(%rbx)
    lea trampoline(%rip), %rsi
    mov $TRAMPOLINE, %edi
    mov $(trampoline_end - trampoline), %ecx
    rep movsb
    movl $(1 << 24), LAPIC_ICR_HIGH(%rbx)
    movl $ICR_INIT, LAPIC_ICR_LOW(%rbx)
    movl $(1 << 24), LAPIC_ICR_HIGH(%rbx)
    movl $(ICR_STARTUP | TRAMPOLINE >> 12), LAPIC_ICR_LOW(%rbx)
    EXIT

    .code16
trampoline:
    mov $STARTED, %ax
    out %ax, $PORT_DATA
    mov $1, %eax
    out %eax, $PORT_EXIT
    cli
1:  hlt
    jmp 1b
trampoline_end:
    .code64
