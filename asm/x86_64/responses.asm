; Every response the server sends, in read-only data: a response is three parts, with the Date line between
; the first and the second and the Connection value between the second and the third (see build_iovecs),
; described by a descriptor:
;   dd status part, type part, body;  dw their lengths
; The status part is the status line and the response's own headers; the type part is the Content-Type line
; and "Connection: ". Error bodies are the reason phrase and CRLF, taken from the status line itself.

        section .rodata

; text_response NAME, STATUS_INDEX, "CODE REASON", "CONTENT-LENGTH" [, "HEADER: VALUE"]: a text/plain
; response whose body is its reason phrase and CRLF.
%macro text_response 4-5
%%status:
        db      "HTTP/1.1 ", %3, 13, 10, "Content-Length: ", %4, 13, 10
%if %0 == 5
        db      %5, 13, 10
%endif
%%status_end:
%strlen %%reason_len %3
        align   4
%1:
        dd      %%status, text_type, %%status + 13
        dw      %%status_end - %%status, text_type_len, %%reason_len - 4 + 2
        db      %2 * 4
%endmacro

text_type:
        db      "Content-Type: text/plain; charset=utf-8", 13, 10, "Connection: "
text_type_len equ $ - text_type
html_type:
        db      "Content-Type: text/html; charset=utf-8", 13, 10, "Connection: "
html_type_len equ $ - html_type
connection_keep_alive:
        db      "keep-alive", 13, 10, 13, 10
connection_keep_alive_len equ $ - connection_keep_alive
connection_close:
        db      "close", 13, 10, 13, 10
connection_close_len equ $ - connection_close

page_status:
        db      "HTTP/1.1 200 OK", 13, 10, "Content-Length: "
        incbin  "page-length.txt"
        db      13, 10, "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'", 13, 10
        db      "X-Content-Type-Options: nosniff", 13, 10
page_status_len equ $ - page_status
page_body:
        incbin  "page.html"
page_body_len equ $ - page_body

health_status:
        db      "HTTP/1.1 200 OK", 13, 10, "Content-Length: 2", 13, 10, "Cache-Control: no-store", 13, 10
health_status_len equ $ - health_status
status_ok equ health_status                     ; "HTTP/1.1 200 ", what the self-probe expects
status_ok_len equ 13

        align   4
response_page:
        dd      page_status, html_type, page_body
        dw      page_status_len, html_type_len, page_body_len
        db      STATUS_200 * 4
        align   4
response_health:
        dd      health_status, text_type, health_status + 13 ; "OK"
        dw      health_status_len, text_type_len, 2
        db      STATUS_200 * 4

text_response response_503, STATUS_503, "503 Service Unavailable", "21", "Cache-Control: no-store"
text_response response_404, STATUS_404, "404 Not Found", "11"
text_response response_405, STATUS_405, "405 Method Not Allowed", "20", "Allow: GET, HEAD"
text_response response_400, STATUS_400, "400 Bad Request", "13"
text_response response_408, STATUS_408, "408 Request Timeout", "17"
text_response response_431, STATUS_431, "431 Request Header Fields Too Large", "33"
text_response response_501, STATUS_501, "501 Not Implemented", "17"
text_response response_505, STATUS_505, "505 HTTP Version Not Supported", "28"

probe_request:
        db      "GET /health HTTP/1.1", 13, 10, "Host: 127.0.0.1", 13, 10, "Connection: close", 13, 10, 13, 10
probe_request_len equ $ - probe_request

; token_chars: bit c is set when byte c may appear in a method or header name (RFC 9110 tchar).
        align   8
token_chars:
        dq      0x03ff6cfa00000000, 0x57ffffffc7fffffe, 0, 0
; host_chars: bit c is set when byte c may appear as it is in a Host's reg-name or IPvFuture (RFC 3986
; unreserved and sub-delims).
host_chars:
        dq      0x2bff7fd200000000, 0x47fffffe87fffffe, 0, 0

probe_timeout:
        dq      2, 0                            ; struct timeval: 2 s
every_tick:
        dq      0, TICK_MS * 1000000, 0, TICK_MS * 1000000 ; struct itimerspec: interval and first expiry
no_tick:
        dq      0, 0, 0, 0                      ; struct itimerspec: off
one:
        dd      1
zero:
        dd      0

; setting_table: what read_config reads, in the order of `settings`.
S_NAME          equ 0           ; dword: name
S_RANGE         equ 4           ; dword: the allowed range, as text
S_MIN           equ 8           ; word
S_MAX           equ 10          ; word
S_DEFAULT       equ 12          ; word
S_NAME_LEN      equ 14          ; byte
S_RANGE_LEN     equ 15          ; byte
SETTING_SIZE    equ 16


name_port:
        db      "PORT"
name_port_len equ $ - name_port
name_workers:   db "WORKERS"
name_drain:     db "DRAIN_SECONDS"
name_keepalive: db "KEEPALIVE_SECONDS"
name_header:    db "HEADER_TIMEOUT_SECONDS"
name_max_connections: db "MAX_CONNECTIONS"
name_metrics_port: db "METRICS_PORT"
name_metrics_port_len equ $ - name_metrics_port
name_access_log: db "ACCESS_LOG"
name_access_log_len equ $ - name_access_log
msg_invalid_access_log: db "invalid ACCESS_LOG (expected json or off)", 10
msg_invalid_access_log_len equ $ - msg_invalid_access_log
range_port:     db "1-65535"
range_workers:  db "1-64"
range_drain:    db "0-3600"
range_seconds:  db "1-3600"
range_connections: db "1-16300"
range_ports:    db "0-65535"
default_port:   db "8080", 0

        align   4
setting_table:
        dd      name_port, range_port
        dw      1, 65535, 8080
        db      4, 7
        dd      name_workers, range_workers
        dw      1, WORKERS_MAX, 1
        db      7, 4
        dd      name_drain, range_drain
        dw      0, 3600, 5
        db      13, 6
        dd      name_keepalive, range_seconds
        dw      1, 3600, 75
        db      17, 6
        dd      name_header, range_seconds
        dw      1, 3600, 10
        db      22, 6
        dd      name_max_connections, range_connections
        dw      1, MAX_CONNECTIONS, MAX_CONNECTIONS
        db      15, 7
        dd      name_metrics_port, range_ports
        dw      0, 65535, 0                     ; (unset: PORT, see read_config)
        db      12, 7

msg_prefix:     db "asm-web-service: "
msg_prefix_len equ $ - msg_prefix
msg_listening:  db "asm-web-service: listening on http://"
msg_listening_len equ $ - msg_listening
any_ipv6:       db "[::]:"
any_ipv6_len equ $ - any_ipv6
any_ipv4:       db "0.0.0.0:"
any_ipv4_len equ $ - any_ipv4
msg_usage:      db "unknown argument (usage: asm-web-service [health])", 10
msg_usage_len equ $ - msg_usage
msg_invalid:    db "invalid "
msg_invalid_len equ $ - msg_invalid
msg_expected:   db " (expected "
msg_expected_len equ $ - msg_expected
msg_expected_end: db ")"
newline:        db 10
msg_expected_end_len equ 2
msg_port:       db "port "
msg_port_len equ $ - msg_port
msg_in_use:     db " is already in use", 10
msg_in_use_len equ $ - msg_in_use
msg_cannot_listen: db "cannot listen on "
msg_cannot_listen_len equ $ - msg_cannot_listen
