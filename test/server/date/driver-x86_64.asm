; Test driver for format_date (asm/x86_64/date.asm): reads little-endian u32 Unix times on standard input and
; writes each one's IMF-fixdate and a newline on standard output; exit 0 at the end of input, 1 on an I/O error.
; test/server/date.test.ts builds it (nasm -I asm/x86_64/) and compares its output with JavaScript's dates.

        bits    64
        default rel

%include "syscalls.inc"
%include "date.asm"

VALUES          equ 4096                        ; times per chunk
DATE_LINE       equ 30                          ; 29 bytes and a newline

        section .bss
input:          resd VALUES
output:         resb VALUES * DATE_LINE

        section .text
        global  _start

; _start: one chunk at a time: fill the input (or reach its end), format every whole value, write it all.
_start:
.chunk:
        xor     r12d, r12d                      ; bytes in input
.fill:
        xor     edi, edi
        mov     esi, input
        add     rsi, r12
        mov     edx, VALUES * 4
        sub     edx, r12d
        sys     SYS_read
        test    rax, rax
        js      .fail
        setz    r15b                            ; the input ended
        add     r12d, eax
        jz      .exit_ok
        cmp     r12d, VALUES * 4
        jae     .format
        test    r15b, r15b
        jz      .fill
.format:
        mov     r13d, input
        mov     edi, output
        shr     r12d, 2
        jz      .written                        ; fewer than 4 bytes at the end: nothing to format
.one:
        mov     eax, [r13]
        add     r13, 4
        call    format_date
        mov     byte [rdi], 10
        inc     rdi
        dec     r12d
        jnz     .one
        mov     r14, rdi                        ; end of the output
        mov     esi, output
.write:
        mov     rdx, r14
        sub     rdx, rsi
        jz      .written
        mov     edi, 1
        sys     SYS_write
        test    rax, rax
        jle     .fail
        add     rsi, rax
        jmp     .write
.written:
        test    r15b, r15b
        jz      .chunk
.exit_ok:
        xor     edi, edi
        sys     SYS_exit_group
.fail:
        mov     edi, 1
        sys     SYS_exit_group
