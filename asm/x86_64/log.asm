; The access log (ACCESS_LOG=json): a JSON line on stdout for every response and for the server's lifecycle
; events. Lines are gathered in log_buffer and written once an event batch (flush_log), in writes of at most
; PIPE_BUF bytes that end at a line's end, so that no other worker's line falls inside one. Stdout is opened
; anew, non-blocking, so a full pipe never stalls serving: what it does not take waits in the buffer, and lines
; that find the buffer full are dropped and counted (M_LOG_DROPPED).

LOG_BUFFER      equ 65536       ; a worker's lines waiting to be written
LOG_LINE_MAX    equ 3072        ; the longest line: the fields below are cut to fit it
PATH_FIELD_MAX  equ 2048        ; bytes of JSON text a path may take (a longer one is cut)
SHORT_FIELD_MAX equ 64          ; ...a method or a version
PIPE_BUF        equ 4096        ; the most a write to a pipe keeps together
LOG_TIME_LEN    equ 27          ; "2026-12-04T05:15:12.123456Z"


; open_log: opens stdout anew for the log (/proc/self/fd/1): a file description of its own, non-blocking and
; appending, so that the runtime's pipe or the terminal keeps its flags. A socket (systemd's journal) cannot be
; opened so: the log then sends to stdout with MSG_DONTWAIT, non-blocking for that call only. A regular file
; that cannot be opened again (another user's) is written as it is: a write to a file never waits for a reader.
; OUT: [log_fd], [log_is_socket]; never returns on failure (exit 1 with a message)
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
open_log:
        mov     edi, AT_FDCWD
        mov     esi, proc_stdout
        mov     edx, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC
        sys     SYS_openat
        cmp     rax, -ENXIO
        je      .socket
        cmp     rax, -4095
        jae     .regular_file
        mov     [log_fd], eax
        ret
.socket:
        mov     byte [log_is_socket], 1
.as_it_is:
        mov     dword [log_fd], 1
        ret
.regular_file:
        mov     edi, 1
        mov     esi, read_buffer                ; (a struct stat; free before serving)
        sys     SYS_fstat
        test    rax, rax
        jnz     .fail
        mov     eax, [read_buffer + STAT_MODE]
        and     eax, S_IFMT
        cmp     eax, S_IFREG
        je      .as_it_is
.fail:
        mov     esi, msg_no_log
        mov     edx, msg_no_log_len
        call    print_error
        mov     edi, 1
        jmp     exit

; read_log_clock: reads the wall clock for the lines of this event batch: log_us, and log_time_text (RFC 3339,
; UTC, microseconds), whose date and time are made again only when the second changes.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
read_log_clock:
        mov     edi, CLOCK_REALTIME
        mov     esi, timespec
        sys     SYS_clock_gettime
        mov     eax, [timespec + 8]
        xor     edx, edx
        mov     ecx, 1000
        div     ecx                             ; microseconds of the second
        imul    rcx, [timespec], 1000000
        add     rcx, rax
        mov     [log_us], rcx
        lea     edi, [log_time_text + 26]       ; six digits, from the last, before the "Z"
        mov     ecx, 10
.micro:
        xor     edx, edx
        div     ecx
        add     dl, '0'
        dec     edi
        mov     [rdi], dl
        cmp     edi, log_time_text + 20
        ja      .micro
        mov     eax, [timespec]
        cmp     eax, [log_second]
        je      .same_second
        mov     [log_second], eax
        ; The IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") rearranged: "1994-11-06T08:49:37."
        mov     edi, log_date_scratch
        call    format_date
        mov     eax, [log_date_scratch + 12]    ; the year
        mov     [log_time_text], eax
        mov     eax, [log_date_scratch + 8]     ; the month's name, as a number
        and     eax, 0xffffff
        mov     esi, month_names
        mov     ecx, '01'
.month:
        mov     edx, [rsi]
        and     edx, 0xffffff
        cmp     edx, eax
        je      .month_found
        add     esi, 3
        inc     ch
        cmp     ch, '9'
        jbe     .month
        mov     ecx, '10'
        jmp     .month
.month_found:
        mov     byte [log_time_text + 4], '-'
        mov     [log_time_text + 5], cx
        mov     byte [log_time_text + 7], '-'
        mov     ax, [log_date_scratch + 5]      ; the day
        mov     [log_time_text + 8], ax
        mov     byte [log_time_text + 10], 'T'
        mov     rax, [log_date_scratch + 17]    ; the time of day
        mov     [log_time_text + 11], rax
        mov     byte [log_time_text + 19], '.'
        mov     byte [log_time_text + 26], 'Z'
.same_second:
        ret

; log_request: appends the access log line of a response (docs/server.md "Access log").
; IN: eax = the response's descriptor, r8d = its R_* flags, rsi = its request's head, ecx = input bytes from
;     there (the request line ends within them, if it came), r12d = the connection's descriptor
; CLOBBERS: rcx, rsi, rdi, r10, r11 (keeps rax, rdx, r8, r9)
log_request:
        push    rax
        push    rdx
        push    r8
        push    r9
        push    rbx
        mov     rbx, rax
        lea     r9, [rsi + rcx]                 ; the input's end
        push    rsi
        call    begin_log_line                  ; (rsi, r8 and r9 are kept)
        pop     r10                             ; the head
        jc      .done                           ; no room: dropped
        mov     esi, line_remote
        mov     ecx, line_remote_len
        rep     movsb
        mov     r11d, r12d
        shl     r11d, PEER_SHIFT
        add     r11d, peers
        lea     esi, [r11 + P_ADDR]
        movzx   ecx, byte [r11 + P_ADDR_LEN]
        rep     movsb
        mov     esi, line_port
        mov     ecx, line_port_len
        rep     movsb
        movzx   eax, word [r11 + P_PORT]
        call    put_decimal
        ; The request line's three parts, as they came (a malformed one too, escaped).
        mov     rsi, r10
        mov     r10, r9
        push    r11
        mov     eax, line_method
        mov     ecx, line_method_len
        mov     edx, SHORT_FIELD_MAX
        mov     r11b, ' '
        call    put_json_field
        mov     eax, line_path
        mov     ecx, line_path_len
        mov     edx, PATH_FIELD_MAX
        call    put_json_field
        mov     eax, line_version
        mov     ecx, line_version_len
        mov     edx, SHORT_FIELD_MAX
        mov     r11b, `\n`                      ; spaces are the version's, only the line's end ends it
        call    put_json_field
        pop     r11
        mov     esi, line_status
        mov     ecx, line_status_len
        rep     movsb
        movzx   eax, byte [rbx + D_STATUS_INDEX]
        shr     eax, 2
        lea     esi, [rax + rax*2 + status_codes]
        movsw
        movsb
        mov     esi, line_bytes
        mov     ecx, line_bytes_len
        rep     movsb
        mov     r8d, [rsp + 16]                 ; the R_* flags
        movzx   eax, word [rbx + D_STATUS_LEN]  ; the response's length, as build_iovecs makes it
        add     ax, [rbx + D_TYPE_LEN]
        add     eax, DATE_LINE_LEN + connection_keep_alive_len
        test    r8b, R_CLOSE
        jz      .keep_alive
        add     eax, connection_close_len - connection_keep_alive_len
.keep_alive:
        test    r8b, R_HEAD
        jnz     .length
        movzx   ecx, word [rbx + D_BODY_LEN]
        add     eax, ecx
.length:
        call    put_decimal
        mov     esi, line_duration
        mov     ecx, line_duration_len
        rep     movsb
        mov     rax, [r11 + P_SINCE]            ; since the input began to wait, or 0: it came in this batch
        mov     qword [r11 + P_SINCE], 0
        test    rax, rax
        jz      .duration
        neg     rax
        add     rax, [log_us]
        jns     .duration
        xor     eax, eax                        ; the wall clock was set back meanwhile: nothing to tell
.duration:
        call    put_decimal
        call    end_log_line
.done:
        pop     rbx
        pop     r9
        pop     r8
        pop     rdx
        pop     rax
        ret

; put_json_field: appends `,"name":"value"` with a part of the request line as the value: its bytes up to a
; stop byte (r11b, or the line's end), escaped as JSON strings need (`"`, `\`, and as \u00XX the controls, DEL
; and bytes above 127, so that the line is valid UTF-8 whatever came); cut at a number of bytes of JSON text.
; Then skips the stop byte, when it is a space.
; IN: eax = the name part (`","name":"`), ecx = its length, rsi = the value's first byte, r10 = the input's end,
;     edx = the most bytes of JSON text, r11b = the stop byte, rdi = where
; OUT: rsi = after the value (and its space), rdi = after the text   CLOBBERS: rax, rcx, rdx
put_json_field:
        xchg    eax, esi
        rep     movsb
        mov     esi, eax
.next:
        cmp     rsi, r10
        jae     .done
        movzx   eax, byte [rsi]
        cmp     al, `\r`
        je      .done
        cmp     al, `\n`
        je      .done
        cmp     al, r11b
        je      .stop
        inc     rsi
        cmp     al, ' '
        jb      .escape
        cmp     al, 0x7f
        jae     .escape
        cmp     al, '"'
        je      .backslash
        cmp     al, '\'
        je      .backslash
        sub     edx, 1
        jb      .cut
        stosb
        jmp     .next
.backslash:
        sub     edx, 2
        jb      .cut
        mov     byte [rdi], '\'
        inc     rdi
        stosb
        jmp     .next
.escape:
        sub     edx, 6
        jb      .cut
        mov     dword [rdi], '\u00'
        mov     ecx, eax
        shr     ecx, 4
        and     eax, 15
        mov     cl, [hex_digits + rcx]
        mov     ch, [hex_digits + rax]
        mov     [rdi + 4], cx
        add     rdi, 6
        jmp     .next
.cut:
        xor     edx, edx                        ; nothing more fits: the rest is skipped
        jmp     .next
.stop:
        inc     rsi
.done:
        ret

; begin_log_line: makes room for a line in log_buffer (writing what waits, if the buffer is nearly full) and
; starts it: `{"time":"...",`. A line that finds no room is dropped and counted.
; OUT: rdi = where the line goes on; CF = 1 when dropped   CLOBBERS: rax, rcx, rdx, rdi, r10, r11 (keeps rsi,
; r8, r9)
begin_log_line:
        cmp     dword [log_used], LOG_BUFFER - LOG_LINE_MAX
        jbe     .room
        push    rsi
        push    r8
        push    r9
        call    flush_log
        pop     r9
        pop     r8
        pop     rsi
        cmp     dword [log_used], LOG_BUFFER - LOG_LINE_MAX
        jbe     .room
        count   shared_counters + M_LOG_DROPPED
        stc
        ret
.room:
        mov     edi, [log_used]
        add     edi, log_buffer
        mov     rax, '{"time":'
        stosq
        mov     byte [rdi], '"'
        inc     edi
        push    rsi
        mov     esi, log_time_text
        mov     ecx, LOG_TIME_LEN
        rep     movsb
        pop     rsi
        mov     word [rdi], '",'
        add     edi, 2
        clc
        ret

; end_log_line: ends the line begun at log_used (`}` and a newline) and adds it to the buffer.
; IN: rdi = the line's end   CLOBBERS: rdi
end_log_line:
        mov     word [rdi], `}\n`
        add     edi, 2
        sub     edi, log_buffer
        mov     [log_used], edi
        ret

; flush_log: writes the lines waiting in log_buffer, in writes of at most PIPE_BUF bytes that end at a line's
; end. What the log does not take now (EAGAIN) stays, and epoll reports when it takes more (watch_log); lines
; it refuses for good (an error: stdout closed, say) are dropped and counted.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
flush_log:
        mov     r8d, log_buffer                 ; the first byte not written
.next:
        mov     edx, [log_used]
        add     edx, log_buffer
        sub     edx, r8d
        jz      .keep
        cmp     edx, PIPE_BUF
        jbe     .write
        lea     esi, [r8 + PIPE_BUF - 1]        ; a line is shorter than PIPE_BUF: one ends in the first
        mov     edx, PIPE_BUF                   ; (else, which cannot be, they go as they are)
.line_end:
        cmp     byte [rsi], `\n`
        je      .cut
        dec     esi
        cmp     esi, r8d
        jae     .line_end
        jmp     .write
.cut:
        lea     edx, [rsi + 1]
        sub     edx, r8d
.write:
        mov     edi, [log_fd]
        mov     esi, r8d
        cmp     byte [log_is_socket], 0
        jne     .send
        sys     SYS_write
        jmp     .written
.send:
        mov     r10d, MSG_DONTWAIT
        xor     r8d, r8d
        push    rsi
        xor     r9d, r9d
        sys     SYS_sendto
        pop     r8
.written:
        cmp     rax, -EINTR
        je      .next
        cmp     rax, -EAGAIN
        je      .full
        cmp     rax, -4095
        jae     .refused
        add     r8d, eax
        jmp     .next
.refused:
        mov     ecx, [log_used]                 ; count the lines given up, and give them up
        add     ecx, log_buffer
        xor     eax, eax
.count_line:
        cmp     byte [r8], `\n`
        jne     .counted
        inc     eax
.counted:
        inc     r8d
        cmp     r8d, ecx
        jb      .count_line
        lock add [shared_counters + M_LOG_DROPPED], rax
        jmp     .keep
.full:
        call    watch_log
.keep:
        ; The lines not written go to the buffer's start.
        mov     ecx, [log_used]
        add     ecx, log_buffer
        sub     ecx, r8d
        mov     [log_used], ecx
        mov     esi, r8d
        mov     edi, log_buffer
        rep     movsb
        ret

; watch_log: asks epoll to report once when the log takes more (a full pipe drained): its event ends a batch,
; which writes the lines that wait. The log is re-armed in this process's epoll set, or added to it the first time.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
watch_log:
        push    r8
        mov     edi, [log_fd]
        mov     esi, EPOLLOUT | EPOLLONESHOT
        mov     eax, EPOLL_CTL_MOD
        call    epoll_control
        test    rax, rax
        jz      .watched
        mov     edi, [log_fd]                   ; not in the set yet (ENOENT)
        mov     esi, EPOLLOUT | EPOLLONESHOT
        call    watch
.watched:
        pop     r8
        ret

; note_peer: notes a new connection's client for its log lines: its address as text (an IPv4 one, mapped
; into IPv6 or not, in dotted decimal; an IPv6 one as RFC 5952 writes it) and its port.
; IN: eax = the connection's descriptor, peer_address filled by accept4   CLOBBERS: rcx, rdx, rsi, rdi, r8-r11
note_peer:
        push    rax
        mov     r11d, eax
        shl     r11d, PEER_SHIFT
        add     r11d, peers
        mov     qword [r11 + P_SINCE], 0
        movzx   eax, word [peer_address + 2]    ; sin_port / sin6_port, in network byte order
        xchg    al, ah
        mov     [r11 + P_PORT], ax
        lea     edi, [r11 + P_ADDR]
        mov     esi, peer_address + 4           ; sin_addr
        cmp     word [peer_address], AF_INET
        je      .ipv4
        mov     esi, peer_address + 20          ; the IPv4 address in ::ffff:a.b.c.d
        cmp     qword [peer_address + 8], 0
        jne     .ipv6
        cmp     dword [peer_address + 16], 0xffff0000
        je      .ipv4
