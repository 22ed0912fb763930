; HTTP/1.x request heads: parsing, validation and the choice of response (docs/server.md, "Parsing rules").

; Facts gathered about a request while its head is parsed. Those tested with `test` are in the low byte, so
; that they are set and tested as facts_low (r10b) with an 8-bit immediate; Host and Content-Length go by bit
; number.
Q_GET           equ 1
Q_HEAD          equ 2
Q_V11           equ 4           ; HTTP/1.1 (else 1.0)
Q_PAGE          equ 8           ; path "/"
Q_HEALTH        equ 16          ; path "/health"
Q_TRANSFER      equ 32          ; a Transfer-Encoding header was seen
Q_CLOSE         equ 64          ; Connection lists "close"
Q_KEEP_ALIVE    equ 128         ; Connection lists "keep-alive"
Q_HOST_BIT      equ 8           ; a Host header was seen
Q_LENGTH_BIT    equ 9           ; a Content-Length header was seen
Q_METRICS_BIT   equ 10          ; path "/metrics" (a route only on connections with F_METRICS)

LOWER_8         equ 0x2020202020202020      ; or-ed into letters (and '-') makes them lower case

%if Q_HEAD != R_HEAD << 1
%error "parse_request makes R_HEAD of Q_HEAD with one shift"
%endif
%if (Q_GET | Q_HEAD | Q_V11 | Q_PAGE | Q_HEALTH | Q_TRANSFER | Q_CLOSE | Q_KEEP_ALIVE) > 0xff
%error "the facts tested with `test` must fit facts_low"
%endif

; Registers of the parser, named as in the arm64 tree.
%define line            rsi     ; the line being parsed, then a cursor in it
%define line_end        rdx     ; the end of its content (its CR or LF)
%define body            r9      ; the body length to discard
%define input_end       rdi
%define head            r11     ; the head's first byte
%define facts           r10d    ; Q_*
%define facts_low       r10b    ; ...whose low byte holds those tested with `test`
%define next            rbp     ; the next line's start
%define mark            rbx
%define cursor          rcx

