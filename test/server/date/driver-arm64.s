// Test driver for format_date (asm/arm64/date.s): reads little-endian u32 Unix times on standard input and
// writes each one's IMF-fixdate and a newline on standard output; exit 0 at the end of input, 1 on an I/O error.
// test/server/date.test.ts builds it (aarch64-linux-gnu-as -I asm/arm64) and compares its output with
// JavaScript's dates.

        .include "syscalls.inc"

        .equ    VALUES, 4096                    // times per chunk
        .equ    DATE_LINE, 30                   // 29 bytes and a newline

        have    .req w19                        // bytes in input
        ended   .req w20                        // the input ended
        left    .req w21                        // times still to format, in .Lone
        from    .req x22                        // the next time to format
        end     .req x23                        // the end of the output

        .text
        .global _start

// _start: one chunk at a time: fill the input (or reach its end), format every whole value, write it all.
_start:
.Lchunk:
        mov     have, #0
.Lfill:
        mov     w0, #0
        adr     x1, input
        add     x1, x1, have, uxtw
        mov     w2, #VALUES * 4
        sub     w2, w2, have
        sys     read
        tbnz    x0, #63, .Lfail
        cmp     x0, #0
        cset    ended, eq
        add     have, have, w0
        cbz     have, .Lexit
        cmp     have, #VALUES * 4
        b.hs    .Lformat
        cbz     ended, .Lfill
.Lformat:
        adr     from, input
        adr     x1, output
        lsr     left, have, #2
        cbz     left, .Lwritten                 // fewer than 4 bytes at the end: nothing to format
.Lone:
        ldr     w0, [from], #4
        bl      format_date
        mov     w2, #10
        strb    w2, [x1], #1
        subs    left, left, #1
        b.ne    .Lone
        mov     end, x1
        adr     x1, output
.Lwrite:
        subs    x2, end, x1
        b.eq    .Lwritten
        mov     w0, #1
        sys     write
        cmp     x0, #0
        b.le    .Lfail
        add     x1, x1, x0
        b       .Lwrite
.Lwritten:
        cbz     ended, .Lchunk
.Lexit:
        mov     w0, #0
        sys     exit_group
.Lfail:
        mov     w0, #1
        sys     exit_group

        .include "date.s"

        .bss
        .balign 16
input:  .skip   VALUES * 4
output: .skip   VALUES * DATE_LINE