.ipv6:
        call    put_ipv6
        jmp     .noted
.ipv4:
        call    put_ipv4
.noted:
        lea     eax, [r11 + P_ADDR]
        sub     edi, eax
        mov     [r11 + P_ADDR_LEN], dil
        pop     rax
        ret

; put_ipv4: writes an IPv4 address in dotted decimal.
; IN: rsi = its 4 bytes, rdi = where   OUT: rdi = after it   CLOBBERS: rax, rcx, rdx, rsi, r8
put_ipv4:
        mov     r8, rsi
.byte:
        movzx   eax, byte [r8]
        inc     r8
        call    put_decimal
        mov     byte [rdi], '.'
        inc     rdi
        test    r8d, 3                          ; peer_address + 4 and + 20 are 4-aligned
        jnz     .byte
        dec     rdi                             ; no dot after the last
        ret

; put_ipv6: writes an IPv6 address as RFC 5952 says: lower-case hex groups without leading zeros, and the
; longest run of two or more zero groups (the first of equals) as "::".
; IN: peer_address + 8 = its 16 bytes, rdi = where   OUT: rdi = after it   CLOBBERS: rax, rcx, rdx, rsi, r8, r9
put_ipv6:
        ; The longest run of zero groups: r8d = its first group, r9d = its length (a run of one is not taken).
        mov     r8d, -1
        mov     r9d, 1
        xor     ecx, ecx                        ; group
        xor     edx, edx                        ; the current run's length
