# The timers a PC offers a kernel, each left to interrupt the halted vCPU: the local APIC timer
# once in one-shot mode (ONE_SHOT_VECTOR), then periodically (PERIODIC_VECTOR, until three have
# arrived), then the 8254 PIT's channel 0 as a rate generator through the IOAPIC (PIT_VECTOR,
# until three have arrived). Every interrupt taken is reported on the vector port.
.include "test-device.inc"

.equ LAPIC_LVT_TIMER,       0x320
.equ LAPIC_TIMER_INITIAL,   0x380
.equ LAPIC_TIMER_DIVIDE,    0x3E0
.equ DIVIDE_BY_ONE,         0xB
.equ PERIODIC,              1 << 17
.equ MASKED,                1 << 16
.equ TIMER_COUNT,           200000       # 200 µs at the 1 GHz bus clock of the Java CPU, less on KVM
.equ ONE_SHOT_VECTOR,       0x40
.equ PERIODIC_VECTOR,       0x41
.equ PIT_VECTOR,            0x42
.equ PIT_CHANNEL_0,         0x40
.equ PIT_COMMAND,           0x43
.equ PIT_RATE_GENERATOR,    0x34         # channel 0, low then high byte, mode 2
.equ PIT_COUNT,             1193         # 1 ms at 1.193182 MHz

.text
.globl _start
_start:
    mov %rdi, %r15
    call interrupts_init
    READY %r15d
    mov $LAPIC_BASE, %ebx
    movl $DIVIDE_BY_ONE, LAPIC_TIMER_DIVIDE(%rbx)
    movl $ONE_SHOT_VECTOR, LAPIC_LVT_TIMER(%rbx)
    movl $TIMER_COUNT, LAPIC_TIMER_INITIAL(%rbx)
    mov $1, %r14
    call halt_until_taken
    movl $(PERIODIC_VECTOR | PERIODIC), LAPIC_LVT_TIMER(%rbx)
    movl $TIMER_COUNT, LAPIC_TIMER_INITIAL(%rbx)
    mov $4, %r14
    call halt_until_taken
    movl $MASKED, LAPIC_LVT_TIMER(%rbx)
    movl $0, LAPIC_TIMER_INITIAL(%rbx)
    # The PIT's line is ISA IRQ 0: GSI 2 where the MADT overrides it (the Java CPU's chipset), GSI 0
    # where it is wired straight (KVM's default routing). Both lead to PIT_VECTOR.
    mov $IOAPIC_BASE, %eax
    .irp gsi, 0, 2
    movl $(0x11 + 2 * \gsi), (%rax)
    movl $0, IOAPIC_WINDOW(%rax)
    movl $(0x10 + 2 * \gsi), (%rax)
    movl $PIT_VECTOR, IOAPIC_WINDOW(%rax)
    .endr
    mov $PIT_RATE_GENERATOR, %al
    out %al, $PIT_COMMAND
    mov $(PIT_COUNT & 0xFF), %al
    out %al, $PIT_CHANNEL_0
    mov $(PIT_COUNT >> 8), %al
    out %al, $PIT_CHANNEL_0
    # Three of the PIT's own: a periodic tick still in flight as the APIC timer was masked may
    # come too (KVM delivers one now and then), and must not count for one of them.
1:  sti
    hlt
    cli
    cmpq $3, interrupts_by_vector + 8 * PIT_VECTOR(%rip)
    jb 1b
    EXIT

# Halts with interrupts enabled until R14 interrupts have been taken in all.
halt_until_taken:
1:  sti
    hlt
    cli
    cmp %r14, interrupts_taken(%rip)
    jb 1b
    ret
