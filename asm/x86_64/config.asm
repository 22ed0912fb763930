; Configuration from the environment, and the few lines the server prints.

; read_config: reads every setting of setting_table from the environment into `settings`; a bad value ends the
; process with a message naming the variable.
; IN: [envp]   OUT: settings, access_log, port_text and metrics_port_text (and their lengths)
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r13, r14
read_config:
        mov     r13d, setting_table
        mov     r14d, settings
.next:
        cmp     r14d, settings_end
        je      .port_text
        movzx   ecx, byte [r13 + S_NAME_LEN]
        mov     esi, [r13 + S_NAME]
        call    find_env
        movzx   edx, word [r13 + S_DEFAULT]
        test    rax, rax
        jz      .store
        mov     rsi, rax
        call    parse_uint
        jc      .invalid
        cmp     ax, [r13 + S_MIN]
        jb      .invalid
        cmp     ax, [r13 + S_MAX]
        ja      .invalid
        mov     edx, eax
.store:
        mov     [r14], edx
        add     r13, SETTING_SIZE
        add     r14, 4
        jmp     .next
.port_text:
        ; ACCESS_LOG: json (on), off or unset
        mov     esi, name_access_log
        mov     ecx, name_access_log_len
        call    find_env
        test    rax, rax
        jz      .metrics_port_text
        cmp     dword [rax], 'off'              ; (and its terminator)
        je      .metrics_port_text
        cmp     dword [rax], 'json'
        jne     .invalid_access_log
        cmp     byte [rax + 4], 0
        jne     .invalid_access_log
        mov     byte [access_log], 1
.metrics_port_text:
        ; METRICS_PORT as the user wrote it, for messages; unset, /metrics is served on PORT
        mov     esi, name_metrics_port
        mov     ecx, name_metrics_port_len
        call    find_env
        mov     r13d, metrics_port_text
        test    rax, rax
        jnz     .measure_metrics_port
        mov     eax, [cfg_port]
        mov     [cfg_metrics_port], eax
        jmp     .measure_port
.measure_metrics_port:
        call    measure_text
.measure_port:
        ; PORT as the user wrote it, for messages ("8080" by default)
        mov     esi, name_port
        mov     ecx, name_port_len
        call    find_env
        mov     r13d, port_text
        test    rax, rax
        jnz     measure_text
        mov     eax, default_port
        jmp     measure_text

.invalid:
        mov     esi, msg_invalid
        mov     edx, msg_invalid_len
        call    print_error
        mov     esi, [r13 + S_NAME]
        movzx   edx, byte [r13 + S_NAME_LEN]
        call    print_stderr
        mov     esi, msg_expected
        mov     edx, msg_expected_len
        call    print_stderr
        mov     esi, [r13 + S_RANGE]
        movzx   edx, byte [r13 + S_RANGE_LEN]
        call    print_stderr
        mov     esi, msg_expected_end
        mov     edx, msg_expected_end_len
        call    print_stderr
        mov     edi, 2
        jmp     exit

.invalid_access_log:
        mov     esi, msg_invalid_access_log
        mov     edx, msg_invalid_access_log_len
        call    print_error
        mov     edi, 2
        jmp     exit

; measure_text: notes where a NUL-terminated text is and its length.
; IN: rax = the text, r13 = where to note them (a qword, then a dword)   CLOBBERS: rdi
measure_text:
        mov     [r13], rax
        mov     rdi, rax
.count:
        cmp     byte [rdi], 0
        je      .counted
        inc     rdi
        jmp     .count
.counted:
        sub     rdi, rax
        mov     [r13 + 8], edi
        ret

; find_env: looks a variable up in the environment.
; IN: rsi = name, ecx = its length   OUT: rax = its value (after "NAME="), or 0   CLOBBERS: rdx, rdi, r8
find_env:
        mov     r8, [envp]
.next:
        mov     rdi, [r8]
        add     r8, 8
        test    rdi, rdi
        jz      .missing
        xor     edx, edx
.compare:
        mov     al, [rsi + rdx]
        cmp     al, [rdi + rdx]
        jne     .next
        inc     edx
        cmp     edx, ecx
        jb      .compare
        cmp     byte [rdi + rdx], '='
        jne     .next
        lea     rax, [rdi + rdx + 1]
        ret
.missing:
        xor     eax, eax
        ret

; parse_uint: reads a decimal number that is the whole of a NUL-terminated string.
; IN: rsi = string   OUT: eax = value; CF = 1 if empty, not all digits, or above 65535   CLOBBERS: rcx, rsi
parse_uint:
        xor     eax, eax
        movzx   ecx, byte [rsi]
        test    ecx, ecx
        jz      .bad
.digit:
        sub     ecx, '0'
        cmp     ecx, 9
        ja      .bad
        imul    eax, eax, 10
        add     eax, ecx
        cmp     eax, 65535
        ja      .bad
        inc     rsi
        movzx   ecx, byte [rsi]
        test    ecx, ecx
        jnz     .digit
        ret                                     ; CF = 0 from test
.bad:
        stc
        ret

; print_error: writes "asm-web-service: " and a message on stderr.
; IN: rsi = message, edx = its length   CLOBBERS: rax, rcx, rdi, r11, and rsi/rdx as print_stderr
print_error:
        push    rdx
        push    rsi
        mov     esi, msg_prefix
        mov     edx, msg_prefix_len
        call    print_stderr
        pop     rsi
        pop     rdx
        ; fall through

; print_stderr / print: writes bytes to stderr / to a descriptor.
; IN: rsi = bytes, edx = count (edi = descriptor for print, kept)   CLOBBERS: rax, rcx, r11
print_stderr:
        mov     edi, 2
print:
        sys     SYS_write
        ret

; print_port: writes PORT as the user gave it, or METRICS_PORT while its listener is opened (binding_metrics).
; IN: edi = descriptor (kept)   CLOBBERS: rax, rcx, rdx, rsi, r11
print_port:
        mov     eax, port_text
        cmp     byte [binding_metrics], 0
        je      .print
        mov     eax, metrics_port_text
.print:
        mov     rsi, [rax]
        mov     edx, [rax + 8]
        jmp     print

; exit: ends the process (every thread) with a status.
; IN: edi = status
exit:
        sys     SYS_exit_group