.find_run:
        cmp     word [peer_address + 8 + rcx*2], 0
        jne     .not_zero
        inc     edx
        cmp     edx, r9d
        jbe     .next_group
        mov     r9d, edx
        lea     r8d, [rcx + 1]
        sub     r8d, edx
        jmp     .next_group
.not_zero:
        xor     edx, edx
.next_group:
        inc     ecx
        cmp     ecx, 8
        jb      .find_run
        xor     edx, edx                        ; group
.put_group:
        cmp     edx, r8d
        jne     .group
        mov     word [rdi], '::'
        add     rdi, 2
        add     edx, r9d
        cmp     edx, 8
        jb      .group_digits                   ; no colon after "::"
        ret
.group:
        test    edx, edx
        jz      .group_digits
        mov     byte [rdi], ':'
        inc     rdi
.group_digits:
        movzx   eax, word [peer_address + 8 + rdx*2]
        xchg    al, ah                          ; network byte order
        mov     ecx, 12                         ; the highest nibble's shift: leading zeros are left out
.skip_zero:
        mov     esi, eax
        shr     esi, cl
        test    esi, esi
        jnz     .digit
        sub     ecx, 4
        jnz     .skip_zero
.digit:
        mov     esi, eax
        shr     esi, cl
        and     esi, 15
        movzx   esi, byte [hex_digits + rsi]
        mov     [rdi], sil
        inc     rdi
        sub     ecx, 4
        jns     .digit
        inc     edx
        cmp     edx, 8
        jb      .put_group
        ret