; parse_request: parses one request head at the start of the input and chooses its response.
; The target is scanned once (every byte visible, and the first '?', where the path ends), then its form is
; read from its start, as in the arm64 tree.
; IN:  rsi = the head's first byte, ecx = bytes available (> 0), rbx = the connection's record
; OUT: rax = response descriptor (response_metrics for /metrics: render_metrics makes it), or 0 when the head
;      is not complete yet
;      edx = length of the head; r8d = R_* flags (when the head is not complete: R_HEAD if it is a HEAD
;      request's, so that a 408 for it has no body either); r9 = body length to discard; r10d = Q_* facts,
;      which tell the route (count_request)
; CLOBBERS: rcx, rsi, rdi, r11
parse_request:
        xor     facts, facts
        push    rbx
        push    rbp
        mov     head, line
        lea     input_end, [line + rcx]
        xor     body, body
.request_line:
        cmp     dword [line], 'HEAD'            ; known before the line ends: a 431 for HEAD has no body
        jne     .not_head
        cmp     byte [line + 4], ' '
        jne     .not_head
        or      facts_low, Q_HEAD
.not_head:
        call    next_line
        jc      .incomplete
        mov     next, rax
        cmp     line_end, line
        jne     .method
        mov     line, rax                       ; empty lines before a request are ignored (RFC 9112 2.2)
        jmp     .request_line
.method:
        mov     cursor, line
.method_char:
        movzx   eax, byte [cursor]
        bt      [token_chars], eax
        jnc     .method_end
        inc     cursor
        jmp     .method_char
.method_end:
        cmp     cursor, line
        je      .bad
        cmp     byte [cursor], ' '
        jne     .bad
        cmp     dword [line], 'GET '
        jne     .not_get
        or      facts_low, Q_GET
.not_get:
        lea     line, [cursor + 1]              ; the target: every byte visible, up to the space
        mov     cursor, line
        xor     mark, mark                      ; the first '?', which ends the path
.target_char:
        movzx   eax, byte [cursor]
        cmp     al, ' '
        je      .target_end
        sub     al, 0x21                        ; visible characters only
        cmp     al, 0x7e - 0x21
        ja      .bad
        cmp     al, '?' - 0x21
        jne     .target_next
        test    mark, mark
        jnz     .target_next
        mov     mark, cursor
.target_next:
        inc     cursor
        jmp     .target_char
.target_end:
        test    mark, mark
        jnz     .form
        mov     mark, cursor                    ; the path's end
.form:
        cmp     byte [line], '/'
        je      .path                           ; origin-form
        ; Absolute-form (RFC 9112 3.2.2): "http://" or "https://" in any case, then the authority, then the
        ; path, which may be empty. Or-ing 0x20 lower-cases letters and leaves ':' and '/' as they are (the bytes
        ; it would turn into them are controls, refused above). A match lies within the target, which has no
        ; space.
        mov     eax, [line]
        or      eax, 0x20202020
        cmp     eax, 'http'
        jne     .bad
        add     line, 4
        mov     al, [line]
        or      al, 0x20
        cmp     al, 's'
        jne     .colon_slashes
        inc     line
.colon_slashes:
        cmp     word [line], ':/'
        jne     .bad
        cmp     byte [line + 2], '/'
        jne     .bad
        add     line, 3
        mov     rax, line                       ; the authority ends at '/', or at mark (the first '?' or the
.authority_char:                                ; space); the scheme has neither
        cmp     line, mark
        je      .authority_end
        cmp     byte [line], '/'
        je      .authority_end
        cmp     byte [line], '@'
        je      .bad                            ; userinfo is an error (RFC 9110 4.2.4)
        inc     line
        jmp     .authority_char
.authority_end:
        cmp     line, rax
        je      .bad                            ; no host
.path:
        sub     mark, line                      ; path length
        cmp     mark, 1
        ja      .not_root                       ; "/", or an absolute-form target's empty path
        or      facts_low, Q_PAGE
.not_root:
        cmp     mark, 8
        jne     .not_metrics
        mov     rax, '/metrics'
        cmp     [line], rax
        jne     .version
        mov     rax, [rsp + 8]                  ; the connection's record (pushed above): does it serve /metrics?
        test    byte [rax + C_FLAGS], F_METRICS
        jz      .version
        bts     facts, Q_METRICS_BIT
        jmp     .version
.not_metrics:
        cmp     mark, 7
        jne     .version
        cmp     dword [line], '/hea'
        jne     .version
        cmp     dword [line + 3], 'alth'
        jne     .version
        or      facts_low, Q_HEALTH
.version:
        lea     line, [cursor + 1]              ; "HTTP/d.d" and the line's end
        lea     rax, [line + 8]
        cmp     rax, line_end
        jne     .bad
        cmp     dword [line], 'HTTP'
        jne     .bad
        cmp     byte [line + 4], '/'
        jne     .bad
        cmp     byte [line + 6], '.'
        jne     .bad
        mov     al, [line + 5]                  ; major
        sub     al, '0'
        cmp     al, 9
        ja      .bad
        mov     ah, [line + 7]                  ; minor
        sub     ah, '0'
        cmp     ah, 9
        ja      .bad
        cmp     al, 1
        jne     .unsupported                    ; 505 is for a major version (RFC 9110 15.6.6)
        test    ah, ah
        jz      .header                         ; 1.0
        or      facts_low, Q_V11                ; 1.1, and 1.2-1.9 as 1.1 (RFC 9110 2.5)

.header:
        mov     line, next
        call    next_line
        jc      .incomplete
        mov     next, rax
        cmp     line_end, line
        je      .head_end
        mov     mark, line                      ; name: token characters, then ':'
.name_char:
        movzx   eax, byte [mark]
        bt      [token_chars], eax
        jnc     .name_end
        inc     mark
        jmp     .name_char
.name_end:
        cmp     mark, line
        je      .bad                            ; also obsolete line folding (a leading space)
        cmp     byte [mark], ':'
        jne     .bad
        lea     cursor, [mark + 1]              ; value: HT, SP, visible, or obs-text
.value_char:
        cmp     cursor, line_end
        jae     .value_end
        mov     al, [cursor]
        inc     cursor
        cmp     al, 9
        je      .value_char
        cmp     al, 0x20
        jb      .bad
        cmp     al, 0x7f
        je      .bad
        jmp     .value_char
.value_end:
        mov     rcx, mark
        sub     rcx, line                       ; name length
        mov     r8, LOWER_8
        cmp     ecx, 4
        je      .host
        cmp     ecx, 10
        je      .connection
        cmp     ecx, 14
        je      .content_length
        cmp     ecx, 17
        jne     .header
        mov     rax, [line]                     ; transfer-encoding
        or      rax, r8
        mov     rcx, 'transfer'
        cmp     rax, rcx
        jne     .header
        mov     rax, [line + 8]
        or      rax, r8
        mov     rcx, '-encodin'
        cmp     rax, rcx
        jne     .header
        mov     al, [line + 16]
        or      al, r8b
        cmp     al, 'g'
        jne     .header
        or      facts_low, Q_TRANSFER
        jmp     .header
.host:
        mov     eax, [line]
        or      eax, r8d
        cmp     eax, 'host'
        jne     .header
        bts     facts, Q_HOST_BIT               ; a second Host is an error
        jc      .bad
        lea     line, [mark + 1]                ; and so is an invalid value (RFC 9112 3.2)
        call    skip_spaces
        call    check_host
        jc      .bad
        jmp     .value_ends
.content_length:
        mov     rax, [line]
        or      rax, r8
        mov     rcx, 'content-'
        cmp     rax, rcx
        jne     .header
        mov     rax, [line + 6]
        or      rax, r8
        mov     rcx, 't-length'
        cmp     rax, rcx
        jne     .header
        bts     facts, Q_LENGTH_BIT             ; a second Content-Length is an error
        jc      .bad
        lea     line, [mark + 1]
        call    skip_spaces
        mov     mark, line
.digit:
        movzx   eax, byte [line]                ; (the line's CR or LF ends the digits too)
        sub     eax, '0'
        cmp     eax, 9
        ja      .digits_end
        imul    body, body, 10
        add     body, rax
        inc     line
        jmp     .digit
.digits_end:
        sub     mark, line
        neg     mark                            ; digits
        jz      .bad
        cmp     mark, 15
        ja      .bad
.value_ends:
        call    skip_spaces                     ; only spaces and tabs may follow the value
        cmp     line, line_end
        jne     .bad
        jmp     .header
.connection:
        mov     rax, [line]
        or      rax, r8
        mov     rcx, 'connecti'
        cmp     rax, rcx
        jne     .header
        mov     ax, [line + 8]
        or      ax, r8w
        cmp     ax, 'on'
        jne     .header
        mov     cursor, mark                    ; the ':', then each element's ','
.element:
        ; The value is a list (RFC 9110 5.6.1): elements between commas, with spaces and tabs around them; an
        ; empty element matches nothing, and so does one with a space or tab inside.
        lea     line, [cursor + 1]
        call    skip_spaces                     ; line: the element's first byte
        mov     cursor, line
.element_char:
        cmp     cursor, line_end                ; cursor: the next ',' or the line's end
        jae     .element_end
        cmp     byte [cursor], ','
        je      .element_end
        inc     cursor
        jmp     .element_char
.element_end:
        mov     rax, cursor                     ; back over the spaces and tabs before it (at the latest to the
.trim:                                          ; ':' or ',' before the element)
        cmp     byte [rax - 1], ' '
        je      .trim_one
        cmp     byte [rax - 1], 9
        jne     .trimmed
.trim_one:
        dec     rax
        jmp     .trim
.trimmed:
        sub     rax, line                       ; the element's length (an empty one's may be negative)
        cmp     rax, 5
        jne     .keep_alive
        mov     eax, [line]
        or      eax, r8d
        cmp     eax, 'clos'
        jne     .element_done
        mov     al, [line + 4]
        or      al, r8b
        cmp     al, 'e'
        jne     .element_done
        or      facts_low, Q_CLOSE
        jmp     .element_done
.keep_alive:
        cmp     rax, 10
        jne     .element_done
        mov     rax, [line]
        or      rax, r8
        mov     mark, 'keep-ali'
        cmp     rax, mark
        jne     .element_done
        mov     ax, [line + 8]
        or      ax, r8w
        cmp     ax, 've'
        jne     .element_done
        or      facts_low, Q_KEEP_ALIVE
.element_done:
        cmp     cursor, line_end                ; the comma, or the line's end
        jb      .element
        jmp     .header

.head_end:
        test    facts_low, Q_TRANSFER
        jnz     .not_implemented
        test    facts_low, Q_V11
        jz      .persistence
        bt      facts, Q_HOST_BIT               ; HTTP/1.1 requires Host
        jnc     .bad
        or      facts_low, Q_KEEP_ALIVE         ; and persists by default
.persistence:
        ; "close" wins in either version (RFC 9112 9.3); HTTP/1.0 persists only with "keep-alive"
        mov     r8d, R_CLOSE
        test    facts_low, Q_CLOSE
        jnz     .choose
        test    facts_low, Q_KEEP_ALIVE
        jz      .choose
        cmp     byte [draining], 0              ; and every connection closes after shutdown began
        jne     .choose
        xor     r8d, r8d
.choose:
        mov     eax, response_405
        bt      facts, Q_METRICS_BIT
        jc      .metrics
        mov     eax, response_404
        test    facts_low, Q_PAGE | Q_HEALTH
        jz      .done
        mov     eax, response_405
        test    facts_low, Q_GET | Q_HEAD
        jz      .done
        mov     eax, response_page
        test    facts_low, Q_PAGE
        jnz     .done
        mov     eax, response_health
        cmp     byte [draining], 0
        je      .done
        mov     eax, response_503
.done:
        mov     rdx, next
        sub     rdx, head
.head_flag:
        mov     ecx, facts                      ; R_HEAD: no body for HEAD, whatever the status (RFC 9110 9.3.2)
        shr     ecx, 1
        and     ecx, R_HEAD
        or      r8d, ecx
.return:
        pop     rbp
        pop     rbx
        ret
.metrics:
        test    facts_low, Q_GET | Q_HEAD       ; eax: response_405
        jz      .done
        mov     eax, response_metrics
        jmp     .done

.incomplete:
        mov     rax, input_end
        sub     rax, head
        cmp     eax, HEAD_MAX
        mov     eax, response_431
        jae     .error
        xor     eax, eax
        xor     r8d, r8d
        jmp     .head_flag
.not_implemented:
        mov     eax, response_501
        jmp     .error
.unsupported:
        mov     eax, response_505
        jmp     .error
.bad:
        mov     eax, response_400
.error:
        mov     r8d, R_CLOSE | R_LINGER
        xor     body, body
        xor     edx, edx
        jmp     .head_flag

; check_host: moves past a Host value's uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal (an
; IPv6 address or an IPvFuture in brackets), or a reg-name of unreserved, pct-encoded and sub-delims (an IPv4
; address is one), possibly empty; then ":" and port digits, possibly none.
; IN: line (rsi) = the value's first byte, in a line that ends with CR or LF (which no rule here takes)
; OUT: CF = 1 if the value does not start with one, else line = the first byte after it
; CLOBBERS: rax, rbx, rcx, r8
%define pieces          cl      ; IPv6 pieces seen (an IPv4 address is two)
%define gap             ch      ; whether "::" was seen
%define start           r8      ; a piece's first byte, then the IPv4 octets still to come
check_host:
        cmp     byte [line], '['
        je      .ip_literal
