# zircon_guest: a kernel entered by Zircon's x86-64 boot protocol, which checks what it was given.
# The VMM loads it at 1 MiB from its ZBI and enters it in 64-bit mode with RSI = the data ZBI. It
# finds the UART its KERNEL_DRIVER item names, then checks the data ZBI (where it lies, its
# container header, every item's header and CRC32) and prints each item in the form the VMM lists
# what it passed (dev.machina.loader.zbi.ZbiItem.describe), so the two can be compared line for
# line; checks the items (the command line ends with its NUL, the memory map is sorted and holds
# this kernel and the data ZBI, the RSDP is the one a scan of the BIOS area finds, the UART
# answers on its ports); reads the ACPI tables through the RSDP (checksums, XSDT, FADT, DSDT and
# its \_S5 object). Each check prints "zircon_guest: ok: ..." or "zircon_guest: FAILED: ...".
# If all passed it prints "zircon_guest: every check passed" and powers off through the FADT's
# PM1a control block with \_S5's sleep type; otherwise it prints how many failed and resets the
# machine through the FADT's reset register, so that the launch ends with another status.
# Integer instructions only; no interrupts, no IDT; polls the UART.

    .set DEFAULT_UART,      0x3F8
    .set LSR,               5
    .set SCRATCH,           7
    .set LSR_THR_EMPTY,     0x20

    .set ZBI_HEADER,        32
    .set TYPE_CONTAINER,    0x544F4F42
    .set CONTAINER_MAGIC,   0x868CF7E6
    .set ITEM_MAGIC,        0xB5781729
    .set FLAGS_VERSION,     0x00010000
    .set FLAGS_CRC32,       0x00020000
    .set NO_CRC32,          0x4A87E8D6
    .set TYPE_CMDLINE,      0x4C444D43
    .set TYPE_E820,         0x30323845
    .set TYPE_RSDP,         0x50445352
    .set TYPE_DRIVER,       0x5652444B
    .set KDRV_I8250_PIO,    0x30353238
    .set E820_ENTRY,        20
    .set E820_RAM,          1
    .set KERNEL_LOAD,       0x100000

    .set SLP_EN,            1 << 13

# Reports a check whose outcome is condition \cond of the flags just set: ok or FAILED, then \text.
.macro CHECK cond, text
    set\cond %al
    movzbl  %al, %eax
    lea     .Lcheck\@(%rip), %rdi
    call    check
    .pushsection .rodata
.Lcheck\@: .asciz "\text"
    .popsection
.endm

# Prints the NUL-terminated \text.
.macro PRINT text
    push    %rsi
    lea     .Lprint\@(%rip), %rsi
    call    puts
    pop     %rsi
    .pushsection .rodata
.Lprint\@: .asciz "\text"
    .popsection
.endm

    .code64
    .text
    .globl _start
_start:
    lea     stack_top(%rip), %rsp
    mov     %rsi, data_zbi(%rip)
    movw    $DEFAULT_UART, uart(%rip)
    call    find_uart
    PRINT   "zircon_guest: entered at 1 MiB, data ZBI at "
    mov     data_zbi(%rip), %rax
    call    put_hex
    call    newline
    call    check_placement
    call    check_container
    jnz     finish                      # nothing more to read without a container
    call    check_items
    call    check_acpi
finish:
    mov     failures(%rip), %rax
    test    %rax, %rax
    jnz     failed
    PRINT   "zircon_guest: every check passed ("
    mov     checks(%rip), %rax
    call    put_decimal
    PRINT   " checks); powering off\r\n"
    mov     pm1a_control(%rip), %edx
    test    %edx, %edx
    jz      triple_fault
    movzwl  slp_typ(%rip), %eax
    shl     $10, %eax
    or      $SLP_EN, %eax
    out     %ax, %dx
    jmp     halt
failed:
    PRINT   "zircon_guest: "
    mov     failures(%rip), %rax
    call    put_decimal
    PRINT   " of "
    mov     checks(%rip), %rax
    call    put_decimal
    PRINT   " checks FAILED; resetting\r\n"
    cmpb    $1, reset_space(%rip)       # the reset register in I/O space, as the FADT says
    jne     triple_fault
    mov     reset_port(%rip), %edx
    movzbl  reset_value(%rip), %eax
    out     %al, %dx
halt:
    cli
    hlt
    jmp     halt
# Where the FADT offers no way out: an exception with an empty IDT shuts the vCPU down.
triple_fault:
    lidt    empty_idt(%rip)
    ud2

# The data ZBI lies on a page of its own, after the memory this kernel reserves (its .bss).
check_placement:
    mov     data_zbi(%rip), %rax
    test    $0xFFF, %eax
    CHECK   z, "the data ZBI is page-aligned"
    mov     data_zbi(%rip), %rax
    lea     reserved_end(%rip), %rcx
    cmp     %rcx, %rax
    CHECK   ae, "the data ZBI lies after the kernel's image and reserved memory"
    ret

# Checks the container header; ZF clear if it is not one.
check_container:
    mov     data_zbi(%rip), %rbx
    xor     %eax, %eax
    cmpl    $TYPE_CONTAINER, (%rbx)
    jne     1f
    cmpl    $CONTAINER_MAGIC, 8(%rbx)
    jne     1f
    cmpl    $ITEM_MAGIC, 24(%rbx)
    jne     1f
    testl   $FLAGS_VERSION, 12(%rbx)
    jz      1f
    testl   $7, 4(%rbx)
    jnz     1f
    inc     %eax
1:  push    %rax
    lea     container_text(%rip), %rdi
    call    check
    pop     %rax
    cmp     $1, %eax
    ret

# Sets uart to the port of the first KERNEL_DRIVER item for an 8250 on I/O ports.
find_uart:
    call    first_item
1:  test    %r13, %r13
    jz      2f
    cmpl    $TYPE_DRIVER, (%r13)
    jne     3f
    cmpl    $KDRV_I8250_PIO, 8(%r13)
    jne     3f
    cmpl    $8, 4(%r13)
    jne     3f
    movzwl  ZBI_HEADER(%r13), %eax
    mov     %ax, uart(%rip)
    ret
3:  call    next_item
    jmp     1b
2:  ret

# %r13 = the first item of the data ZBI, or 0 if there is none; %r14 = the container's end.
first_item:
    mov     data_zbi(%rip), %rbx
    mov     4(%rbx), %r14d
    lea     ZBI_HEADER(%rbx,%r14), %r14
    lea     ZBI_HEADER(%rbx), %r13
    jmp     bound_item

# %r13 = the item after %r13, or 0 at the container's end or where an item's header or payload
# would run past it.
next_item:
    mov     4(%r13), %eax
    add     $7, %rax
    and     $~7, %rax
    lea     ZBI_HEADER(%r13,%rax), %r13
bound_item:
    lea     ZBI_HEADER(%r13), %rax
    cmp     %r14, %rax
    ja      1f
    mov     4(%r13), %ecx
    add     %rcx, %rax
    cmp     %r14, %rax
    ja      1f
    ret
1:  xor     %r13d, %r13d
    ret

# Prints and checks every item.
check_items:
    call    first_item
    xor     %r15d, %r15d                # bytes of items walked
1:  test    %r13, %r13
    jz      2f
    mov     4(%r13), %eax
    add     $7, %rax
    and     $~7, %rax
    lea     ZBI_HEADER(%r15,%rax), %r15
    call    check_item
    call    next_item
    jmp     1b
2:  mov     data_zbi(%rip), %rbx
    mov     4(%rbx), %eax
    cmp     %rax, %r15
    CHECK   e, "the items fill the container exactly"
    cmpb    $0, seen_e820(%rip)
    CHECK   ne, "an E820_TABLE item was passed"
    cmpq    $0, rsdp(%rip)
    CHECK   ne, "an ACPI_RSDP item was passed"
    cmpb    $0, seen_uart(%rip)
    CHECK   ne, "a KERNEL_DRIVER item for an 8250 UART on I/O ports was passed"
    ret

# The item at %r13: its header, CRC32, the line describing it, and what its type promises.
check_item:
    xor     %eax, %eax
    cmpl    $ITEM_MAGIC, 24(%r13)
    jne     1f
    testl   $FLAGS_VERSION, 12(%r13)
    jz      1f
    inc     %eax
1:  lea     item_header_text(%rip), %rdi
    call    check
    call    item_crc32_matches
    CHECK   z, "the item's CRC32 (or the no-CRC32 value without the flag)"
    PRINT   "zircon_guest: item "
    mov     (%r13), %eax
    cmp     $TYPE_CMDLINE, %eax
    je      item_cmdline
    cmp     $TYPE_E820, %eax
    je      item_e820
    cmp     $TYPE_RSDP, %eax
    je      item_rsdp
    cmp     $TYPE_DRIVER, %eax
    je      item_driver
item_other:
    call    put_type
    PRINT   " "
    mov     4(%r13), %eax
    call    put_hex
    PRINT   " bytes\r\n"
    ret

item_cmdline:
    lea     cmdline_open(%rip), %rsi
    call    puts
    lea     ZBI_HEADER(%r13), %rsi
    mov     4(%r13), %ecx
    call    put_text
    lea     quote_newline(%rip), %rsi
    call    puts
    mov     4(%r13), %ecx
    mov     $1, %al                     # an empty payload has no NUL
    test    %ecx, %ecx
    jz      1f
    mov     ZBI_HEADER - 1(%r13,%rcx), %al
1:  test    %al, %al
    CHECK   z, "the command line ends with its NUL"
    ret

item_rsdp:
    cmpl    $8, 4(%r13)
    jne     item_other
    PRINT   "ACPI_RSDP "
    mov     ZBI_HEADER(%r13), %rax
    mov     %rax, rsdp(%rip)
    call    put_hex
    call    newline
    call    scan_for_rsdp
    cmp     rsdp(%rip), %rax
    CHECK   e, "ACPI_RSDP is the RSDP a scan of the BIOS area finds"
    ret

item_driver:
    cmpl    $KDRV_I8250_PIO, 8(%r13)
    jne     item_other
    cmpl    $8, 4(%r13)
    jne     item_other
    PRINT   "KERNEL_DRIVER I8250_PIO_UART base "
    movzwl  ZBI_HEADER(%r13), %eax
    call    put_hex
    PRINT   " irq "
    mov     ZBI_HEADER + 4(%r13), %eax
    call    put_hex
    call    newline
    movb    $1, seen_uart(%rip)
    # The UART keeps what is written to its scratch register: a 16550 answers on these ports.
    movzwl  ZBI_HEADER(%r13), %edx
    add     $SCRATCH, %edx
    mov     $0xA5, %al
    out     %al, %dx
    xor     %eax, %eax
    in      %dx, %al
    cmp     $0xA5, %al
    CHECK   e, "the UART's scratch register keeps a byte written to it"
    ret

item_e820:
    mov     4(%r13), %eax
    xor     %edx, %edx
    mov     $E820_ENTRY, %ecx
    div     %ecx
    test    %edx, %edx
    jnz     item_other
    mov     %eax, %r12d                 # entries
    movb    $1, seen_e820(%rip)
    PRINT   "E820_TABLE"
    lea     ZBI_HEADER(%r13), %rbx
    xor     %r8d, %r8d                  # the end of the previous entry
    xor     %r9d, %r9d                  # 1 once the order breaks
    xor     %r10d, %r10d                # 1 once a RAM entry holds the kernel and the data ZBI
1:  test    %r12d, %r12d
    jz      2f
    PRINT   " ["
    mov     (%rbx), %rax
    call    put_hex
    PRINT   "+"
    mov     8(%rbx), %rax
    call    put_hex
    PRINT   " type "
    mov     16(%rbx), %eax
    call    put_hex
    PRINT   "]"
    mov     (%rbx), %rax
    cmp     %r8, %rax
    jae     3f
    mov     $1, %r9d
3:  add     8(%rbx), %rax
    mov     %rax, %r8
    cmpl    $E820_RAM, 16(%rbx)
    jne     4f
    cmpq    $KERNEL_LOAD, (%rbx)
    ja      4f
    call    data_zbi_end
    cmp     %r8, %rax
    ja      4f
    mov     $1, %r10d
4:  add     $E820_ENTRY, %rbx
    dec     %r12d
    jmp     1b
2:  call    newline
    test    %r9d, %r9d
    CHECK   z, "the E820 ranges are sorted and do not overlap"
    test    %r10d, %r10d
    CHECK   nz, "one E820 RAM range holds this kernel and the data ZBI"
    ret

# %rax = one past the data ZBI's last byte.
data_zbi_end:
    mov     data_zbi(%rip), %rax
    mov     4(%rax), %ecx
    lea     ZBI_HEADER(%rax,%rcx), %rax
    ret

# ZF set if the item at %r13 carries the CRC32 its flag promises, or NO_CRC32 without the flag.
# The CRC32 covers the header with its crc32 field zero, then the payload.
item_crc32_matches:
    testl   $FLAGS_CRC32, 12(%r13)
    jnz     1f
    cmpl    $NO_CRC32, 28(%r13)
    ret
1:  mov     $0xFFFFFFFF, %eax
    mov     %r13, %rsi
    mov     $28, %ecx
    call    crc32_update
    lea     zero_word(%rip), %rsi
    mov     $4, %ecx
    call    crc32_update
    lea     ZBI_HEADER(%r13), %rsi
    mov     4(%r13), %ecx
    call    crc32_update
    not     %eax
    cmp     28(%r13), %eax
    ret

# Continues the reflected CRC32 (polynomial 0xEDB88320) in %eax over %rcx bytes at %rsi.
crc32_update:
    test    %rcx, %rcx
    jz      3f
    xorb    (%rsi), %al
    mov     $8, %edx
1:  shr     $1, %eax
    jnc     2f
    xor     $0xEDB88320, %eax
2:  dec     %edx
    jnz     1b
    inc     %rsi
    dec     %rcx
    jmp     crc32_update
3:  ret

# %rax = the address of "RSD PTR " on a 16-byte boundary of 0xE0000-0xFFFFF, or 0.
scan_for_rsdp:
    mov     $0xE0000, %rax
    mov     rsd_ptr(%rip), %rcx
1:  cmp     (%rax), %rcx
    je      2f
    add     $16, %rax
    cmp     $0x100000, %rax
    jb      1b
    xor     %eax, %eax
2:  ret

# The ACPI tables through the RSDP: signatures and checksums, the XSDT's tables (each printed),
# the FADT's PM1a control block and reset register, the DSDT's \_S5.
check_acpi:
    mov     rsdp(%rip), %rbx
    test    %rbx, %rbx
    jz      9f
    mov     rsd_ptr(%rip), %rcx
    cmp     (%rbx), %rcx
    CHECK   e, "the RSDP's signature"
    mov     %rbx, %rsi
    mov     $20, %ecx
    call    checksum
    CHECK   z, "the RSDP's checksum"
    cmpb    $2, 15(%rbx)
    CHECK   ae, "the RSDP is ACPI 2.0 or later (it has an XSDT)"
    mov     %rbx, %rsi
    mov     20(%rbx), %ecx
    call    checksum
    CHECK   z, "the RSDP's extended checksum"
    mov     24(%rbx), %rbx              # the XSDT
    mov     $0x54445358, %eax           # 'XSDT'
    call    check_table
    CHECK   z, "the XSDT's signature and checksum"
    mov     4(%rbx), %r12d
    sub     $36, %r12d
    shr     $3, %r12d                   # entries
    lea     36(%rbx), %r15
1:  test    %r12d, %r12d
    jz      2f
    mov     (%r15), %rbx
    PRINT   "zircon_guest: ACPI table "
    mov     %rbx, %rsi
    mov     $4, %ecx
    call    put_text
    PRINT   " at "
    mov     %rbx, %rax
    call    put_hex
    call    newline
    mov     (%rbx), %eax
    call    check_table
    CHECK   z, "the table's checksum"
    cmpl    $0x50434146, (%rbx)         # 'FACP'
    jne     3f
    call    read_fadt
3:  add     $8, %r15
    dec     %r12d
    jmp     1b
2:  cmpl    $0, pm1a_control(%rip)
    CHECK   ne, "the FADT names a PM1a control block"
    cmpw    $0, slp_typ(%rip)
    CHECK   ne, "the DSDT's _S5 object gives a sleep type"
9:  ret

# Keeps what the FADT at %rbx says about powering off and resetting, and checks its DSDT.
read_fadt:
    push    %rbx
    mov     64(%rbx), %eax
    mov     %eax, pm1a_control(%rip)
    mov     116(%rbx), %al
    mov     %al, reset_space(%rip)
    mov     120(%rbx), %eax
    mov     %eax, reset_port(%rip)
    mov     128(%rbx), %al
    mov     %al, reset_value(%rip)
    mov     140(%rbx), %rbx             # X_DSDT
    mov     $0x54445344, %eax           # 'DSDT'
    call    check_table
    CHECK   z, "the DSDT's signature and checksum"
    call    find_s5
    pop     %rbx
    ret

# Reads SLP_TYPa from the DSDT at %rbx: the first element of the package named _S5_.
find_s5:
    mov     4(%rbx), %ecx
    lea     (%rbx,%rcx), %rcx           # the table's end
    lea     36(%rbx), %rsi
1:  lea     9(%rsi), %rax
    cmp     %rcx, %rax
    ja      9f
    cmpl    $0x5F35535F, (%rsi)         # '_S5_'
    je      2f
    inc     %rsi
    jmp     1b
2:  cmpb    $0x12, 4(%rsi)              # PackageOp, a one-byte PkgLength, NumElements, then the element
    jne     9f
    movzbl  7(%rsi), %eax
    cmp     $0x0A, %al                  # BytePrefix
    jne     3f
    movzbl  8(%rsi), %eax
    jmp     4f
3:  cmp     $1, %al                     # ZeroOp and OneOp stand for themselves
    ja      9f
4:  mov     %ax, slp_typ(%rip)
9:  ret

# ZF set if the table at %rbx has signature %eax and its bytes sum to zero.
check_table:
    cmp     (%rbx), %eax
    jne     1f
    mov     %rbx, %rsi
    mov     4(%rbx), %ecx
    call    checksum
1:  ret

# ZF set if the %rcx bytes at %rsi sum to zero (mod 256).
checksum:
    xor     %eax, %eax
1:  test    %rcx, %rcx
    jz      2f
    add     (%rsi), %al
    inc     %rsi
    dec     %rcx
    jmp     1b
2:  test    %al, %al
    ret

# Counts a check whose outcome is %eax (1 passed, 0 failed) and prints it with the text at %rdi.
check:
    push    %rsi
    incq    checks(%rip)
    test    %eax, %eax
    jnz     1f
    incq    failures(%rip)
    lea     failed_text(%rip), %rsi
    jmp     2f
1:  lea     ok_text(%rip), %rsi
2:  call    puts
    mov     %rdi, %rsi
    call    puts
    call    newline
    pop     %rsi
    ret

# Prints the type of the item at %r13: its name if this kernel knows it, else 0x and eight digits.
put_type:
    mov     (%r13), %eax
    lea     type_names(%rip), %rsi
1:  mov     (%rsi), %ecx
    test    %ecx, %ecx
    jz      3f
    add     $4, %rsi
    cmp     %ecx, %eax
    je      puts
2:  cmpb    $0, (%rsi)                  # past the name and its NUL
    lea     1(%rsi), %rsi
    jne     2b
    jmp     1b
3:  mov     $8, %ecx
    jmp     put_hex_digits

# Prints %rax in decimal.
put_decimal:
    xor     %edx, %edx
    mov     $10, %ecx
    div     %rcx
    push    %rdx
    test    %rax, %rax
    jz      1f
    call    put_decimal
1:  pop     %rax
    add     $'0', %al
    jmp     putc

# Prints %rax as 0x and hex digits without leading zeros.
put_hex:
    mov     $16, %ecx
1:  cmp     $1, %ecx                    # the number of digits: the last nonzero one's place
    je      put_hex_digits
    mov     %ecx, %edx
    dec     %edx
    shl     $2, %edx
    push    %rcx
    mov     %edx, %ecx
    mov     %rax, %rdx
    shr     %cl, %rdx
    pop     %rcx
    test    %rdx, %rdx
    jnz     put_hex_digits
    dec     %ecx
    jmp     1b

# Prints %rax as 0x and its low %ecx hex digits.
put_hex_digits:
    push    %rbx
    mov     %rax, %rbx
    push    %rcx
    PRINT   "0x"
    pop     %rcx
1:  dec     %ecx
    mov     %rbx, %rax
    push    %rcx
    shl     $2, %ecx
    shr     %cl, %rax
    and     $0xF, %eax
    lea     hex_digits(%rip), %rdx
    movzbl  (%rdx,%rax), %eax
    call    putc
    pop     %rcx
    test    %ecx, %ecx
    jnz     1b
    pop     %rbx
    ret

# Prints up to %rcx bytes at %rsi, stopping at a NUL.
put_text:
    test    %rcx, %rcx
    jz      1f
    movzbl  (%rsi), %eax
    test    %al, %al
    jz      1f
    call    putc
    inc     %rsi
    dec     %rcx
    jmp     put_text
1:  ret

newline:
    PRINT   "\r\n"
    ret

# Prints the NUL-terminated string at %rsi.
puts:
    movzbl  (%rsi), %eax
    test    %al, %al
    jz      1f
    call    putc
    inc     %rsi
    jmp     puts
1:  ret

# Writes %al to the UART once its transmitter holding register is empty; keeps %rcx and %rsi.
putc:
    push    %rdx
    push    %rax
    movzwl  uart(%rip), %edx
    add     $LSR, %edx
1:  in      %dx, %al
    test    $LSR_THR_EMPTY, %al
    jz      1b
    pop     %rax
    movzwl  uart(%rip), %edx
    out     %al, %dx
    pop     %rdx
    ret

    .section .rodata
ok_text:     .asciz "zircon_guest: ok: "
container_text: .asciz "the data ZBI's container header (type, magic, version, length a multiple of 8)"
item_header_text: .asciz "an item header with its magic and the version flag"
cmdline_open: .asciz "CMDLINE \""
quote_newline: .asciz "\"\r\n"
empty_idt:   .word 0
             .quad 0
failed_text: .asciz "zircon_guest: FAILED: "
hex_digits:  .ascii "0123456789abcdef"
rsd_ptr:     .ascii "RSD PTR "
zero_word:   .int 0
# The item types this kernel names: code, then the name as dev.machina.loader.zbi.ZbiType spells it.
type_names:
    .int 0x4C4E524B
    .asciz "KERNEL_X64"
    .int 0x50494B53
    .asciz "DISCARD"
    .int 0x4B534452
    .asciz "STORAGE_RAMDISK"
    .int 0x42534642
    .asciz "STORAGE_BOOTFS"
    .int TYPE_CMDLINE
    .asciz "CMDLINE"
    .int 0x44494C50
    .asciz "PLATFORM_ID"
    .int 0x434D454D
    .asciz "MEM_CONFIG"
    .int TYPE_DRIVER
    .asciz "KERNEL_DRIVER"
    .int TYPE_RSDP
    .asciz "ACPI_RSDP"
    .int TYPE_E820
    .asciz "E820_TABLE"
    .int 0x42465753
    .asciz "FRAMEBUFFER"
    .int 0

    .bss
    .balign 16
data_zbi:     .skip 8
rsdp:         .skip 8
checks:       .skip 8
failures:     .skip 8
pm1a_control: .skip 4
reset_port:   .skip 4
uart:         .skip 2
slp_typ:      .skip 2
reset_space:  .skip 1
reset_value:  .skip 1
seen_e820:    .skip 1
seen_uart:    .skip 1
    .balign 16
    .skip   8192
stack_top:
