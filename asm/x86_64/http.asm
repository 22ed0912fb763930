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

; parse_request: parses one request head at the start of the input and chooses its response.
; IN:  rsi = the head's first byte, ecx = bytes available (> 0)
; OUT: rax = response descriptor, or 0 when the head is not complete yet
;      edx = length of the head, r8d = R_* flags, r9 = body length to discard
; CLOBBERS: rcx, rsi, rdi, r10, r11
parse_request:
        push    rbx
        push    rbp
        mov     r11, rsi                        ; start of the head
        lea     rdi, [rsi + rcx]                ; end of the input
        xor     r10d, r10d
        xor     r9d, r9d
.request_line:
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
        cmp     dword [rsi], 'HEAD'
        jne     .target
        cmp     byte [rsi + 4], ' '
        jne     .target
        or      r10b, Q_HEAD
.target:
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
        cmp     ax, 0x0001                      ; 1.0
        je      .header
        cmp     ax, 0x0101                      ; 1.1
        jne     .unsupported
        or      r10b, Q_V11

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
        jmp     .header
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
        call    skip_spaces
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
.token:
        ; the value is a list of tokens separated by commas and spaces
        cmp     rsi, rdx
        jae     .header
        mov     al, [rsi]
        call    is_separator
        je      .separator
        mov     rcx, rsi
.token_char:
        inc     rcx
        cmp     rcx, rdx
        jae     .token_end
        mov     al, [rcx]
        call    is_separator
        jne     .token_char
.token_end:
        mov     eax, ecx
        sub     eax, esi                        ; token length
        cmp     eax, 5
        jne     .keep_alive
        mov     eax, [rsi]
        or      eax, r8d
        cmp     eax, 'clos'
        jne     .token_done
        mov     al, [rsi + 4]
        or      al, r8b
        cmp     al, 'e'
        jne     .token_done
        or      r10b, Q_CLOSE
        jmp     .token_done
.keep_alive:
        cmp     eax, 10
        jne     .token_done
        mov     rax, [rsi]
        or      rax, r8
        mov     rbx, 'keep-ali'
        cmp     rax, rbx
        jne     .token_done
        mov     ax, [rsi + 8]
        or      ax, r8w
        cmp     ax, 've'
        jne     .token_done
        or      r10b, Q_KEEP_ALIVE
.token_done:
        mov     rsi, rcx
        jmp     .token
.separator:
        inc     rsi
        jmp     .token

.head_end:
        xor     r8d, r8d
        test    r10b, Q_TRANSFER
        jnz     .not_implemented
        test    r10b, Q_V11
        jz      .keep_1_0
        bt      r10d, Q_HOST_BIT                ; HTTP/1.1 requires Host
        jnc     .bad
        test    r10b, Q_CLOSE
        jnz     .close
        jmp     .draining
.keep_1_0:
        test    r10b, Q_KEEP_ALIVE
        jz      .close
.draining:
        cmp     byte [draining], 0
        je      .method_flags
.close:
        mov     r8d, R_CLOSE
.method_flags:
        test    r10b, Q_HEAD
        jz      .choose
        or      r8d, R_HEAD
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
        jmp     .return
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
        jmp     .return

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

; is_separator: tells whether a byte separates list tokens (comma, space, tab).
; IN: al   OUT: ZF = 1 if it does   CLOBBERS: nothing
is_separator:
        cmp     al, ','
        je      .done
        cmp     al, ' '
        je      .done
        cmp     al, 9
.done:
        ret
