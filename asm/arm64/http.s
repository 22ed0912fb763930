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
        .equ    Q_METRICS_BIT, 10               // path "/metrics", on a connection with F_METRICS
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
        .equ    Q_METRICS, 1 << Q_METRICS_BIT

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

// char_bit TABLE: bit 0 of w9 = whether the byte in w0 is in the 256-bit TABLE (test it with tbz/tbnz).
        .macro  char_bit table
        lsr     w9, w0, #5
        ldr     w9, [\table, w9, uxtw #2]
        lsr     w9, w9, w0
        .endm

        .if     R_HEAD_BIT != 0
        .error  "parse_request inserts R_HEAD as bit 0 (bfxil)"
        .endif

// parse_request: parses one request head at the start of the input and chooses its response.
// The target is scanned once (every byte visible, and the first '?', where the path ends), then its form is
// read from its start, as in the x86_64 tree.
// IN:  x1 = the head's first byte, w2 = bytes available (> 0), conn
// OUT: x0 = response descriptor (response_metrics for /metrics: render_metrics makes it), or 0 when the head
//      is not complete yet
//      w2 = length of the head; w3 = R_* flags (when the head is not complete: R_HEAD if it is a HEAD
//      request's, so that a 408 for it has no body either); x4 = body length to discard; w10 = Q_* facts,
//      which tell the route (count_request)
// CLOBBERS: x1, x5-x7, x9, x11-x14
parse_request:
        str     x30, [sp, #-16]!
        mov     head, line
        add     input_end, line, w2, uxtw
        mov     body, #0
        adr     tokens, token_chars
.Lparse_request_line:
        ldr     x0, [line]                      // "HEAD ", known before the line ends: a 431 for HEAD has no body
        ldr     x9, word_head
        cmp     x9, x0, lsl #24                 // the first 5 bytes
        cset    facts, eq
        lsl     facts, facts, #Q_HEAD_BIT
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
        char_bit tokens
        tbnz    w9, #0, 1b
        sub     x9, cursor, line                // the method's length + 1 (cursor is at the target)
        cmp     w0, #' '
        ccmp    x9, #1, #0, eq                  // a space after 1+ token characters, else ls
        b.ls    .Lparse_bad
        ldr     w0, [line]
        ldr     w9, word_get
        cmp     w0, w9
        cset    w9, eq
        orr     facts, facts, w9                // Q_GET
        mov     line, cursor                    // the target: every byte visible, up to the space
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
        csel    mark, cursor, mark, eq          // the path's end
        ldrb    w0, [line]
        cmp     w0, #'/'
        b.eq    .Lparse_path                    // origin-form
        // Absolute-form (RFC 9112 3.2.2): "http://" or "https://" in any case, then the authority, then the
        // path, which may be empty. Or-ing 0x20 lower-cases letters and leaves ':' and '/' as they are (the bytes
        // it would turn into them are controls, refused above). A match lies within the target, which has no
        // space; the read buffer's slack covers the word past the input.
        ldr     x0, [line], #6                  // line: the last '/' of "http://"
        orr     x0, x0, #LOWER_8
        ldp     x9, x5, [tokens, #word_http - token_chars] // and word_https
        cmp     x9, x0, lsl #8                  // the first 7 bytes
        b.eq    1f
        cmp     x0, x5
        b.ne    .Lparse_bad
        add     line, line, #1                  // the last '/' of "https://"
        // The authority ends at '/', or at mark, the first '?' or the space (the scheme has neither). An '@'
        // stops the loop too.
1:      ldrb    w0, [line, #1]!
        subs    w9, w0, #'/'
        ccmp    w9, #'@' - '/', #4, ne
        ccmp    line, mark, #4, ne
        b.ne    1b
        ldurb   w0, [line, #-1]
        cmp     w0, #'/'                        // an empty authority: the byte before is the scheme's '/'
        ccmp    w9, #'@' - '/', #4, ne          // userinfo is an error (RFC 9110 4.2.4)
        b.eq    .Lparse_bad
.Lparse_path:
        sub     mark, mark, line                // path length
        cmp     mark, #1
        cset    w9, ls                          // "/", or an absolute-form target's empty path
        orr     facts, facts, w9, lsl #Q_PAGE_BIT
        ldr     x0, [line]
        ldr     x9, word_health
        cmp     x9, x0, lsl #8                  // the first 7 bytes, "/health"
        ccmp    mark, #7, #0, eq
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_HEALTH_BIT
        ldr     x9, word_metrics
        cmp     x0, x9                          // "/metrics", where the connection serves it
        ccmp    mark, #8, #0, eq
        ldrb    w9, [conn, #C_FLAGS]
        ubfx    w9, w9, #F_METRICS_BIT, #1
        csel    w9, w9, wzr, eq
        orr     facts, facts, w9, lsl #Q_METRICS_BIT
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
        adr     x0, response_505
        cmp     x5, #1
        b.ne    .Lparse_error                   // 505 is for a major version (RFC 9110 15.6.6)
        cbz     x9, .Lparse_header              // 1.0
        orr     facts, facts, #Q_V11            // 1.1, and 1.2-1.9 as 1.1 (RFC 9110 2.5)

.Lparse_header:
        mov     line, next
        bl      next_line
        b.cs    .Lparse_incomplete
        mov     next, x0
        cmp     line_end, line
        b.eq    .Lparse_head_end
        mov     mark, line                      // name: token characters, then ':'
1:      ldrb    w0, [mark], #1
        char_bit tokens
        tbnz    w9, #0, 1b
        sub     x5, mark, line                  // the name's length + 1 (mark is at the value)
        cmp     w0, #':'
        ccmp    x5, #1, #0, eq                  // ls: no ':', or no name (also obsolete line folding)
        b.ls    .Lparse_bad
        sub     cursor, mark, #1                // value: HT, SP, visible, or obs-text, up to the line's end
1:      ldrb    w0, [cursor, #1]!
        cmp     w0, #0x7f
        ccmp    w0, #0x1f, #0, ne               // hi: visible or obs-text (DEL: nzcv = 0, ls)
        ccmp    w0, #9, #4, ls                  // else only HT
        b.eq    1b
        cmp     cursor, line_end                // the first other byte must be the line's CR or LF
        b.ne    .Lparse_bad
        ldr     x0, [line]
        orr     x0, x0, #LOWER_8
        cmp     x5, #4 + 1
        b.eq    .Lparse_host
        cmp     x5, #10 + 1
        b.eq    .Lparse_connection
        cmp     x5, #14 + 1
        b.eq    .Lparse_content_length
        // "transfer-encoding": the words are read for any other name too, and stay within the read buffer's
        // slack even after a line as short as "X:" and its LF
        ldrb    w9, [line, #8]
        cmp     w9, #'-'
        ldr     x9, word_transfer
        ccmp    x0, x9, #0, eq
        ccmp    x5, #17 + 1, #0, eq
        ldr     x0, [line, #9]
        orr     x0, x0, #LOWER_8
        ldr     x9, word_encoding
        ccmp    x0, x9, #0, eq
        b.ne    .Lparse_header
        orr     facts, facts, #Q_TRANSFER
        b       .Lparse_header
.Lparse_host:
        ldr     w9, word_host
        cmp     w0, w9
        b.ne    .Lparse_header
        tbnz    facts, #Q_HOST_BIT, .Lparse_bad // a second Host is an error
        orr     facts, facts, #Q_HOST
        mov     line, mark                      // and so is an invalid value (RFC 9112 3.2)
        bl      skip_spaces
        bl      check_host
        b.cs    .Lparse_bad
        b       .Lparse_value_ends
.Lparse_content_length:
        ldr     x9, word_content
        cmp     x0, x9
        ldr     x0, [line, #6]
        orr     x0, x0, #LOWER_8
        ldr     x9, word_length
        ccmp    x0, x9, #0, eq
        b.ne    .Lparse_header
        tbnz    facts, #Q_LENGTH_BIT, .Lparse_bad // a second Content-Length is an error
        orr     facts, facts, #Q_LENGTH
        mov     line, mark
        bl      skip_spaces
        add     mark, line, #1                  // (so that mark ends up at the digits' count - 1)
        mov     x5, #10
1:      ldrb    w0, [line]                      // (the line's CR or LF ends the digits too)
        sub     w0, w0, #'0'
        cmp     w0, #9
        b.hi    2f
        madd    body, body, x5, x0
        add     line, line, #1
        b       1b
2:      sub     mark, line, mark
        cmp     mark, #15 - 1                   // 1 to 15 digits (none: mark is -1)
        b.hi    .Lparse_bad
.Lparse_value_ends:
        bl      skip_spaces                     // only spaces and tabs may follow the value
        cmp     line, line_end
        b.ne    .Lparse_bad
        b       .Lparse_header
.Lparse_connection:
        ldr     x9, word_connecti
        cmp     x0, x9
        ldrh    w0, [line, #8]                  // "on", in upper case: and-ing 0xdf folds case as or-ing 0x20
        and     w0, w0, #0xdfdfdfdf
        mov     w9, #'O' | 'N' << 8
        ccmp    w0, w9, #0, eq
        b.ne    .Lparse_header
        sub     cursor, mark, #1                // the ':', then each element's ','
.Lparse_element:
        // The value is a list (RFC 9110 5.6.1): elements between commas, with spaces and tabs around them; an
        // empty element matches nothing, and so does one with a space or tab inside.
        add     line, cursor, #1
        bl      skip_spaces                     // line: the element's first byte
        sub     cursor, line, #1
1:      ldrb    w0, [cursor, #1]!               // cursor: the next ',' or the line's end
        cmp     w0, #','
        ccmp    cursor, line_end, #2, ne        // (a comma: nzcv = C, hs)
        b.lo    1b
        mov     x5, cursor                      // back over the spaces and tabs before it (at the latest
2:      ldurb   w9, [x5, #-1]                   // to the ':' or ',' before the element)
        cmp     w9, #' '
        ccmp    w9, #9, #4, ne                  // Z = 1 for a space or a tab
        b.ne    3f
        sub     x5, x5, #1
        b       2b
3:      sub     x5, x5, line                    // the element's length (an empty one's may be negative)
        ldr     x0, [line]
        orr     x0, x0, #LOWER_8
        ldr     x9, word_close
        cmp     x9, x0, lsl #24                 // the first 5 bytes, "close"
        ccmp    x5, #5, #0, eq
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_CLOSE_BIT
        ldr     x9, word_keep_ali
        cmp     x0, x9
        ccmp    x5, #10, #0, eq
        ldrh    w0, [line, #8]                  // "ve", in upper case (for a short token too, as above)
        and     w0, w0, #0xdfdfdfdf
        mov     w9, #'V' | 'E' << 8
        ccmp    w0, w9, #0, eq
        cset    w9, eq
        orr     facts, facts, w9, lsl #Q_KEEP_ALIVE_BIT
        cmp     cursor, line_end                // the comma, or the line's end
        b.lo    .Lparse_element
        b       .Lparse_header

.Lparse_head_end:
        adr     x0, response_501
        tbnz    facts, #Q_TRANSFER_BIT, .Lparse_error
        tbz     facts, #Q_V11_BIT, .Lparse_persistence
        tbz     facts, #Q_HOST_BIT, .Lparse_bad // HTTP/1.1 requires Host
        orr     facts, facts, #Q_KEEP_ALIVE     // and persists by default
.Lparse_persistence:
        // "close" wins in either version (RFC 9112 9.3); HTTP/1.0 persists only with "keep-alive"
        ubfx    w3, facts, #Q_KEEP_ALIVE_BIT, #1
        eor     w3, w3, #1
        ubfx    w9, facts, #Q_CLOSE_BIT, #1
        orr     w3, w3, w9
        ldrb    w5, [state, #draining]
        orr     w3, w3, w5                      // and every connection closes after shutdown began
        lsl     w3, w3, #R_CLOSE_BIT
.Lparse_choose:
        adr     x0, response_405
        tbnz    facts, #Q_METRICS_BIT, .Lparse_metrics
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
.Lparse_head_flag:
        bfxil   w3, facts, #Q_HEAD_BIT, #1      // R_HEAD: no body for HEAD, whatever the status (RFC 9110 9.3.2)
.Lparse_return:
        ldr     x30, [sp], #16
        ret
.Lparse_metrics:
        tst     facts, #Q_GET | Q_HEAD          // x0: response_405
        b.eq    .Lparse_done
        adr     x0, response_metrics
        b       .Lparse_done

.Lparse_incomplete:
        sub     x0, input_end, head
        cmp     x0, #HEAD_MAX
        adr     x0, response_431
        b.hs    .Lparse_error
        mov     x0, #0
        mov     w3, #0
        b       .Lparse_head_flag
.Lparse_bad:
        adr     x0, response_400
.Lparse_error:
        mov     w3, #R_CLOSE | R_LINGER
        mov     body, #0
        mov     w2, #0
        b       .Lparse_head_flag

// check_host: moves past a Host value's uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal (an
// IPv6 address or an IPvFuture in brackets), or a reg-name of unreserved, pct-encoded and sub-delims (an IPv4
// address is one), possibly empty; then ":" and port digits, possibly none.
// IN: line (x1) = the value's first byte, in a line that ends with CR or LF (which no rule here takes)
// OUT: C = 1 if the value does not start with one, else line = the first byte after it
// CLOBBERS: x0, x3, x5, x9, x12, x13
check_host:
        pieces  .req w12                        // IPv6 pieces seen (an IPv4 address is two)
        gap     .req w13                        // whether "::" was seen
        start   .req x5                         // a piece's first byte, then the IPv4 octets still to come
        hosts   .req x3                         // host_chars
        str     x30, [sp, #-16]!
        adr     hosts, host_chars
        ldrb    w0, [line]
        cmp     w0, #'['
        b.eq    .Lhost_ip_literal
.Lhost_reg_name:
        ldrb    w0, [line]
        char_bit hosts
        tbnz    w9, #0, .Lhost_reg_next
        cmp     w0, #'%'
        b.ne    .Lhost_port
        add     line, line, #1                  // pct-encoded: "%" and two hex digits
        bl      check_hex_digit
        b.cs    .Lhost_invalid
        add     line, line, #1
        bl      check_hex_digit
        b.cs    .Lhost_invalid
.Lhost_reg_next:
        add     line, line, #1
        b       .Lhost_reg_name
.Lhost_ip_literal:
        ldrb    w0, [line, #1]!
        orr     w0, w0, #0x20
        cmp     w0, #'v'
        b.eq    .Lhost_future
        // IPv6address: up to 8 pieces of 1-4 hex digits between colons, one "::" standing for one or more
        // pieces, the last two pieces possibly an IPv4 address.
        mov     pieces, #0
        mov     gap, #0
        ldrb    w0, [line]
        cmp     w0, #':'
        b.ne    .Lhost_piece
        ldrb    w0, [line, #1]!                 // a leading ':' only as "::"
        cmp     w0, #':'
        b.ne    .Lhost_invalid
.Lhost_gap:
        cbnz    gap, .Lhost_invalid             // a second "::"
        mov     gap, #1
        ldrb    w0, [line, #1]!
        cmp     w0, #']'
        b.eq    .Lhost_literal_end
.Lhost_piece:
        mov     start, line
1:      bl      check_hex_digit
        b.cs    2f
        add     line, line, #1
        sub     x9, line, start
        cmp     x9, #4
        b.lo    1b
2:      ldrb    w0, [line]
        cmp     w0, #'.'
        b.eq    .Lhost_ipv4
        cmp     line, start
        b.eq    .Lhost_invalid                  // an empty piece
        add     pieces, pieces, #1
        cmp     pieces, #8
        b.hi    .Lhost_invalid
        cmp     w0, #']'
        b.eq    .Lhost_literal_end
        cmp     w0, #':'
        b.ne    .Lhost_invalid
        ldrb    w0, [line, #1]!
        cmp     w0, #':'
        b.eq    .Lhost_gap
        b       .Lhost_piece
.Lhost_ipv4:
        mov     line, start                     // four dec-octets: 0-255, no leading zeros
        add     pieces, pieces, #2
        mov     start, #4
.Lhost_octet:
        ldrb    w9, [line], #1
        sub     w9, w9, #'0'
        cmp     w9, #9
        b.hi    .Lhost_invalid
        cbz     w9, 4f                          // "0" is a whole octet
3:      ldrb    w0, [line]
        sub     w0, w0, #'0'
        cmp     w0, #9
        b.hi    4f
        add     w9, w9, w9, lsl #2
        add     w9, w0, w9, lsl #1              // w9 * 10 + the digit
        add     line, line, #1
        cmp     w9, #255
        b.ls    3b
        b       .Lhost_invalid
4:      subs    start, start, #1
        b.eq    .Lhost_literal_end
        ldrb    w0, [line], #1
        cmp     w0, #'.'
        b.eq    .Lhost_octet
        b       .Lhost_invalid
.Lhost_literal_end:
        ldrb    w0, [line]
        cmp     w0, #']'
        b.ne    .Lhost_invalid
        add     pieces, pieces, gap             // "::" stands for one piece at least
        cmp     pieces, #8
        b.hi    .Lhost_invalid
        ccmp    gap, #0, #0, lo                 // fewer than 8 pieces without "::" (8: nzcv = 0, ne)
        b.eq    .Lhost_invalid
        b       .Lhost_literal_done
.Lhost_future:
        add     line, line, #1                  // IPvFuture: "v", hex digits, ".", then 1+ of
        bl      check_hex_digit                 // unreserved, sub-delims and ":"
        b.cs    .Lhost_invalid
1:      add     line, line, #1
        bl      check_hex_digit
        b.cc    1b
        ldrb    w0, [line]
        cmp     w0, #'.'
        b.ne    .Lhost_invalid
        ldrb    w0, [line, #1]!
        cmp     w0, #']'
        b.eq    .Lhost_invalid
2:      ldrb    w0, [line]
        cmp     w0, #':'
        b.eq    3f
        char_bit hosts
        tbz     w9, #0, .Lhost_future_end
3:      add     line, line, #1
        b       2b
.Lhost_future_end:
        cmp     w0, #']'
        b.ne    .Lhost_invalid
.Lhost_literal_done:
        add     line, line, #1                  // past the "]"
.Lhost_port:
        ldrb    w0, [line]
        cmp     w0, #':'
        b.ne    .Lhost_valid
1:      ldrb    w0, [line, #1]!
        sub     w0, w0, #'0'
        cmp     w0, #9
        b.ls    1b
.Lhost_valid:
        clear_carry
        b       .Lhost_return
.Lhost_invalid:
        set_carry
.Lhost_return:
        ldr     x30, [sp], #16
        ret
        .unreq  pieces
        .unreq  gap
        .unreq  start
        .unreq  hosts

// check_hex_digit: tells whether the byte at line is a hex digit.
// IN: line (x1), at a byte of a header value (no controls but HT)   OUT: C = 1 if it is not one
// CLOBBERS: w0, w9
check_hex_digit:
        ldrb    w0, [line]
        orr     w0, w0, #0x20                   // lower-cases letters; digits have the bit (HT becomes ')')
        sub     w9, w0, #'0'
        sub     w0, w0, #'a'
        cmp     w9, #10                         // lo: a digit
        ccmp    w0, #6, #0, hs                  // else lo: a letter a-f (a digit: nzcv = 0, lo)
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
