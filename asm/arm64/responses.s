// Every response the server sends, in read-only data: a response is three parts, with the Date line between
// the first and the second and the Connection value between the second and the third (see build_iovecs),
// described by a descriptor:
//   .word status part, type part, body,  .hword their lengths
// The status part is the status line and the response's own headers, the type part is the Content-Type line
// and "Connection: ". Error bodies are the reason phrase and CRLF, taken from the status line itself.
// Addresses are 32-bit: the binary is linked static, not position-independent, at the default address.

        .section .rodata

// text_response NAME, STATUS_INDEX, "CODE REASON", "CONTENT-LENGTH" [, "HEADER: VALUE"]: a text/plain
// response whose body is its reason phrase and CRLF.
        .macro  text_response name, index, status, length, extra
\name\()_status:
        .ascii  "HTTP/1.1 \status"
\name\()_reason_end:
        .ascii  "\r\nContent-Length: \length\r\n"
        .ifnb   \extra
        .ascii  "\extra\r\n"
        .endif
\name\()_status_end:
        .balign 4
\name:
        .word   \name\()_status, text_type, \name\()_status + 13
        .hword  \name\()_status_end - \name\()_status, text_type_len, \name\()_reason_end - \name\()_status - 13 + 2
        .byte   \index * 4
        .endm

text_type:
        .ascii  "Content-Type: text/plain; charset=utf-8\r\nConnection: "
        .equ    text_type_len, . - text_type
html_type:
        .ascii  "Content-Type: text/html; charset=utf-8\r\nConnection: "
        .equ    html_type_len, . - html_type
connection_keep_alive:
        .ascii  "keep-alive\r\n\r\n"
        .equ    connection_keep_alive_len, . - connection_keep_alive
connection_close:
        .ascii  "close\r\n\r\n"
        .equ    connection_close_len, . - connection_close

page_status:
        .ascii  "HTTP/1.1 200 OK\r\nContent-Length: "
        .incbin "page-length.txt"
        .ascii  "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
        .ascii  "X-Content-Type-Options: nosniff\r\n"
        .equ    page_status_len, . - page_status
page_body:
        .incbin "page.html"
        .equ    page_body_len, . - page_body

health_status:
        .ascii  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: no-store\r\n"
        .equ    health_status_len, . - health_status
        .equ    status_ok, health_status        // "HTTP/1.1 200 ", what the self-probe expects
        .equ    status_ok_len, 13

        .balign 4
response_page:
        .word   page_status, html_type, page_body
        .hword  page_status_len, html_type_len, page_body_len
        .byte   STATUS_200 * 4
        .balign 4
response_health:
        .word   health_status, text_type, health_status + 13 // "OK"
        .hword  health_status_len, text_type_len, 2
        .byte   STATUS_200 * 4

        text_response response_503, STATUS_503, "503 Service Unavailable", "21", "Cache-Control: no-store"
        text_response response_404, STATUS_404, "404 Not Found", "11"
        text_response response_405, STATUS_405, "405 Method Not Allowed", "20", "Allow: GET, HEAD"
        text_response response_400, STATUS_400, "400 Bad Request", "13"
        text_response response_408, STATUS_408, "408 Request Timeout", "17"
        text_response response_431, STATUS_431, "431 Request Header Fields Too Large", "33"
        text_response response_501, STATUS_501, "501 Not Implemented", "17"
        text_response response_505, STATUS_505, "505 HTTP Version Not Supported", "28"

probe_request:
        .ascii  "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        .equ    probe_request_len, . - probe_request

// token_chars: bit c is set when byte c may appear in a method or header name (RFC 9110 tchar).
        .balign 8
token_chars:
        .xword  0x03ff6cfa00000000, 0x57ffffffc7fffffe
zero:                                           // (also an int 0 for setsockopt)
        .xword  0, 0                            // bytes 128-255
// host_chars: bit c is set when byte c may appear as it is in a Host's reg-name or IPvFuture (RFC 3986
// unreserved and sub-delims).
host_chars:
        .xword  0x2bff7fd200000000, 0x47fffffe87fffffe, 0, 0
word_http:      .ascii  "\0http://"             // "http://" shifted as the parser compares it
word_https:     .ascii  "https://"              // (the parser loads both with one ldp from token_chars)
        .if     zero - token_chars != 16 || word_http - host_chars != 32 || word_https - word_http != 8
        .error  "char_bit reads 32 bytes of each table, the last 16 zero; one ldp reads word_http and word_https"
        .endif