; log_start: the start event, in place of the startup lines: the URLs of the server and of its metrics (when
; they have a port of their own). The line is written when the event loop starts (event_loop), so that a stdout
; that is full already is watched like any other time.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_start:
        mov     esi, event_start
        mov     ecx, event_start_len
        call    log_event
        jc      .done
        mov     esi, line_url
        mov     ecx, line_url_len
        rep     movsb
        call    put_any_address
        mov     eax, [cfg_port]                 ; (the number: PORT's text may have any number of leading zeros)
        call    put_decimal
        cmp     dword [metrics_fd], 0
        jl      .end
        mov     esi, line_metrics_url
        mov     ecx, line_metrics_url_len
        rep     movsb
        call    put_any_address
        mov     eax, [cfg_metrics_port]
        call    put_decimal
        mov     esi, line_metrics_path
        mov     ecx, line_metrics_path_len
        rep     movsb
.end:
        mov     byte [rdi], '"'
        inc     rdi
        jmp     end_log_line
.done:
        ret

; put_any_address: writes the listeners' address and the colon before the port: "[::]:", or "0.0.0.0:" when
; the kernel has no IPv6.
; IN: rdi = where   OUT: rdi = after it   CLOBBERS: rcx, rsi
put_any_address:
        mov     esi, any_ipv6
        mov     ecx, any_ipv6_len
        cmp     byte [ipv4_only], 0
        je      .put
        mov     esi, any_ipv4
        mov     ecx, any_ipv4_len
.put:
        rep     movsb
        ret

; log_drain_begun: the drain_begun event (the first SIGTERM or SIGINT), with the drain delay.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_drain_begun:
        mov     esi, event_drain_begun
        mov     ecx, event_drain_begun_len
        call    log_event
        jc      .done
        mov     esi, line_delay
        mov     ecx, line_delay_len
        rep     movsb
        mov     eax, [cfg_drain]
        call    put_decimal
        jmp     end_log_event
.done:
        ret

; log_drain_ended: the drain_ended event (the delay is over: the listeners close).
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_drain_ended:
        mov     esi, event_drain_ended
        mov     ecx, event_drain_ended_len
        call    log_event
        jc      .done
        jmp     end_log_event
.done:
        ret

; log_worker_replaced: the worker_replaced event: a worker started in the slot of one that ended (none when the
; fork failed: it is tried again).
; IN: eax = the slot (worker index)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_worker_replaced:
        cmp     dword [child_pids + rax*4], 0
        je      .done
        push    rax
        mov     esi, event_worker_replaced
        mov     ecx, event_worker_replaced_len
        call    log_event
        pop     rax
        jc      .done
        mov     esi, line_worker
        mov     ecx, line_worker_len
        rep     movsb
        push    rax
        call    put_decimal
        pop     rax
        mov     esi, line_worker_pid
        mov     ecx, line_worker_pid_len
        rep     movsb
        mov     eax, [child_pids + rax*4]
        call    put_decimal
        jmp     end_log_event
.done:
        ret

; log_exit: the exit event, with the status the first process exits with, and the last lines written.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_exit:
        mov     esi, event_exit
        mov     ecx, event_exit_len
        call    log_event
        jc      .done
        mov     esi, line_exit_status
        mov     ecx, line_exit_status_len
        rep     movsb
        movzx   eax, byte [crashed]
        call    put_decimal
        jmp     end_log_event
.done:
        ret

; log_event: appends a lifecycle line, `{"time":"...","event":"NAME","pid":N` and what the caller adds, and
; writes it at once (the first process's events only: a worker's start and drain are the server's).
; IN: esi = `"event":"NAME","pid":`, ecx = its length   OUT: rdi = where the line goes on; CF = 1 when no line
;     is to be made (the log is off, this is a worker, or no room)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
log_event:
        cmp     byte [access_log], 0
        je      .none
        cmp     byte [in_worker], 0
        jne     .none
        push    rsi
        push    rcx
        call    read_log_clock
        call    begin_log_line
        pop     rcx
        pop     rsi
        jc      .none
        rep     movsb
        mov     eax, [first_pid]
        call    put_decimal
        clc
        ret
.none:
        stc
        ret

; end_log_event: ends a lifecycle line and writes it.
; IN: rdi = the line's end   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
end_log_event:
        call    end_log_line
        jmp     flush_log

        section .rodata
proc_stdout:    db "/proc/self/fd/1", 0
hex_digits:     db "0123456789abcdef"
line_remote:    db '"remote_addr":"'
line_remote_len equ $ - line_remote
line_port:      db '","remote_port":'
line_port_len equ $ - line_port
line_method:    db ',"method":"'
line_method_len equ $ - line_method
line_path:      db '","path":"'
line_path_len equ $ - line_path
line_version:   db '","version":"'
line_version_len equ $ - line_version
line_status:    db '","status":'
line_status_len equ $ - line_status
line_bytes:     db ',"bytes":'
line_bytes_len equ $ - line_bytes
line_duration:  db ',"duration_us":'
line_duration_len equ $ - line_duration
event_start:    db '"event":"start","pid":'
event_start_len equ $ - event_start
line_url:       db ',"url":"http://'
line_url_len equ $ - line_url
line_metrics_url: db '","metrics_url":"http://'
line_metrics_url_len equ $ - line_metrics_url
line_metrics_path: db '/metrics'
line_metrics_path_len equ $ - line_metrics_path
event_drain_begun: db '"event":"drain_begun","pid":'
event_drain_begun_len equ $ - event_drain_begun
line_delay:     db ',"delay_seconds":'
line_delay_len equ $ - line_delay
event_drain_ended: db '"event":"drain_ended","pid":'
event_drain_ended_len equ $ - event_drain_ended
event_worker_replaced: db '"event":"worker_replaced","pid":'
event_worker_replaced_len equ $ - event_worker_replaced
line_worker:    db ',"worker":'
line_worker_len equ $ - line_worker
line_worker_pid: db ',"worker_pid":'
line_worker_pid_len equ $ - line_worker_pid
event_exit:     db '"event":"exit","pid":'
event_exit_len equ $ - event_exit
line_exit_status: db ',"status":'
line_exit_status_len equ $ - line_exit_status
msg_no_log:     db "ACCESS_LOG=json cannot open stdout without blocking (/proc/self/fd/1)", 10
msg_no_log_len equ $ - msg_no_log
        section .text
