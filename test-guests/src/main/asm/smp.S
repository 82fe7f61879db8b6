# Run by every vCPU: reports its id (RDI) and exits.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    mov %r15d, %eax
    out %eax, $PORT_DATA
    EXIT