// Words the parser compares with, 8 bytes each (4 for the `ldr w` ones), lower case where the match ignores
// case; one that starts with zeros is compared with the input word shifted left, which drops the bytes after
// it. The x86_64 tree has them as immediates.
word_version:   .ascii  "HTTP/0.0"              // "HTTP/d.d" with both digits 0
word_head:      .ascii  "\0\0\0HEAD "
word_health:    .ascii  "\0/health"
word_metrics:   .ascii  "/metrics"
word_transfer:  .ascii  "transfer"
word_encoding:  .ascii  "encoding"
word_content:   .ascii  "content-"
word_length:    .ascii  "t-length"
word_connecti:  .ascii  "connecti"
word_close:     .ascii  "\0\0\0close"
word_keep_ali:  .ascii  "keep-ali"
word_get:       .ascii  "GET "
word_host:      .ascii  "host"

probe_timeout:
        .xword  2, 0                            // struct timeval: 2 s
every_tick:
        .xword  0, TICK_MS * 1000000, 0, TICK_MS * 1000000 // struct itimerspec: interval and first expiry
no_tick:
        .xword  0, 0, 0, 0                      // struct itimerspec: off
one:
        .word   1

// setting_table: what read_config reads, in the order of `settings`.
        .equ    S_NAME, 0               // word: name
        .equ    S_RANGE, 4              // word: the allowed range, as text
        .equ    S_MIN, 8                // hword
        .equ    S_MAX, 10               // hword
        .equ    S_DEFAULT, 12           // hword
        .equ    S_NAME_LEN, 14          // byte
        .equ    S_RANGE_LEN, 15         // byte
        .equ    SETTING_SIZE, 16

name_port:
        .ascii  "PORT"
        .equ    name_port_len, . - name_port
name_workers:   .ascii "WORKERS"
name_drain:     .ascii "DRAIN_SECONDS"
name_keepalive: .ascii "KEEPALIVE_SECONDS"
name_header:    .ascii "HEADER_TIMEOUT_SECONDS"
name_max_connections: .ascii "MAX_CONNECTIONS"
name_metrics_port: .ascii "METRICS_PORT"
        .equ    name_metrics_port_len, . - name_metrics_port
name_access_log: .ascii "ACCESS_LOG"
        .equ    name_access_log_len, . - name_access_log
msg_invalid_access_log: .ascii "invalid ACCESS_LOG (expected json or off)\n"
        .equ    msg_invalid_access_log_len, . - msg_invalid_access_log
range_port:     .ascii "1-65535"
range_workers:  .ascii "1-64"
range_drain:    .ascii "0-3600"
range_seconds:  .ascii "1-3600"
range_connections: .ascii "1-16300"
range_ports:    .ascii "0-65535"
default_port:   .asciz "8080"

        .balign 4
setting_table:
        .word   name_port, range_port
        .hword  1, 65535, 8080
        .byte   4, 7
        .word   name_workers, range_workers
        .hword  1, WORKERS_MAX, 1
        .byte   7, 4
        .word   name_drain, range_drain
        .hword  0, 3600, 5
        .byte   13, 6
        .word   name_keepalive, range_seconds
        .hword  1, 3600, 75
        .byte   17, 6
        .word   name_header, range_seconds
        .hword  1, 3600, 10
        .byte   22, 6
        .word   name_max_connections, range_connections
        .hword  1, MAX_CONNECTIONS, MAX_CONNECTIONS
        .byte   15, 7
        .word   name_metrics_port, range_ports
        .hword  0, 65535, 0                     // (unset: PORT, see read_config)
        .byte   12, 7

msg_prefix:                                     // the start of every message, and of the startup line
msg_listening:  .ascii "asm-web-service: "
        .equ    msg_prefix_len, . - msg_prefix
                .ascii "listening on http://"
        .equ    msg_listening_len, . - msg_listening
any_ipv6:       .ascii "[::]:"
        .equ    any_ipv6_len, . - any_ipv6
any_ipv4:       .ascii "0.0.0.0:"
        .equ    any_ipv4_len, . - any_ipv4
msg_usage:      .ascii "unknown argument (usage: asm-web-service [health])\n"
        .equ    msg_usage_len, . - msg_usage
msg_invalid:    .ascii "invalid "
        .equ    msg_invalid_len, . - msg_invalid
msg_expected:   .ascii " (expected "
        .equ    msg_expected_len, . - msg_expected
msg_expected_end: .ascii ")"
newline:        .ascii "\n"
        .equ    msg_expected_end_len, 2
msg_port:       .ascii "port "
        .equ    msg_port_len, . - msg_port
msg_in_use:     .ascii " is already in use\n"
        .equ    msg_in_use_len, . - msg_in_use
msg_cannot_listen: .ascii "cannot listen on "
        .equ    msg_cannot_listen_len, . - msg_cannot_listen
