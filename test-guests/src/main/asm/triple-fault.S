# Loads an empty IDT and executes UD2: #UD cannot be delivered, nor the #GP and #DF that follow,
# so the processor shuts down (a triple fault).
.include "test-device.inc"
.text
.globl _start
_start:
    lidt empty_idt(%rip)
    ud2

.data
empty_idt:
    .word 0
    .quad 0