.reg_name:
        movzx   eax, byte [line]
        bt      [host_chars], eax
        jc      .reg_next
        cmp     al, '%'
        jne     .port
        inc     line                            ; pct-encoded: "%" and two hex digits
        call    check_hex_digit
        jc      .invalid
        inc     line
        call    check_hex_digit
        jc      .invalid
.reg_next:
        inc     line
        jmp     .reg_name
.ip_literal:
        inc     line
        mov     al, [line]
        or      al, 0x20
        cmp     al, 'v'
        je      .future
        ; IPv6address: up to 8 pieces of 1-4 hex digits between colons, one "::" standing for one or more
        ; pieces, the last two pieces possibly an IPv4 address.
        xor     ecx, ecx                        ; pieces and gap
        cmp     byte [line], ':'
        jne     .piece
        inc     line                            ; a leading ':' only as "::"
        cmp     byte [line], ':'
        jne     .invalid
.gap:
        test    gap, gap
        jnz     .invalid                        ; a second "::"
        inc     gap
        inc     line
        cmp     byte [line], ']'
        je      .literal_end
.piece:
        mov     start, line
.piece_digit:
        call    check_hex_digit
        jc      .piece_end
        inc     line
        lea     rax, [start + 4]
        cmp     line, rax
        jb      .piece_digit
.piece_end:
        cmp     byte [line], '.'
        je      .ipv4
        cmp     line, start
        je      .invalid                        ; an empty piece
        inc     pieces
        cmp     pieces, 8
        ja      .invalid
        cmp     byte [line], ']'
        je      .literal_end
        cmp     byte [line], ':'
        jne     .invalid
        inc     line
        cmp     byte [line], ':'
        je      .gap
        jmp     .piece
.ipv4:
        mov     line, start                     ; four dec-octets: 0-255, no leading zeros
        add     pieces, 2
        mov     start, 4
.octet:
        movzx   eax, byte [line]
        sub     eax, '0'
        cmp     eax, 9
        ja      .invalid
        inc     line
        test    eax, eax
        jz      .octet_end                      ; "0" is a whole octet
.octet_digit:
        movzx   ebx, byte [line]
        sub     ebx, '0'
        cmp     ebx, 9
        ja      .octet_end
        imul    eax, eax, 10
        add     eax, ebx
        inc     line
        cmp     eax, 255
        jbe     .octet_digit
        jmp     .invalid
.octet_end:
        dec     start
        jz      .literal_end
        cmp     byte [line], '.'
        jne     .invalid
        inc     line
        jmp     .octet
.literal_end:
        cmp     byte [line], ']'
        jne     .invalid
        add     pieces, gap                     ; "::" stands for one piece at least
        cmp     pieces, 8
        ja      .invalid
        je      .literal_done
        test    gap, gap
        jz      .invalid                        ; fewer than 8 pieces without "::"
        jmp     .literal_done
.future:
        inc     line                            ; IPvFuture: "v", hex digits, ".", then 1+ of
        call    check_hex_digit                 ; unreserved, sub-delims and ":"
        jc      .invalid
.future_hex:
        inc     line
        call    check_hex_digit
        jnc     .future_hex
        cmp     byte [line], '.'
        jne     .invalid
        inc     line
        cmp     byte [line], ']'
        je      .invalid
.future_char:
        movzx   eax, byte [line]
        cmp     al, ':'
        je      .future_next
        bt      [host_chars], eax
        jnc     .future_end
.future_next:
        inc     line
        jmp     .future_char
.future_end:
        cmp     byte [line], ']'
        jne     .invalid
.literal_done:
        inc     line                            ; past the "]"
.port:
        cmp     byte [line], ':'
        jne     .valid
.port_digit:
        inc     line
        movzx   eax, byte [line]
        sub     eax, '0'
        cmp     eax, 9
        jbe     .port_digit
.valid:
        clc
        ret
.invalid:
        stc
        ret

; check_hex_digit: tells whether the byte at line is a hex digit.
; IN: line (rsi), at a byte of a header value (no controls but HT)   OUT: CF = 1 if it is not one   CLOBBERS: eax
check_hex_digit:
        mov     al, [line]
        or      al, 0x20                        ; lower-cases letters; digits have the bit (HT becomes ')')
        sub     al, '0'
        cmp     al, 10                          ; CF = 1: a digit
        jb      .done
        sub     al, 'a' - '0'
        cmp     al, 6                           ; CF = 1: a letter a-f
.done:
        cmc
        ret

; next_line: finds the end of the line that starts at line.
; IN: line (rsi), input_end (rdi)
; OUT: CF = 1 if no LF yet, else line_end (rdx) = end of the line's content (its CR or LF), rax = next line's start
; CLOBBERS: nothing else
next_line:
        mov     rax, line
.scan:
        cmp     rax, input_end
        jae     .more
        cmp     byte [rax], 10
        je      .found
        inc     rax
        jmp     .scan
.found:
        mov     line_end, rax
        inc     rax
        cmp     line_end, line
        je      .done
        cmp     byte [line_end - 1], 13
        jne     .done
        dec     line_end
.done:
        clc
        ret
.more:
        stc
        ret

; skip_spaces: moves past spaces and tabs.
; IN: line (rsi) in a line that ends with CR or LF   OUT: line at the first other byte   CLOBBERS: nothing
skip_spaces:
        cmp     byte [line], ' '
        je      .skip
        cmp     byte [line], 9
        jne     .done
.skip:
        inc     line
        jmp     skip_spaces
.done:
        ret

%undef line
%undef line_end
%undef body
%undef input_end
%undef head
%undef facts
%undef facts_low
%undef next
%undef mark
%undef cursor
%undef pieces
%undef gap
%undef start
