# Reports ready, then spins forever with interrupts off.
.include "test-device.inc"
.text
.globl _start
_start:
    READY
    cli
1:  jmp 1b
