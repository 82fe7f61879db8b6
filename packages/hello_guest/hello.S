# hello_guest: a line-echo demo on COM1, entered by the Linux 64-bit boot protocol (RSI, the zero
# page, is ignored). Integer instructions only. Polls the UART: no interrupts, no IDT.
# Typed characters are echoed; Enter ends the line (CR or LF, echoed as CRLF); Backspace or DEL
# erases; 'q' at the start of a line powers off through the ACPI PM1a control register.

    .set COM1,          0x3F8
    .set COM1_LSR,      COM1 + 5
    .set LSR_DATA_READY, 0x01
    .set LSR_THR_EMPTY, 0x20
    .set PM1A_CNT,      0x604
    .set SLP_S5,        (5 << 10) | (1 << 13)    # SLP_TYP = 5 (S5), SLP_EN

    .code64
    .text
    .globl _start
_start:
    lea     stack_top(%rip), %rsp
    lea     banner(%rip), %rsi
    call    puts
new_line:
    lea     prompt(%rip), %rsi
    call    puts
    xor     %r12d, %r12d                # characters on the line
next_key:
    call    getc
    cmp     $'\r', %bl
    je      end_line
    cmp     $'\n', %bl
    je      end_line
    cmp     $0x7F, %bl
    je      erase
    cmp     $0x08, %bl
    je      erase
    cmp     $' ', %bl                   # other control characters are ignored
    jb      next_key
    test    %r12, %r12
    jnz     echo
    cmp     $'q', %bl
    je      power_off
echo:
    call    putc
    inc     %r12
    jmp     next_key
erase:
    test    %r12, %r12
    jz      next_key
    lea     rubout(%rip), %rsi
    call    puts
    dec     %r12
    jmp     next_key
end_line:
    lea     crlf(%rip), %rsi
    call    puts
    jmp     new_line

power_off:
    lea     goodbye(%rip), %rsi
    call    puts
    mov     $PM1A_CNT, %dx
    mov     $SLP_S5, %ax
    out     %ax, %dx
1:  cli                                 # not reached once the VMM powers off
    hlt
    jmp     1b

# Writes %bl once the transmitter holding register is empty.
putc:
    mov     $COM1_LSR, %dx
1:  in      %dx, %al
    test    $LSR_THR_EMPTY, %al
    jz      1b
    mov     $COM1, %dx
    mov     %bl, %al
    out     %al, %dx
    ret

# Writes the NUL-terminated string at %rsi.
puts:
    movzbl  (%rsi), %ebx
    test    %bl, %bl
    jz      1f
    call    putc
    inc     %rsi
    jmp     puts
1:  ret

# Waits for a received byte and returns it in %bl.
getc:
    mov     $COM1_LSR, %dx
1:  in      %dx, %al
    test    $LSR_DATA_READY, %al
    jnz     2f
    pause
    jmp     1b
2:  mov     $COM1, %dx
    in      %dx, %al
    mov     %al, %bl
    ret

    .section .rodata
banner:  .asciz "\r\nHello from a Machina guest! Type a line and press Enter; q at the start of a line powers off.\r\n"
prompt:  .asciz "hello> "
crlf:    .asciz "\r\n"
rubout:  .asciz "\b \b"
goodbye: .asciz "q\r\nPowering off.\r\n"

    .bss
    .balign 16
    .skip   4096
stack_top:
