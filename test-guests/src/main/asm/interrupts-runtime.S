# Interrupt support for the guests that take interrupts: a GDT of their own, an IDT whose every
# vector leads to one handler, a software-enabled local APIC and one IOAPIC route.
.include "test-device.inc"

.text
.globl interrupts_init, interrupts_taken, interrupts_by_vector

# Loads the IDT, enables the local APIC and masks its LINT0 (so an unprogrammed 8259 PIC, which
# KVM wires there as ExtINT, delivers nothing), routes IOAPIC line ROUTED_GSI to ROUTED_VECTOR (edge,
# fixed, APIC id 0), then loads the GDT and its segments. Where there is no APIC or IOAPIC the
# writes go nowhere. Clobbers RAX, RCX, RDX, RSI, RDI.
interrupts_init:
    lea idt(%rip), %rdi
    lea vector_stubs(%rip), %rsi
    xor %ecx, %ecx
1:  mov %rsi, %rax              # gate: offset 15:0, selector, present 64-bit interrupt gate, offset 31:16
    and $0xFFFF, %eax
    mov %rsi, %rdx
    shr $16, %rdx
    shl $48, %rdx
    or %rdx, %rax
    movabs $(BOOT_CS << 16) | (0x8E << 40), %rdx
    or %rdx, %rax
    mov %rax, (%rdi)
    movq $0, 8(%rdi)            # offset 63:32 (the guest lies below 4 GiB)
    add $16, %rdi
    add $16, %rsi
    inc %ecx
    cmp $256, %ecx
    jne 1b
    lidt idt_pointer(%rip)
    mov $(LAPIC_BASE + LAPIC_SVR), %eax
    movl $0x1FF, (%rax)         # APIC software-enabled, spurious vector 0xFF
    mov $(LAPIC_BASE + LAPIC_LVT0), %eax
    movl $0x10000, (%rax)       # LINT0 masked
    mov $IOAPIC_BASE, %eax
    movl $(0x11 + 2 * ROUTED_GSI), (%rax)
    movl $0, IOAPIC_WINDOW(%rax)            # destination APIC id 0
    movl $(0x10 + 2 * ROUTED_GSI), (%rax)
    movl $ROUTED_VECTOR, IOAPIC_WINDOW(%rax) # fixed, physical, edge, active high, unmasked
    lgdt gdt_pointer(%rip)
    mov $BOOT_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    pop %rax                    # reload CS by returning far to the caller
    pushq $BOOT_CS
    push %rax
    lretq

# One 16-byte stub per vector: push the vector, go to the common handler.
    .balign 16
vector_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    pushq $vector
    jmp interrupt_common
    .set vector, vector + 1
    .endr

# Interrupts (vector 32 and up) are reported, counted and acknowledged at the local APIC (a write
# that goes nowhere where there is none); exceptions are reported and end the guest.
interrupt_common:
    push %rax
    mov 8(%rsp), %rax
    cmp $32, %eax
    jb exception
    out %eax, $PORT_VECTOR
    incq interrupts_taken(%rip)
    push %rbx
    lea interrupts_by_vector(%rip), %rbx
    incq (%rbx, %rax, 8)
    pop %rbx
    mov $(LAPIC_BASE + LAPIC_EOI), %eax
    movl $0, (%rax)
    pop %rax
    add $8, %rsp
    iretq
exception:
    out %eax, $PORT_FAULT
    cli
2:  hlt
    jmp 2b

.data
    .balign 8
gdt:
    .quad 0, 0
    .quad 0x00AF9B000000FFFF    # BOOT_CS: 64-bit code
    .quad 0x00CF93000000FFFF    # BOOT_DS: flat data
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .quad gdt
    .balign 8
idt_pointer:
    .word 256 * 16 - 1
    .quad idt

.bss
    .balign 16
idt:
    .skip 256 * 16
interrupts_taken:
    .quad 0
    .balign 8
interrupts_by_vector:
    .skip 256 * 8
