; HTTP/1.x request heads: parsing, validation and the choice of response (docs/server.md, "Parsing rules").

; Facts gathered about a request while its head is parsed. Those tested with `test` are in the low byte, so
; that they are set and tested as r10b with an 8-bit immediate; Host and Content-Length go by bit number.
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

LOWER_8         equ 0x2020202020202020      ; or-ed into letters (and '-') makes them lower case

%if Q_HEAD != R_HEAD << 1
%error "parse_request makes R_HEAD of Q_HEAD with one shift"
%endif

; parse_request: parses one request head at the start of the input and chooses its response.
; IN:  rsi = the head's first byte, ecx = bytes available (> 0)
; OUT: rax = response descriptor, or 0 when the head is not complete yet
;      edx = length of the head; r8d = R_* flags (when the head is not complete: R_HEAD if it is a HEAD
;      request's, so that a 408 for it has no body either); r9 = body length to discard
; CLOBBERS: rcx, rsi, rdi, r10, r11
parse_request:
        push    rbx
        push    rbp
        mov     r11, rsi                        ; start of the head
        lea     rdi, [rsi + rcx]                ; end of the input
        xor     r10d, r10d
        xor     r9d, r9d
.request_line:
        cmp     dword [rsi], 'HEAD'             ; known before the line ends: a 431 for HEAD has no body
        jne     .not_head
        cmp     byte [rsi + 4], ' '
        jne     .not_head
        or      r10b, Q_HEAD
.not_head:
        call    next_line
        jc      .incomplete
        mov     rbp, rax
        cmp     rdx, rsi
        jne     .method
        mov     rsi, rax                        ; empty lines before a request are ignored (RFC 9112 2.2)
        jmp     .request_line
.method:
        mov     rcx, rsi
.method_char:
        movzx   eax, byte [rcx]
        bt      [token_chars], eax
        jnc     .method_end
        inc     rcx
        jmp     .method_char
.method_end:
        cmp     rcx, rsi
        je      .bad
        cmp     byte [rcx], ' '
        jne     .bad
        cmp     dword [rsi], 'GET '
        jne     .not_get
        or      r10b, Q_GET
.not_get:
        lea     rsi, [rcx + 1]
        cmp     byte [rsi], '/'
        je      .path
        ; Absolute-form (RFC 9112 3.2.2), "http://" or "https://" in any case, then the authority: the path
        ; follows it and may be empty. Or-ing 0x20 lower-cases the scheme's letters; only letters become
        ; these letters that way, so ':' and '/' are compared as they are.
        mov     eax, [rsi]
        or      eax, 0x20202020
        cmp     eax, 'http'
        jne     .bad
        add     rsi, 4
        mov     al, [rsi]
        or      al, 0x20
        cmp     al, 's'
        jne     .colon_slashes
        inc     rsi
.colon_slashes:
        cmp     word [rsi], ':/'
        jne     .bad
        cmp     byte [rsi + 2], '/'
        jne     .bad
        add     rsi, 3
.authority:
        mov     rcx, rsi
.authority_char:
        movzx   eax, byte [rcx]
        cmp     al, '/'
        je      .authority_end
        cmp     al, '?'
        je      .authority_end
        cmp     al, ' '
        je      .authority_end
        cmp     al, '@'
        je      .bad                            ; userinfo: an error (RFC 9110 4.2.4)
        sub     al, 0x21
        cmp     al, 0x7e - 0x21
        ja      .bad
        inc     rcx
        jmp     .authority_char
.authority_end:
        cmp     rcx, rsi
        je      .bad                            ; no host
        mov     rsi, rcx
.path:
        mov     rcx, rsi
        xor     ebx, ebx                        ; the first '?', which ends the path
.target_char:
        movzx   eax, byte [rcx]
        cmp     al, ' '
        je      .target_end
        sub     al, 0x21                        ; visible characters only
        cmp     al, 0x7e - 0x21
        ja      .bad
        cmp     al, '?' - 0x21
        jne     .target_next
        test    rbx, rbx
        jnz     .target_next
        mov     rbx, rcx
.target_next:
        inc     rcx
        jmp     .target_char
.target_end:
        test    rbx, rbx
        jnz     .route
        mov     rbx, rcx
.route:
        sub     ebx, esi                        ; path length (lengths within the input fit 32 bits)
        cmp     ebx, 1
        ja      .not_root                       ; "/", or the empty path of an absolute-form target
        or      r10b, Q_PAGE
.not_root:
        cmp     ebx, 7
        jne     .version
        cmp     dword [rsi], '/hea'
        jne     .version
        cmp     dword [rsi + 3], 'alth'
        jne     .version
        or      r10b, Q_HEALTH
.version:
        lea     rsi, [rcx + 1]                  ; "HTTP/d.d" and the line's end
        lea     rax, [rsi + 8]
        cmp     rax, rdx
        jne     .bad
        cmp     dword [rsi], 'HTTP'
        jne     .bad
        cmp     byte [rsi + 4], '/'
        jne     .bad
        cmp     byte [rsi + 6], '.'
        jne     .bad
        mov     al, [rsi + 5]                   ; major
        sub     al, '0'
        cmp     al, 9
        ja      .bad
        mov     ah, [rsi + 7]                   ; minor
        sub     ah, '0'
        cmp     ah, 9
        ja      .bad
        cmp     al, 1
        jne     .unsupported                    ; 505 is for a major version (RFC 9110 15.6.6)
        test    ah, ah
        jz      .header                         ; 1.0
        or      r10b, Q_V11                     ; 1.1, and 1.2-1.9 as 1.1 (RFC 9110 2.5)

.header:
        mov     rsi, rbp
        call    next_line
        jc      .incomplete
        mov     rbp, rax
        cmp     rdx, rsi
        je      .head_end
        mov     rbx, rsi                        ; name: token characters, then ':'
.name_char:
        movzx   eax, byte [rbx]
        bt      [token_chars], eax
        jnc     .name_end
        inc     rbx
        jmp     .name_char
.name_end:
        cmp     rbx, rsi
        je      .bad                            ; also obsolete line folding (a leading space)
        cmp     byte [rbx], ':'
        jne     .bad
        lea     rcx, [rbx + 1]                  ; value: HT, SP, visible, or obs-text
.value_char:
        cmp     rcx, rdx
        jae     .value_end
        mov     al, [rcx]
        inc     rcx
        cmp     al, 9
        je      .value_char
        cmp     al, 0x20
        jb      .bad
        cmp     al, 0x7f
        je      .bad
        jmp     .value_char
.value_end:
        mov     ecx, ebx
        sub     ecx, esi                        ; name length
        mov     r8, LOWER_8
        cmp     ecx, 4
        je      .host
        cmp     ecx, 10
        je      .connection
        cmp     ecx, 14
        je      .content_length
        cmp     ecx, 17
        jne     .header
        mov     rax, [rsi]                      ; transfer-encoding
        or      rax, r8
        mov     rcx, 'transfer'
        cmp     rax, rcx
        jne     .header
        mov     rax, [rsi + 8]
        or      rax, r8
        mov     rcx, '-encodin'
        cmp     rax, rcx
        jne     .header
        mov     al, [rsi + 16]
        or      al, r8b
        cmp     al, 'g'
        jne     .header
        or      r10b, Q_TRANSFER
        jmp     .header
.host:
        mov     eax, [rsi]
        or      eax, r8d
        cmp     eax, 'host'
        jne     .header
        bts     r10d, Q_HOST_BIT                ; a second Host is an error
        jc      .bad
        lea     rsi, [rbx + 1]                  ; and so is an invalid value (RFC 9112 3.2)
        call    skip_spaces
        call    check_host
        jc      .bad
        jmp     .value_ends
.content_length:
        mov     rax, [rsi]
        or      rax, r8
        mov     rcx, 'content-'
        cmp     rax, rcx
        jne     .header
        mov     rax, [rsi + 6]
        or      rax, r8
        mov     rcx, 't-length'
        cmp     rax, rcx
        jne     .header
        bts     r10d, Q_LENGTH_BIT              ; a second Content-Length is an error
        jc      .bad
        lea     rsi, [rbx + 1]
        call    skip_spaces
        mov     rbx, rsi
.digit:
        cmp     rsi, rdx
        jae     .digits_end
        movzx   eax, byte [rsi]
        sub     eax, '0'
        cmp     eax, 9
        ja      .digits_end
        imul    r9, r9, 10
        add     r9, rax
        inc     rsi
        jmp     .digit
.digits_end:
        sub     ebx, esi
        neg     ebx                             ; digits
        jz      .bad
        cmp     ebx, 15
        ja      .bad
.value_ends:
        call    skip_spaces                     ; only spaces and tabs may follow the value
        cmp     rsi, rdx
        jne     .bad
        jmp     .header
.connection:
        mov     rax, [rsi]
        or      rax, r8
        mov     rcx, 'connecti'
        cmp     rax, rcx
        jne     .header
        mov     ax, [rsi + 8]
        or      ax, r8w
        cmp     ax, 'on'
        jne     .header
        lea     rsi, [rbx + 1]
.element:
        ; The value is a list (RFC 9110 5.6.1): elements between commas, with spaces and tabs around them; an
        ; empty element matches nothing, and so does one with a space or tab inside.
        call    skip_spaces
        mov     rcx, rsi                        ; the element's start
.element_char:
        cmp     rsi, rdx
        jae     .element_end
        cmp     byte [rsi], ','
        je      .element_end
        inc     rsi
        jmp     .element_char
.element_end:
        mov     rax, rsi                        ; back over the spaces and tabs before the comma
.trim:
        mov     bl, [rax - 1]
        cmp     bl, ' '
        je      .trim_one
        cmp     bl, 9
        jne     .trimmed
.trim_one:
        dec     rax                             ; (at the latest at the ':' or ',' before the element; an empty
        jmp     .trim                           ; element's length may come out negative: no match)
.trimmed:
        sub     eax, ecx                        ; the element's length
        cmp     eax, 5
        jne     .keep_alive
        mov     eax, [rcx]
        or      eax, r8d
        cmp     eax, 'clos'
        jne     .element_done
        mov     al, [rcx + 4]
        or      al, r8b
        cmp     al, 'e'
        jne     .element_done
        or      r10b, Q_CLOSE
        jmp     .element_done
.keep_alive:
        cmp     eax, 10
        jne     .element_done
        mov     rax, [rcx]
        or      rax, r8
        mov     rbx, 'keep-ali'
        cmp     rax, rbx
        jne     .element_done
        mov     ax, [rcx + 8]
        or      ax, r8w
        cmp     ax, 've'
        jne     .element_done
        or      r10b, Q_KEEP_ALIVE
.element_done:
        inc     rsi                             ; past the comma (or the line's end: then done)
        cmp     rsi, rdx
        jbe     .element
        jmp     .header

.head_end:
        test    r10b, Q_TRANSFER
        jnz     .not_implemented
        test    r10b, Q_V11
        jz      .persistence
        bt      r10d, Q_HOST_BIT                ; HTTP/1.1 requires Host
        jnc     .bad
        or      r10b, Q_KEEP_ALIVE              ; and persists by default
.persistence:
        ; "close" wins in either version (RFC 9112 9.3); HTTP/1.0 persists only with "keep-alive"
        mov     r8d, R_CLOSE
        test    r10b, Q_CLOSE
        jnz     .choose
        test    r10b, Q_KEEP_ALIVE
        jz      .choose
        cmp     byte [draining], 0
        jne     .choose
        xor     r8d, r8d
.choose:
        mov     eax, response_404
        test    r10b, Q_PAGE | Q_HEALTH
        jz      .done
        mov     eax, response_405
        test    r10b, Q_GET | Q_HEAD
        jz      .done
        mov     eax, response_page
        test    r10b, Q_PAGE
        jnz     .done
        mov     eax, response_health
        cmp     byte [draining], 0
        je      .done
        mov     eax, response_503
.done:
        mov     edx, ebp
        sub     edx, r11d
.head_flag:
        mov     ecx, r10d                       ; no body for HEAD, whatever the status (RFC 9110 9.3.2)
        shr     ecx, 1
        and     ecx, R_HEAD
        or      r8d, ecx
.return:
        pop     rbp
        pop     rbx
        ret

.incomplete:
        mov     eax, edi
        sub     eax, r11d
        cmp     eax, HEAD_MAX
        jae     .too_large
        xor     eax, eax
        xor     r8d, r8d
        jmp     .head_flag
.too_large:
        mov     eax, response_431
        jmp     .error
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
        xor     r9d, r9d
        xor     edx, edx
        jmp     .head_flag

; check_host: moves past a Host value's uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal (an
; IPv6 address or an IPvFuture in brackets), or a reg-name of unreserved, pct-encoded and sub-delims (an IPv4
; address is one), possibly empty; then ":" and port digits, possibly none.
; IN: rsi = the value's first byte, in a line that ends with CR or LF (which no rule here takes)
; OUT: CF = 1 if the value does not start with one, else rsi = the first byte after it
; CLOBBERS: rax, rbx, rcx, r8
check_host:
        cmp     byte [rsi], '['
        je      .ip_literal
.reg_name:
        movzx   eax, byte [rsi]
        bt      [host_chars], eax
        jc      .reg_next
        cmp     al, '%'
        jne     .port
        inc     rsi                             ; pct-encoded: "%" and two hex digits
        call    check_hex_digit
        jc      .invalid
        inc     rsi
        call    check_hex_digit
        jc      .invalid
.reg_next:
        inc     rsi
        jmp     .reg_name
.ip_literal:
        inc     rsi
        mov     al, [rsi]
        or      al, 0x20
        cmp     al, 'v'
        je      .future
        ; IPv6address: up to 8 pieces of 1-4 hex digits between colons, one "::" standing for one or more
        ; pieces, the last two pieces possibly an IPv4 address. cl counts the pieces, ch the "::".
        xor     ecx, ecx
        cmp     byte [rsi], ':'
        jne     .piece
        inc     rsi                             ; a leading ':' only as "::"
        cmp     byte [rsi], ':'
        jne     .invalid
.gap:
        test    ch, ch
        jnz     .invalid                        ; a second "::"
        inc     ch
        inc     rsi
        cmp     byte [rsi], ']'
        je      .literal_end
.piece:
        mov     r8, rsi
.piece_digit:
        call    check_hex_digit
        jc      .piece_end
        inc     rsi
        lea     rax, [r8 + 4]
        cmp     rsi, rax
        jb      .piece_digit
.piece_end:
        cmp     byte [rsi], '.'
        je      .ipv4
        cmp     rsi, r8
        je      .invalid                        ; an empty piece
        inc     cl
        cmp     cl, 8
        ja      .invalid
        cmp     byte [rsi], ']'
        je      .literal_end
        cmp     byte [rsi], ':'
        jne     .invalid
        inc     rsi
        cmp     byte [rsi], ':'
        je      .gap
        jmp     .piece
.ipv4:
        mov     rsi, r8                         ; four dec-octets: 0-255, no leading zeros
        add     cl, 2
        mov     r8d, 4
.octet:
        movzx   eax, byte [rsi]
        sub     eax, '0'
        cmp     eax, 9
        ja      .invalid
        inc     rsi
        test    eax, eax
        jz      .octet_end                      ; "0" is a whole octet
.octet_digit:
        movzx   ebx, byte [rsi]
        sub     ebx, '0'
        cmp     ebx, 9
        ja      .octet_end
        imul    eax, eax, 10
        add     eax, ebx
        inc     rsi
        cmp     eax, 255
        jbe     .octet_digit
        jmp     .invalid
.octet_end:
        dec     r8d
        jz      .literal_end
        cmp     byte [rsi], '.'
        jne     .invalid
        inc     rsi
        jmp     .octet
.literal_end:
        cmp     byte [rsi], ']'
        jne     .invalid
        add     cl, ch                          ; "::" stands for one piece at least
        cmp     cl, 8
        ja      .invalid
        je      .literal_done
        test    ch, ch
        jz      .invalid                        ; fewer than 8 pieces without "::"
        jmp     .literal_done
.future:
        inc     rsi                             ; IPvFuture: "v", hex digits, ".", then 1+ of
        call    check_hex_digit                 ; unreserved, sub-delims and ":"
        jc      .invalid
.future_hex:
        inc     rsi
        call    check_hex_digit
        jnc     .future_hex
        cmp     byte [rsi], '.'
        jne     .invalid
        inc     rsi
        cmp     byte [rsi], ']'
        je      .invalid
.future_char:
        movzx   eax, byte [rsi]
        cmp     al, ':'
        je      .future_next
        bt      [host_chars], eax
        jnc     .future_end
.future_next:
        inc     rsi
        jmp     .future_char
.future_end:
        cmp     byte [rsi], ']'
        jne     .invalid
.literal_done:
        inc     rsi                             ; past the "]"
.port:
        cmp     byte [rsi], ':'
        jne     .valid
.port_digit:
        inc     rsi
        movzx   eax, byte [rsi]
        sub     eax, '0'
        cmp     eax, 9
        jbe     .port_digit
.valid:
        clc
        ret
.invalid:
        stc
        ret

; check_hex_digit: tells whether the byte at rsi is a hex digit.
; IN: rsi, at a byte of a header value (no controls but HT)   OUT: CF = 1 if it is not one   CLOBBERS: eax
check_hex_digit:
        mov     al, [rsi]
        or      al, 0x20                        ; lower-cases letters; digits have the bit (HT becomes ')')
        sub     al, '0'
        cmp     al, 10                          ; CF = 1: a digit
        jb      .done
        sub     al, 'a' - '0'
        cmp     al, 6                           ; CF = 1: a letter a-f
.done:
        cmc
        ret

; next_line: finds the end of the line that starts at rsi.
; IN: rsi = line start, rdi = end of input
; OUT: CF = 1 if no LF yet; else rdx = end of the line's content (its CR or LF), rax = next line's start
next_line:
        mov     rax, rsi
.scan:
        cmp     rax, rdi
        jae     .more
        cmp     byte [rax], 10
        je      .found
        inc     rax
        jmp     .scan
.found:
        mov     rdx, rax
        inc     rax
        cmp     rdx, rsi
        je      .done
        cmp     byte [rdx - 1], 13
        jne     .done
        dec     rdx
.done:
        clc
        ret
.more:
        stc
        ret

; skip_spaces: moves past spaces and tabs.
; IN: rsi, rdx = end   OUT: rsi at the first other byte or at rdx
skip_spaces:
        cmp     rsi, rdx
        jae     .done
        cmp     byte [rsi], ' '
        je      .skip
        cmp     byte [rsi], 9
        jne     .done
.skip:
        inc     rsi
        jmp     skip_spaces
.done:
        ret
