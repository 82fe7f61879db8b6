# MMIO of every size to a MEM trap: writes known values, then reads the test's values and writes
# back a transformation of each next to where it read.
.include "test-device.inc"
.text
.globl _start
_start:
    mov %rdi, %r15
    mov $MMIO_BASE, %ebx
    movb $0x11, 0x00(%rbx)
    movw $0x2233, 0x08(%rbx)
    movl $0x44556677, 0x10(%rbx)
    movabs $0x8899AABBCCDDEEFF, %rax
    mov %rax, 0x18(%rbx)

    mov 0x20(%rbx), %rax
    not %rax
    mov %rax, 0x28(%rbx)
    mov 0x30(%rbx), %eax
    inc %eax
    mov %eax, 0x34(%rbx)
    movzwl 0x40(%rbx), %eax
    not %ax
    mov %ax, 0x42(%rbx)
    movzbl 0x48(%rbx), %eax
    inc %al
    mov %al, 0x49(%rbx)
    EXIT
