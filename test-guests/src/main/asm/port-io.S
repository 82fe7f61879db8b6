# Port I/O of every size, in both the immediate and the DX forms: reports three known values, then
# reads the test's input three times and echoes a transformation of each.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    mov $0x5A, %al
    out %al, $PORT_DATA
    mov $0x1234, %ax
    out %ax, $PORT_DATA
    mov $0xDEADBEEF, %eax
    out %eax, $PORT_DATA

    in $PORT_DATA, %eax
    lea 1(%rax,%rax,2), %eax    # input * 3 + 1
    out %eax, $PORT_DATA

    mov $PORT_DATA, %dx
    in (%dx), %ax
    not %ax
    out %ax, (%dx)
    in (%dx), %al
    inc %al
    out %al, (%dx)
    EXIT
