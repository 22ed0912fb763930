// Metrics: counters in memory that every worker shares (one page, mapped shared before the workers start), kept
// with atomic instructions, and the /metrics response made from them (Prometheus text format 0.0.4).

// Responses' status codes, in the order of status_codes: a response descriptor's D_STATUS_INDEX is its status's
// index times 4, the row of its four routes' counters.
        .equ    STATUS_200, 0
        .equ    STATUS_400, 1
        .equ    STATUS_404, 2
        .equ    STATUS_405, 3
        .equ    STATUS_408, 4
        .equ    STATUS_431, 5
        .equ    STATUS_501, 6
        .equ    STATUS_503, 7
        .equ    STATUS_505, 8
        .equ    STATUS_COUNT, 9
        .equ    ROUTE_OTHER, 3          // routes: 0 "/", 1 "/health", 2 "/metrics", 3 any other path (or none known)

// The shared counters (xwords unless said), at these offsets in shared_counters.
        .equ    M_REQUESTS, 0                                   // [status][route]: responses by status and route
        .equ    M_RESPONSE_BYTES, M_REQUESTS + STATUS_COUNT * 4 * 8 // bytes written to clients
        .equ    M_ACCEPTED, M_RESPONSE_BYTES + 8                // connections accepted, the shed ones included
        .equ    M_SHED, M_ACCEPTED + 8                          // ...closed at once (MAX_CONNECTIONS, descriptors)
        .equ    M_TIMEOUTS, M_SHED + 8                          // connections ended by a timer, by kind (TIMEOUT_*)
        .equ    M_LOG_DROPPED, M_TIMEOUTS + 4 * 8               // access log lines dropped (log.s)
        .equ    M_START_TIME, M_LOG_DROPPED + 8                 // the server's start, in Unix seconds
        .equ    M_OPEN, M_START_TIME + 8                        // word by worker index: its open connections
        .equ    M_END, M_OPEN + WORKERS_MAX * 4

        .equ    TIMEOUT_KEEPALIVE, 0    // an idle keep-alive connection
        .equ    TIMEOUT_HEAD, 1         // a request head that did not complete (408)
        .equ    TIMEOUT_WRITE, 2        // a response the client did not read
        .equ    TIMEOUT_BODY, 3         // a request body that stopped coming

// A connection's metrics page: its /metrics response's descriptor, status part and body.
        .equ    MP_STATUS, 32
        .equ    MP_BODY, 128

