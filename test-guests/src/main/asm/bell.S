# Rings doorbell 2 of the BELL trap, then counts while polling the ack port until the test's bell
# handler acknowledges; reports the count. The count grows only if the vCPU runs on after the
# write while the doorbell is being delivered.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    mov $BELL_BASE, %ebx
    xor %ecx, %ecx
    movl $1, 8(%rbx)
1:  inc %ecx
    in $PORT_ACK, %eax
    test %eax, %eax
    jz 1b
    mov %ecx, %eax
    out %eax, $PORT_DATA
    EXIT
