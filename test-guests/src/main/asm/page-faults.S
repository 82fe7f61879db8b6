# Three page faults, each reported by the #PF handler as its error code and CR2 (low, then high
# half) on the data port, after which the faulting instruction is skipped:
#   a read of 4 GiB, which the boot page tables leave unmapped      → error 0 (not present, read)
#   a write there                                                    → error 2 (not present, write)
#   a write to a present 2 MiB page made read-only, with CR0.WP set  → error 3 (present, write)
.include "test-device.inc"

.equ PF_VECTOR,   14
.equ UNMAPPED,    0x100000000
.equ READ_ONLY,   0x600000      # the fourth 2 MiB page: RAM the guest does not otherwise use
.equ PAGE_FRAME,  ~0xFFF
.equ PTE_WRITABLE, 1 << 1
.equ CR0_WP,      1 << 16

.text
.globl _start
_start:
    mov %rdi, %r15
    lea page_fault(%rip), %rax          # the interrupt gate for #PF
    mov %rax, %rdx
    and $0xFFFF, %eax
    shr $16, %rdx
    shl $48, %rdx
    or %rdx, %rax
    movabs $(BOOT_CS << 16) | (0x8E << 40), %rdx
    or %rdx, %rax
    lea idt(%rip), %rdi
    mov %rax, PF_VECTOR * 16(%rdi)
    movq $0, PF_VECTOR * 16 + 8(%rdi)
    lidt idt_pointer(%rip)

    movabs $UNMAPPED, %rbx
    lea 1f(%rip), %r13
    mov (%rbx), %rax
1:  lea 2f(%rip), %r13
    movq $0, (%rbx)
2:
    mov %cr3, %rax                      # PML4[0] → PDPT[0] → the page directory of the first GiB
    and $PAGE_FRAME, %rax
    mov (%rax), %rax
    and $PAGE_FRAME, %rax
    mov (%rax), %rax
    and $PAGE_FRAME, %rax
    andq $~PTE_WRITABLE, (READ_ONLY >> 21) * 8(%rax)
    invlpg READ_ONLY
    mov %cr0, %rax
    or $CR0_WP, %rax
    mov %rax, %cr0
    lea 3f(%rip), %r13
    movq $0, READ_ONLY
3:  EXIT

# Reports the error code and CR2, then returns to the address the code under test left in R13.
page_fault:
    pop %rax
    out %eax, $PORT_DATA
    mov %cr2, %rax
    out %eax, $PORT_DATA
    shr $32, %rax
    out %eax, $PORT_DATA
    mov %r13, (%rsp)
    iretq

.data
    .balign 8
idt_pointer:
    .word (PF_VECTOR + 1) * 16 - 1
    .quad idt

.bss
    .balign 16
idt:
    .skip (PF_VECTOR + 1) * 16
