# Reports ready, then spins forever with interrupts off.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %edi, %eax
    out %eax, $PORT_READY
    cli
1:  jmp 1b
