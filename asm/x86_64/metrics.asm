; Metrics: counters in memory that every worker shares (one page, mapped shared before the workers start), kept
; with atomic instructions, and the /metrics response made from them (Prometheus text format 0.0.4).

; Responses' status codes, in the order of status_codes: a response descriptor's D_STATUS_INDEX is its status's
; index times 4, the row of its four routes' counters.
STATUS_200      equ 0
STATUS_400      equ 1
STATUS_404      equ 2
STATUS_405      equ 3
STATUS_408      equ 4
STATUS_431      equ 5
STATUS_501      equ 6
STATUS_503      equ 7
STATUS_505      equ 8
STATUS_COUNT    equ 9
ROUTE_OTHER     equ 3               ; routes: 0 "/", 1 "/health", 2 "/metrics", 3 any other path (or none known)

; The shared counters (qwords unless said), at these offsets in shared_counters.
M_REQUESTS      equ 0                                   ; [status][route]: responses by status and route
M_RESPONSE_BYTES equ M_REQUESTS + STATUS_COUNT * 4 * 8  ; bytes written to clients
M_ACCEPTED      equ M_RESPONSE_BYTES + 8                ; connections accepted, the shed ones included
M_SHED          equ M_ACCEPTED + 8                      ; ...closed at once (MAX_CONNECTIONS, descriptors)
M_TIMEOUTS      equ M_SHED + 8                          ; connections ended by a timer, by kind (TIMEOUT_*)
M_LOG_DROPPED   equ M_TIMEOUTS + 4 * 8                  ; access log lines dropped (log.asm)
M_START_TIME    equ M_LOG_DROPPED + 8                   ; the server's start, in Unix seconds
M_OPEN          equ M_START_TIME + 8                    ; dword by worker index: its open connections
M_END           equ M_OPEN + WORKERS_MAX * 4

TIMEOUT_KEEPALIVE equ 0             ; an idle keep-alive connection
TIMEOUT_HEAD    equ 1               ; a request head that did not complete (408)
TIMEOUT_WRITE   equ 2               ; a response the client did not read
TIMEOUT_BODY    equ 3               ; a request body that stopped coming

; A connection's metrics page: its /metrics response's descriptor, status part and body.
MP_STATUS       equ 32
MP_BODY         equ 128
METRICS_BODY_MAX equ (1 << METRICS_SHIFT) - MP_BODY

; map_shared_counters: replaces the shared_counters page of .bss with a shared mapping, so that the workers,
; forked later, count into the same counters; notes the start time.
; OUT: never returns on failure (exit 1 with a message)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r9, r10, r11
map_shared_counters:
        mov     edi, shared_counters
        mov     esi, 4096
        mov     edx, PROT_READ | PROT_WRITE
        mov     r10d, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
        mov     r8, -1
        xor     r9d, r9d
        sys     SYS_mmap
        cmp     rax, -4095
        jae     .fail
        mov     edi, CLOCK_REALTIME
        mov     esi, timespec
        sys     SYS_clock_gettime
        mov     rax, [timespec]
        mov     [shared_counters + M_START_TIME], rax
        mov     qword [open_count], shared_counters + M_OPEN ; the first process is worker 0
        ret
.fail:
        mov     esi, msg_no_shared_memory
        mov     edx, msg_no_shared_memory_len
        call    print_error
        mov     edi, 1
        jmp     exit

; count_request: counts an answered request by its response's status and its route.
; IN: eax = response descriptor, r10d = the request's facts (parse_request)   OUT: ecx = its counter's index
count_request:
        movzx   ecx, byte [rax + D_STATUS_INDEX]
        test    r10b, Q_PAGE
        jnz     .route
        inc     ecx
        test    r10b, Q_HEALTH
        jnz     .route
        inc     ecx
        bt      r10d, Q_METRICS_BIT
        jc      .route
        inc     ecx
.route:
        count   shared_counters + M_REQUESTS + rcx*8
        ret

; render_metrics: makes the connection's /metrics response in its metrics page, from the shared counters: the
; body from metrics_template, then the status part with its length, then the descriptor. The page holds one
; response: serve_input ends the batch after it, and no other is made while it is pending.
; IN: rbx = the connection's record, r12d = its descriptor   OUT: eax = the response's descriptor
; CLOBBERS: rcx, rsi, rdi, r10, r11
render_metrics:
        push    rdx
        push    r8
        push    r9
        or      byte [rbx + C_FLAGS], F_SCRAPED
        mov     r11d, r12d
        shl     r11d, METRICS_SHIFT
        add     r11d, metrics_pages             ; the page (all of .bss lies below 4 GiB)
        lea     edi, [r11 + MP_BODY]
        mov     r10d, metrics_template
.copy:
        movzx   eax, byte [r10]
        inc     r10d
        cmp     al, OP_LAST
        ja      .text
        jmp     [metrics_ops + rax*8]
.text:
        stosb
        jmp     .copy
.counter:
        movzx   eax, byte [r10]                 ; OP_COUNTER, the counter's offset / 8
        inc     r10d
        mov     rax, [shared_counters + rax*8]
        jmp     .value
.statuses:
        movzx   eax, byte [r10]                 ; OP_STATUS, the status's index: its four routes' sum
        inc     r10d
        shl     eax, 5
        mov     rcx, [shared_counters + M_REQUESTS + rax]
        add     rcx, [shared_counters + M_REQUESTS + rax + 8]
        add     rcx, [shared_counters + M_REQUESTS + rax + 16]
        add     rcx, [shared_counters + M_REQUESTS + rax + 24]
        mov     rax, rcx
        jmp     .value
.open:
        xor     eax, eax                        ; OP_OPEN: every worker's open connections
        xor     ecx, ecx
.open_worker:
        mov     edx, [shared_counters + M_OPEN + rcx*4]
        add     rax, rdx
        inc     ecx
        cmp     ecx, WORKERS_MAX
        jb      .open_worker
.value:
        call    put_decimal
        jmp     .copy
.build_info:
        mov     esi, build_info                 ; OP_BUILD_INFO: the labels, up to the field's padding
.label_char:
        lodsb
        cmp     al, ' '
        je      .copy
        stosb
        jmp     .label_char
.requests:
        ; OP_REQUESTS: a line for each status and route counted so far, and always the 200s and the 404 of
        ; the other paths (a series that is there from the start lets increase() count its first requests).
        xor     ecx, ecx                        ; status * 4 + route
.request_row:
        mov     rax, [shared_counters + M_REQUESTS + rcx*8]
        test    rax, rax
        jnz     .request_shown
        bt      qword [always_rows], rcx
        jnc     .request_next
.request_shown:
        push    rcx
        push    rax
        mov     esi, requests_row
        mov     ecx, requests_row_len
        rep     movsb
        mov     eax, [rsp + 8]
        and     eax, 3
        shl     eax, 4
        lea     esi, [rax + route_labels]
        movzx   ecx, byte [rsi]                 ; its length, then the text
        inc     esi
        rep     movsb
        mov     esi, code_label
        mov     ecx, code_label_len
        rep     movsb
        mov     eax, [rsp + 8]
        shr     eax, 2
        lea     esi, [rax + rax*2 + status_codes]
        movsw
        movsb
        mov     eax, '"} '
        stosd
        dec     edi                             ; (three of the four bytes)
        pop     rax
        call    put_decimal
        mov     al, 10
        stosb
        pop     rcx
.request_next:
        inc     ecx
        cmp     ecx, STATUS_COUNT * 4
        jb      .request_row
        jmp     .copy
.end:
        ; The status part, with the body's length, and the descriptor.
        lea     eax, [r11 + MP_BODY]
        sub     edi, eax
        mov     [r11 + D_BODY_LEN], di
        mov     [r11 + D_BODY], eax
        lea     edi, [r11 + MP_STATUS]
        mov     [r11 + D_STATUS], edi
        mov     esi, metrics_status
        mov     ecx, metrics_status_len
        rep     movsb
        movzx   eax, word [r11 + D_BODY_LEN]
        call    put_decimal
        mov     esi, metrics_status_end
        mov     ecx, metrics_status_end_len
        rep     movsb
        lea     eax, [r11 + MP_STATUS]
        sub     edi, eax
        mov     [r11 + D_STATUS_LEN], di
        mov     dword [r11 + D_TYPE], metrics_type
        mov     word [r11 + D_TYPE_LEN], metrics_type_len
        mov     byte [r11 + D_STATUS_INDEX], STATUS_200 * 4
        mov     eax, r11d
        pop     r9
        pop     r8
        pop     rdx
        ret

        section .rodata

; metrics_template: the body of /metrics, with the values as operations (a byte below OP_LAST + 1, and the
; byte after some of them).
OP_END          equ 0
OP_COUNTER      equ 1               ; then the counter's offset / 8
OP_STATUS       equ 2               ; then a status index: its requests of every route
OP_OPEN         equ 3
OP_REQUESTS     equ 4
OP_BUILD_INFO   equ 5
OP_LAST         equ 5

%define PREFIX "asm_web_service_"
        align   8
metrics_ops:
        dq      render_metrics.end, render_metrics.counter, render_metrics.statuses, render_metrics.open
        dq      render_metrics.requests, render_metrics.build_info
metrics_template:
        db      "# HELP ", PREFIX, "http_requests_total HTTP requests answered, by route and status code.", 10
        db      "# TYPE ", PREFIX, "http_requests_total counter", 10
        db      OP_REQUESTS
        db      "# HELP ", PREFIX, "http_malformed_requests_total Requests refused as malformed or too large, by status code.", 10
        db      "# TYPE ", PREFIX, "http_malformed_requests_total counter", 10
        db      PREFIX, 'http_malformed_requests_total{code="400"} ', OP_STATUS, STATUS_400, 10
        db      PREFIX, 'http_malformed_requests_total{code="431"} ', OP_STATUS, STATUS_431, 10
        db      PREFIX, 'http_malformed_requests_total{code="501"} ', OP_STATUS, STATUS_501, 10
        db      PREFIX, 'http_malformed_requests_total{code="505"} ', OP_STATUS, STATUS_505, 10
        db      "# HELP ", PREFIX, "http_response_bytes_total Bytes of HTTP responses written to clients.", 10
        db      "# TYPE ", PREFIX, "http_response_bytes_total counter", 10
        db      PREFIX, "http_response_bytes_total ", OP_COUNTER, M_RESPONSE_BYTES / 8, 10
        db      "# HELP ", PREFIX, "connections_accepted_total Connections accepted, the shed ones included.", 10
        db      "# TYPE ", PREFIX, "connections_accepted_total counter", 10
        db      PREFIX, "connections_accepted_total ", OP_COUNTER, M_ACCEPTED / 8, 10
        db      "# HELP ", PREFIX, "connections_open Connections open now.", 10
        db      "# TYPE ", PREFIX, "connections_open gauge", 10
        db      PREFIX, "connections_open ", OP_OPEN, 10
        db      "# HELP ", PREFIX, "connections_shed_total Connections closed as soon as accepted: over MAX_CONNECTIONS or out of descriptors.", 10
        db      "# TYPE ", PREFIX, "connections_shed_total counter", 10
        db      PREFIX, "connections_shed_total ", OP_COUNTER, M_SHED / 8, 10
        db      "# HELP ", PREFIX, "timeouts_total Connections ended by a timer, by kind.", 10
        db      "# TYPE ", PREFIX, "timeouts_total counter", 10
        db      PREFIX, 'timeouts_total{kind="keepalive"} ', OP_COUNTER, (M_TIMEOUTS + TIMEOUT_KEEPALIVE * 8) / 8, 10
        db      PREFIX, 'timeouts_total{kind="head"} ', OP_COUNTER, (M_TIMEOUTS + TIMEOUT_HEAD * 8) / 8, 10
        db      PREFIX, 'timeouts_total{kind="write"} ', OP_COUNTER, (M_TIMEOUTS + TIMEOUT_WRITE * 8) / 8, 10
        db      PREFIX, 'timeouts_total{kind="body"} ', OP_COUNTER, (M_TIMEOUTS + TIMEOUT_BODY * 8) / 8, 10
        db      "# HELP ", PREFIX, "access_log_dropped_lines_total Access log lines dropped: stdout did not take them in time.", 10
        db      "# TYPE ", PREFIX, "access_log_dropped_lines_total counter", 10
        db      PREFIX, "access_log_dropped_lines_total ", OP_COUNTER, M_LOG_DROPPED / 8, 10
        db      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.", 10
        db      "# TYPE process_start_time_seconds gauge", 10
        db      "process_start_time_seconds ", OP_COUNTER, M_START_TIME / 8, 10
        db      "# HELP ", PREFIX, "build_info The build that serves: version, architecture, and the binary's and image's sizes in bytes.", 10
        db      "# TYPE ", PREFIX, "build_info gauge", 10
        db      PREFIX, "build_info{", OP_BUILD_INFO, "} 1", 10
        db      OP_END
metrics_template_end:
requests_row:   db PREFIX, 'http_requests_total{route="'
requests_row_len equ $ - requests_row
code_label:     db '",code="'
code_label_len equ $ - code_label
status_codes:   db "200400404405408431501503505"
        align   16
route_labels:                                   ; 16 bytes each: the length, then the text
        db      1, "/", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        db      7, "/health", 0, 0, 0, 0, 0, 0, 0, 0
        db      8, "/metrics", 0, 0, 0, 0, 0, 0, 0
        db      5, "other", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
always_rows:                                    ; bit status * 4 + route: shown before its first request
        dq      1 << (STATUS_200 * 4) | 1 << (STATUS_200 * 4 + 1) | 1 << (STATUS_200 * 4 + 2) | 1 << (STATUS_404 * 4 + ROUTE_OTHER)
metrics_status:
        db      "HTTP/1.1 200 OK", 13, 10, "Content-Length: "
metrics_status_len equ $ - metrics_status
metrics_status_end:
        db      13, 10, "Cache-Control: no-store", 13, 10
metrics_status_end_len equ $ - metrics_status_end
metrics_type:
        db      "Content-Type: text/plain; version=0.0.4; charset=utf-8", 13, 10, "Connection: "
metrics_type_len equ $ - metrics_type
build_info:
        incbin  "build-info.txt"                ; the labels, padded with spaces to a fixed width (asm/build.sh)
        db      " "
msg_no_shared_memory: db "cannot map the shared counters", 10
msg_no_shared_memory_len equ $ - msg_no_shared_memory
; A response descriptor that stands for the /metrics response until render_metrics makes it.
        align   4
response_metrics:
        dd      0, 0, 0
        dw      0, 0, 0
        db      STATUS_200 * 4
%undef PREFIX
        section .text