// map_shared_counters: replaces the shared_counters page of .bss with a shared mapping, so that the workers,
// forked later, count into the same counters; notes the start time.
// OUT: never returns on failure (exit 1 with a message)   CLOBBERS: x0-x5, x8
map_shared_counters:
        adr     x0, shared_counters
        mov     x1, #4096
        mov     x2, #PROT_READ | PROT_WRITE
        mov     x3, #MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
        mov     x4, #-1
        mov     x5, #0
        sys     mmap
        cmn     x0, #4095
        b.hs    1f
        mov     w0, #CLOCK_REALTIME
        add     x1, state, #timespec
        sys     clock_gettime
        ldr     x0, [state, #timespec]
        adr     x1, shared_counters
        str     x0, [x1, #M_START_TIME]
        add     x1, x1, #M_OPEN                 // the first process is worker 0
        str     x1, [state, #open_count]
        ret
1:      adr     x1, msg_no_shared_memory
        mov     w2, #msg_no_shared_memory_len
        bl      print_error
        mov     w0, #1
        b       exit

// count_request: counts an answered request by its response's status and its route.
// IN: x0 = response descriptor, w10 = the request's facts (parse_request)   OUT: w1 = its counter's index
// CLOBBERS: x5, x16, x17
count_request:
        ldrb    w1, [x0, #D_STATUS_INDEX]
        mov     w16, #ROUTE_OTHER               // the route: the first of "/", "/health", "/metrics" it is
        tst     w10, #Q_METRICS
        mov     w17, #2
        csel    w16, w17, w16, ne
        tst     w10, #Q_HEALTH
        mov     w17, #1
        csel    w16, w17, w16, ne
        tst     w10, #Q_PAGE
        csel    w16, wzr, w16, ne
        add     w1, w1, w16
        adr     x16, shared_counters + M_REQUESTS
        add     x16, x16, x1, lsl #3
        shared_add x16, #1, w5
        ret

// render_metrics: makes the connection's /metrics response in its metrics page, from the shared counters: the
// body from metrics_template, then the status part with its length, then the descriptor. The page holds one
// response: serve_input ends the batch after it, and no other is made while it is pending.
// IN: conn, fd   OUT: x0 = the response's descriptor   CLOBBERS: x1, x5-x14
render_metrics:
        page    .req x11                        // the connection's metrics page
        template .req x12                       // the next byte of metrics_template
        counters .req x13                       // shared_counters
        out     .req x14                        // where the body goes on
        stp     x2, x3, [sp, #-32]!             // (serve_input's head length, flags and body length)
        stp     x4, x30, [sp, #16]
        ldrb    w5, [conn, #C_FLAGS]
        orr     w5, w5, #F_SCRAPED
        strb    w5, [conn, #C_FLAGS]
        adrp    page, metrics_pages
        add     page, page, :lo12:metrics_pages
        add     page, page, x20, lsl #METRICS_SHIFT
        add     out, page, #MP_BODY
        adr     template, metrics_template
        adr     counters, shared_counters
.Lrender_copy:
        ldrb    w5, [template], #1
        cmp     w5, #OP_LAST
        b.hi    .Lrender_text
        adr     x6, .Lrender_ops
        ldrb    w7, [x6, x5]
        adr     x6, .Lrender_copy
        add     x6, x6, x7, lsl #2
        br      x6
.Lrender_text:
        strb    w5, [out], #1
        b       .Lrender_copy
.Lrender_counter:
        ldrb    w5, [template], #1              // OP_COUNTER, the counter's offset / 8
        ldr     x1, [counters, x5, lsl #3]
        b       .Lrender_value
.Lrender_statuses:
        ldrb    w5, [template], #1              // OP_STATUS, the status's index: its four routes' sum
        add     x6, counters, x5, lsl #5
        ldp     x1, x7, [x6, #M_REQUESTS]
        add     x1, x1, x7
        ldp     x7, x8, [x6, #M_REQUESTS + 16]
        add     x1, x1, x7
        add     x1, x1, x8
        b       .Lrender_value
.Lrender_open:
        mov     x1, #0                          // OP_OPEN: every worker's open connections
        add     x6, counters, #M_OPEN
        mov     w7, #WORKERS_MAX
1:      ldr     w8, [x6], #4
        add     x1, x1, x8
        subs    w7, w7, #1
        b.ne    1b
.Lrender_value:
        mov     x0, out
        bl      put_decimal
        mov     out, x0
        b       .Lrender_copy
.Lrender_build_info:
        adr     x6, build_info                  // OP_BUILD_INFO: the labels, up to the field's padding
1:      ldrb    w5, [x6], #1
        cmp     w5, #' '
        b.eq    .Lrender_copy
        strb    w5, [out], #1
        b       1b
.Lrender_requests:
        // OP_REQUESTS: a line for each status and route counted so far, and always the 200s and the 404 of
        // the other paths (a series that is there from the start lets increase() count its first requests).
        mov     w9, #0                          // status * 4 + route
.Lrender_request_row:
        add     x6, counters, #M_REQUESTS
        ldr     x1, [x6, x9, lsl #3]
        cbnz    x1, 1f
        ldr     x6, always_rows
        lsr     x6, x6, x9
        tbz     x6, #0, .Lrender_request_next
1:      mov     x7, x1
        mov     x0, out
        adr     x1, requests_row
        mov     w2, #requests_row_len
        bl      copy_bytes
        and     w6, w9, #3
        adr     x1, route_labels
        add     x1, x1, x6, lsl #4
        ldrb    w2, [x1], #1                    // its length, then the text
        bl      copy_bytes
        adr     x1, code_label
        mov     w2, #code_label_len
        bl      copy_bytes
        lsr     w6, w9, #2
        add     w6, w6, w6, lsl #1
        adr     x1, status_codes
        add     x1, x1, x6
        mov     w2, #3
        bl      copy_bytes
        mov     w6, #'"' | '}' << 8
        movk    w6, #' ', lsl #16
        str     w6, [x0], #3                    // '"} '
        mov     x1, x7
        bl      put_decimal
        mov     w6, #10
        strb    w6, [x0], #1
        mov     out, x0
.Lrender_request_next:
        add     w9, w9, #1
        cmp     w9, #STATUS_COUNT * 4
        b.lo    .Lrender_request_row
        b       .Lrender_copy
.Lrender_end:
        // The status part, with the body's length, and the descriptor.
        add     x6, page, #MP_BODY
        sub     x7, out, x6
        strh    w7, [page, #D_BODY_LEN]
        str     w6, [page, #D_BODY]
        add     x0, page, #MP_STATUS
        str     w0, [page, #D_STATUS]
        adr     x1, metrics_status
        mov     w2, #metrics_status_len
        bl      copy_bytes
        mov     x1, x7
        bl      put_decimal
        adr     x1, metrics_status_end
        mov     w2, #metrics_status_end_len
        bl      copy_bytes
        add     x6, page, #MP_STATUS
        sub     x0, x0, x6
        strh    w0, [page, #D_STATUS_LEN]
        adr     x6, metrics_type
        str     w6, [page, #D_TYPE]
        mov     w6, #metrics_type_len
        strh    w6, [page, #D_TYPE_LEN]
        mov     w6, #STATUS_200 * 4
        strb    w6, [page, #D_STATUS_INDEX]
        mov     x0, page
        ldp     x4, x30, [sp, #16]
        ldp     x2, x3, [sp], #32
        ret
// The operations' entries, in words from .Lrender_copy, by OP_*.
.Lrender_ops:
        .byte   (.Lrender_end - .Lrender_copy) / 4, (.Lrender_counter - .Lrender_copy) / 4
        .byte   (.Lrender_statuses - .Lrender_copy) / 4, (.Lrender_open - .Lrender_copy) / 4
        .byte   (.Lrender_requests - .Lrender_copy) / 4, (.Lrender_build_info - .Lrender_copy) / 4
        .balign 4
        .unreq  page
        .unreq  template
        .unreq  counters
        .unreq  out

        .section .rodata

// metrics_template: the body of /metrics, with the values as operations (a byte below OP_LAST + 1, and the
// byte after some of them).
        .equ    OP_END, 0
        .equ    OP_COUNTER, 1           // then the counter's offset / 8
        .equ    OP_STATUS, 2            // then a status index: its requests of every route
        .equ    OP_OPEN, 3
        .equ    OP_REQUESTS, 4
        .equ    OP_BUILD_INFO, 5
        .equ    OP_LAST, 5

metrics_template:
        .ascii  "# HELP asm_web_service_http_requests_total HTTP requests answered, by route and status code.\n"
        .ascii  "# TYPE asm_web_service_http_requests_total counter\n"
        .byte   OP_REQUESTS
        .ascii  "# HELP asm_web_service_http_malformed_requests_total Requests refused as malformed or too large, by status code.\n"
        .ascii  "# TYPE asm_web_service_http_malformed_requests_total counter\n"
        .ascii  "asm_web_service_http_malformed_requests_total{code=\"400\"} "
        .byte   OP_STATUS, STATUS_400, 10
        .ascii  "asm_web_service_http_malformed_requests_total{code=\"431\"} "
        .byte   OP_STATUS, STATUS_431, 10
        .ascii  "asm_web_service_http_malformed_requests_total{code=\"501\"} "
        .byte   OP_STATUS, STATUS_501, 10
        .ascii  "asm_web_service_http_malformed_requests_total{code=\"505\"} "
        .byte   OP_STATUS, STATUS_505, 10
        .ascii  "# HELP asm_web_service_http_response_bytes_total Bytes of HTTP responses written to clients.\n"
        .ascii  "# TYPE asm_web_service_http_response_bytes_total counter\n"
        .ascii  "asm_web_service_http_response_bytes_total "
        .byte   OP_COUNTER, M_RESPONSE_BYTES / 8, 10
        .ascii  "# HELP asm_web_service_connections_accepted_total Connections accepted, the shed ones included.\n"
        .ascii  "# TYPE asm_web_service_connections_accepted_total counter\n"
        .ascii  "asm_web_service_connections_accepted_total "
        .byte   OP_COUNTER, M_ACCEPTED / 8, 10
        .ascii  "# HELP asm_web_service_connections_open Connections open now.\n"
        .ascii  "# TYPE asm_web_service_connections_open gauge\n"
        .ascii  "asm_web_service_connections_open "
        .byte   OP_OPEN, 10
        .ascii  "# HELP asm_web_service_connections_shed_total Connections closed as soon as accepted: over MAX_CONNECTIONS or out of descriptors.\n"
        .ascii  "# TYPE asm_web_service_connections_shed_total counter\n"
        .ascii  "asm_web_service_connections_shed_total "
        .byte   OP_COUNTER, M_SHED / 8, 10
        .ascii  "# HELP asm_web_service_timeouts_total Connections ended by a timer, by kind.\n"
        .ascii  "# TYPE asm_web_service_timeouts_total counter\n"
        .ascii  "asm_web_service_timeouts_total{kind=\"keepalive\"} "
        .byte   OP_COUNTER, (M_TIMEOUTS + TIMEOUT_KEEPALIVE * 8) / 8, 10
        .ascii  "asm_web_service_timeouts_total{kind=\"head\"} "
        .byte   OP_COUNTER, (M_TIMEOUTS + TIMEOUT_HEAD * 8) / 8, 10
        .ascii  "asm_web_service_timeouts_total{kind=\"write\"} "
        .byte   OP_COUNTER, (M_TIMEOUTS + TIMEOUT_WRITE * 8) / 8, 10
        .ascii  "asm_web_service_timeouts_total{kind=\"body\"} "
        .byte   OP_COUNTER, (M_TIMEOUTS + TIMEOUT_BODY * 8) / 8, 10
        .ascii  "# HELP asm_web_service_access_log_dropped_lines_total Access log lines dropped: stdout did not take them in time.\n"
        .ascii  "# TYPE asm_web_service_access_log_dropped_lines_total counter\n"
        .ascii  "asm_web_service_access_log_dropped_lines_total "
        .byte   OP_COUNTER, M_LOG_DROPPED / 8, 10
        .ascii  "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
        .ascii  "# TYPE process_start_time_seconds gauge\n"
        .ascii  "process_start_time_seconds "
        .byte   OP_COUNTER, M_START_TIME / 8, 10
        .ascii  "# HELP asm_web_service_build_info The build that serves: version, architecture, and the binary's and image's sizes in bytes.\n"
        .ascii  "# TYPE asm_web_service_build_info gauge\n"
        .ascii  "asm_web_service_build_info{"
        .byte   OP_BUILD_INFO
        .ascii  "} 1\n"
        .byte   OP_END
requests_row:   .ascii "asm_web_service_http_requests_total{route=\""
        .equ    requests_row_len, . - requests_row
code_label:     .ascii "\",code=\""
        .equ    code_label_len, . - code_label
status_codes:   .ascii "200400404405408431501503505"
        .balign 16
route_labels:                                   // 16 bytes each: the length, then the text
        .byte   1
        .ascii  "/"
        .skip   14
        .byte   7
        .ascii  "/health"
        .skip   8
        .byte   8
        .ascii  "/metrics"
        .skip   7
        .byte   5
        .ascii  "other"
        .skip   10
always_rows:                                    // bit status * 4 + route: shown before its first request
        .xword  1 << (STATUS_200 * 4) | 1 << (STATUS_200 * 4 + 1) | 1 << (STATUS_200 * 4 + 2) | 1 << (STATUS_404 * 4 + ROUTE_OTHER)
metrics_status:
        .ascii  "HTTP/1.1 200 OK\r\nContent-Length: "
        .equ    metrics_status_len, . - metrics_status
metrics_status_end:
        .ascii  "\r\nCache-Control: no-store\r\n"
        .equ    metrics_status_end_len, . - metrics_status_end
metrics_type:
        .ascii  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\nConnection: "
        .equ    metrics_type_len, . - metrics_type
build_info:
        .incbin "build-info.txt"                // the labels, padded with spaces to a fixed width (asm/build.sh)
        .ascii  " "
msg_no_shared_memory: .ascii "cannot map the shared counters\n"
        .equ    msg_no_shared_memory_len, . - msg_no_shared_memory
// A response descriptor that stands for the /metrics response until render_metrics makes it.
        .balign 4
response_metrics:
        .word   0, 0, 0
        .hword  0, 0, 0
        .byte   STATUS_200 * 4
        .text
