# Reports ready, then halts forever with interrupts off: only stopping the vCPU ends it.
.include "test-device.inc"
.text
.globl _start
_start:
    READY
    cli
1:  hlt
    jmp 1b
