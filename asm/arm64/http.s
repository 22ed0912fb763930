// HTTP/1.x request heads: parsing, validation and the choice of response (docs/server.md, "Parsing rules").

// Facts gathered about a request while its head is parsed (bit numbers, for tbz/tbnz, and masks).
        .equ    Q_GET_BIT, 0
        .equ    Q_HEAD_BIT, 1
        .equ    Q_V11_BIT, 2                    // HTTP/1.1 (else 1.0)
        .equ    Q_PAGE_BIT, 3                   // path "/"
        .equ    Q_HEALTH_BIT, 4                 // path "/health"
        .equ    Q_HOST_BIT, 5                   // a Host header was seen
        .equ    Q_LENGTH_BIT, 6                 // a Content-Length header was seen
        .equ    Q_TRANSFER_BIT, 7               // a Transfer-Encoding header was seen
        .equ    Q_CLOSE_BIT, 8                  // Connection lists "close"
        .equ    Q_KEEP_ALIVE_BIT, 9             // Connection lists "keep-alive"
        .equ    Q_GET, 1 << Q_GET_BIT
        .equ    Q_HEAD, 1 << Q_HEAD_BIT
        .equ    Q_V11, 1 << Q_V11_BIT
        .equ    Q_PAGE, 1 << Q_PAGE_BIT
        .equ    Q_HEALTH, 1 << Q_HEALTH_BIT
        .equ    Q_HOST, 1 << Q_HOST_BIT
        .equ    Q_LENGTH, 1 << Q_LENGTH_BIT
        .equ    Q_TRANSFER, 1 << Q_TRANSFER_BIT
        .equ    Q_CLOSE, 1 << Q_CLOSE_BIT
        .equ    Q_KEEP_ALIVE, 1 << Q_KEEP_ALIVE_BIT

        .equ    LOWER_8, 0x2020202020202020     // or-ed into letters (and '-') makes them lower case

        line    .req x1                         // the line being parsed, then a cursor in it
        line_end .req x2                        // the end of its content (its CR or LF)
        body    .req x4                         // the body length to discard
        input_end .req x6
        head    .req x7                         // the head's first byte
        facts   .req w10                        // Q_*
        next    .req x11                        // the next line's start
        mark    .req x12
        cursor  .req x13
        tokens  .req x14                        // token_chars

// token_bit: bit 0 of w9 = whether the byte in w0 is a token character (test it with tbz/tbnz).
        .macro  token_bit
        lsr     w9, w0, #5
        ldr     w9, [tokens, w9, uxtw #2]
        lsr     w9, w9, w0
        .endm

// parse_request: parses one request head at the start of the input and chooses its response.
// IN:  x1 = the head's first byte, w2 = bytes available (> 0)
// OUT: x0 = response descriptor, or 0 when the head is not complete yet
//      w2 = length of the head, w3 = R_* flags, x4 = body length to discard
// CLOBBERS: x1, x5-x7, x9-x14
parse_request:
        str     x30, [sp, #-16]!
        mov     head, line
        add     input_end, line, w2, uxtw
        mov     body, #0
        adr     tokens, token_chars
.Lparse_request_line:
        bl      next_line
        b.cs    .Lparse_incomplete
        mov     next, x0
        cmp     line_end, line
        b.ne    .Lparse_method
        mov     line, x0                        // empty lines before a request are ignored (RFC 9112 2.2)
        b       .Lparse_request_line
.Lparse_method:
        mov     cursor, line
1:      ldrb    w0, [cursor], #1
        token_bit
        tbnz    w9, #0, 1b
        sub     cursor, cursor, #1
        cmp     cursor, line
        b.eq    .Lparse_bad
        cmp     w0, #' '
        b.ne    .Lparse_bad
        ldr     x0, [line]
        ldr     w9, word_get
        cmp     w0, w9
        cset    facts, eq                       // Q_GET
        and     x0, x0, #0xffffffffff           // "HEAD "
        ldr     x9, word_head
        cmp     x0, x9
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_HEAD_BIT
        add     line, cursor, #1                // the target
        ldrb    w0, [line]
        cmp     w0, #'/'
        b.ne    .Lparse_bad
        mov     cursor, line
        mov     mark, #0                        // the first '?', which ends the path
.Lparse_target_char:
        ldrb    w0, [cursor]
        cmp     w0, #' '
        b.eq    .Lparse_target_end
        sub     w0, w0, #0x21                   // visible characters only
        cmp     w0, #0x7e - 0x21
        b.hi    .Lparse_bad
        cmp     w0, #'?' - 0x21
        ccmp    mark, #0, #0, eq
        csel    mark, cursor, mark, eq
        add     cursor, cursor, #1
        b       .Lparse_target_char
.Lparse_target_end:
        cmp     mark, #0
        csel    mark, cursor, mark, eq
        sub     mark, mark, line                // path length
        cmp     mark, #1
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_PAGE_BIT
        ldr     x0, [line]
        and     x0, x0, #0xffffffffffffff       // "/health"
        ldr     x9, word_health
        cmp     x0, x9
        ccmp    mark, #7, #0, eq
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_HEALTH_BIT
        add     line, cursor, #1                // "HTTP/d.d" and the line's end
        sub     x0, line_end, line
        cmp     x0, #8
        b.ne    .Lparse_bad
        ldr     x0, [line]
        ldr     x9, word_version              // "HTTP/0.0": what differs is the two digits
        eor     x0, x0, x9
        ubfx    x5, x0, #40, #8                 // major
        lsr     x9, x0, #56                     // minor
        bfi     x0, xzr, #40, #8
        bfi     x0, xzr, #56, #8
        cbnz    x0, .Lparse_bad
        cmp     x5, #9
        ccmp    x9, #9, #2, ls                  // the minor digit too (nzcv = C, hi, when the major is not)
        b.hi    .Lparse_bad
        cmp     x5, #1
        b.ne    .Lparse_unsupported
        cmp     x9, #1
        b.hi    .Lparse_unsupported
        b.lo    .Lparse_header
        orr     facts, facts, #Q_V11

.Lparse_header:
        mov     line, next
        bl      next_line
        b.cs    .Lparse_incomplete
        mov     next, x0
        cmp     line_end, line
        b.eq    .Lparse_head_end
        mov     mark, line                      // name: token characters, then ':'
1:      ldrb    w0, [mark], #1
        token_bit
        tbnz    w9, #0, 1b
        sub     mark, mark, #1
        cmp     mark, line
        b.eq    .Lparse_bad                     // also obsolete line folding (a leading space)
        cmp     w0, #':'
        b.ne    .Lparse_bad
        add     cursor, mark, #1                // value: HT, SP, visible, or obs-text
3:      cmp     cursor, line_end
        b.hs    4f
        ldrb    w0, [cursor], #1
        cmp     w0, #0x7f
        b.eq    .Lparse_bad
        cmp     w0, #0x20
        ccmp    w0, #9, #4, lo                  // below 0x20 only HT
        b.eq    3b
        b       .Lparse_bad
4:      sub     x5, mark, line                  // name length
        ldr     x0, [line]
        orr     x0, x0, #LOWER_8
        cmp     x5, #4
        b.eq    .Lparse_host
        cmp     x5, #10
        b.eq    .Lparse_connection
        cmp     x5, #14
        b.eq    .Lparse_content_length
        cmp     x5, #17
        b.ne    .Lparse_header
        ldr     x9, word_transfer
        cmp     x0, x9
        b.ne    .Lparse_header
        ldr     x0, [line, #9]
        orr     x0, x0, #LOWER_8
        ldr     x9, word_encoding
        cmp     x0, x9
        b.ne    .Lparse_header
        ldrb    w0, [line, #8]
        cmp     w0, #'-'
        b.ne    .Lparse_header
        orr     facts, facts, #Q_TRANSFER
        b       .Lparse_header
.Lparse_host:
        ldr     w9, word_host
        cmp     w0, w9
        b.ne    .Lparse_header
        tbnz    facts, #Q_HOST_BIT, .Lparse_bad // a second Host is an error
        orr     facts, facts, #Q_HOST
        b       .Lparse_header
.Lparse_content_length:
        ldr     x9, word_content
        cmp     x0, x9
        b.ne    .Lparse_header
        ldr     x0, [line, #6]
        orr     x0, x0, #LOWER_8
        ldr     x9, word_length
        cmp     x0, x9
        b.ne    .Lparse_header
        tbnz    facts, #Q_LENGTH_BIT, .Lparse_bad // a second Content-Length is an error
        orr     facts, facts, #Q_LENGTH
        add     line, mark, #1
        bl      skip_spaces
        mov     mark, line
        mov     x5, #10
1:      ldrb    w0, [line]                      // (the line's CR or LF ends the digits too)
        sub     w0, w0, #'0'
        cmp     w0, #9
        b.hi    2f
        madd    body, body, x5, x0
        add     line, line, #1
        b       1b
2:      sub     mark, line, mark                // digits
        cbz     mark, .Lparse_bad
        cmp     mark, #15
        b.hi    .Lparse_bad
        bl      skip_spaces
        cmp     line, line_end
        b.ne    .Lparse_bad
        b       .Lparse_header
.Lparse_connection:
        ldr     x9, word_connecti
        cmp     x0, x9
        b.ne    .Lparse_header
        ldrh    w0, [line, #8]                  // "on", in upper case: and-ing 0xdf folds case as or-ing 0x20
        and     w0, w0, #0xdfdfdfdf
        mov     w9, #'O' | 'N' << 8
        cmp     w0, w9
        b.ne    .Lparse_header
        add     line, mark, #1
.Lparse_token:
        // the value is a list of tokens separated by commas and spaces
        cmp     line, line_end
        b.hs    .Lparse_header
        ldrb    w0, [line]
        bl      is_separator
        b.eq    .Lparse_separator
        mov     cursor, line
1:      add     cursor, cursor, #1
        cmp     cursor, line_end
        b.hs    2f
        ldrb    w0, [cursor]
        bl      is_separator
        b.ne    1b
2:      sub     x5, cursor, line                // token length
        ldr     x0, [line]
        orr     x0, x0, #LOWER_8
        cmp     x5, #5
        b.ne    .Lparse_keep_alive
        and     x0, x0, #0xffffffffff
        ldr     x9, word_close
        cmp     x0, x9
        b.ne    .Lparse_token_done
        orr     facts, facts, #Q_CLOSE
        b       .Lparse_token_done
.Lparse_keep_alive:
        cmp     x5, #10
        b.ne    .Lparse_token_done
        ldr     x9, word_keep_ali
        cmp     x0, x9
        b.ne    .Lparse_token_done
        ldrh    w0, [line, #8]                  // "ve", in upper case
        and     w0, w0, #0xdfdfdfdf
        mov     w9, #'V' | 'E' << 8
        cmp     w0, w9
        b.ne    .Lparse_token_done
        orr     facts, facts, #Q_KEEP_ALIVE
.Lparse_token_done:
        mov     line, cursor
        b       .Lparse_token
.Lparse_separator:
        add     line, line, #1
        b       .Lparse_token

.Lparse_head_end:
        tbnz    facts, #Q_TRANSFER_BIT, .Lparse_not_implemented
        tbz     facts, #Q_V11_BIT, .Lparse_keep_1_0
        tbz     facts, #Q_HOST_BIT, .Lparse_bad // HTTP/1.1 requires Host
        ubfx    w3, facts, #Q_CLOSE_BIT, #1     // 1.1 closes if "close" is listed
        b       .Lparse_draining
.Lparse_keep_1_0:
        ubfx    w3, facts, #Q_KEEP_ALIVE_BIT, #1
        eor     w3, w3, #1                      // 1.0 closes unless "keep-alive" is listed
.Lparse_draining:
        ldrb    w5, [state, #draining]
        orr     w3, w3, w5                      // and every connection closes after shutdown began
        lsl     w3, w3, #R_CLOSE_BIT
        bfxil   w3, facts, #Q_HEAD_BIT, #1      // R_HEAD
.Lparse_choose:
        adr     x0, response_404
        tst     facts, #Q_PAGE | Q_HEALTH
        b.eq    .Lparse_done
        adr     x0, response_405
        tst     facts, #Q_GET | Q_HEAD
        b.eq    .Lparse_done
        adr     x0, response_page
        tbnz    facts, #Q_PAGE_BIT, .Lparse_done
        adr     x0, response_health
        cbz     w5, .Lparse_done                // w5 = draining
        adr     x0, response_503
.Lparse_done:
        sub     x2, next, head
        b       .Lparse_return

.Lparse_incomplete:
        sub     x0, input_end, head
        cmp     x0, #HEAD_MAX
        b.hs    .Lparse_too_large
        mov     x0, #0
        b       .Lparse_return
.Lparse_too_large:
        adr     x0, response_431
        b       .Lparse_error
.Lparse_not_implemented:
        adr     x0, response_501
        b       .Lparse_error
.Lparse_unsupported:
        adr     x0, response_505
        b       .Lparse_error
.Lparse_bad:
        adr     x0, response_400
.Lparse_error:
        mov     w3, #R_CLOSE | R_LINGER
        mov     body, #0
        mov     w2, #0
.Lparse_return:
        ldr     x30, [sp], #16
        ret

// next_line: finds the end of the line that starts at line.
// IN: line (x1), input_end (x6)
// OUT: C = 1 if no LF yet, else line_end (x2) = end of the line's content (its CR or LF), x0 = next line's start
// CLOBBERS: x9
next_line:
        mov     x0, line
1:      cmp     x0, input_end
        b.hs    3f                              // C = 1
        ldrb    w9, [x0], #1
        cmp     w9, #10
        b.ne    1b
        sub     line_end, x0, #1
        ldurb   w9, [line_end, #-1]
        cmp     line_end, line
        ccmp    w9, #13, #0, ne                 // a CR before the LF, within the line
        b.ne    2f
        sub     line_end, line_end, #1
2:      clear_carry
3:      ret

// skip_spaces: moves past spaces and tabs.
// IN: line (x1) in a line that ends with CR or LF   OUT: line at the first other byte   CLOBBERS: x9
skip_spaces:
        ldrb    w9, [line]
        cmp     w9, #' '
        ccmp    w9, #9, #4, ne                  // Z = 1 for a space or a tab
        b.ne    1f
        add     line, line, #1
        b       skip_spaces
1:      ret

// is_separator: tells whether a byte separates list tokens (comma, space, tab).
// IN: w0   OUT: Z = 1 if it does   CLOBBERS: nothing
is_separator:
        cmp     w0, #','
        b.eq    1f
        cmp     w0, #' '
        ccmp    w0, #9, #4, ne
1:      ret

        .unreq  line
        .unreq  line_end
        .unreq  body
        .unreq  input_end
        .unreq  head
        .unreq  facts
        .unreq  next
        .unreq  mark
        .unreq  cursor
        .unreq  tokens
