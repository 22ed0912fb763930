// The access log (ACCESS_LOG=json): a JSON line on stdout for every response and for the server's lifecycle
// events. Lines are gathered in log_buffer and written once an event batch (flush_log), in writes of at most
// PIPE_BUF bytes that end at a line's end, so that no other worker's line falls inside one. Stdout is opened
// anew, non-blocking, so a full pipe never stalls serving: what it does not take waits in the buffer, and lines
// that find the buffer full are dropped and counted (M_LOG_DROPPED).

        .equ    LOG_BUFFER, 65536       // a worker's lines waiting to be written
        .equ    LOG_LINE_MAX, 3072      // the longest line: the fields below are cut to fit it
        .equ    PATH_FIELD_MAX, 2048    // bytes of JSON text a path may take (a longer one is cut)
        .equ    SHORT_FIELD_MAX, 64     // ...a method or a version
        .equ    PIPE_BUF, 4096          // the most a write to a pipe keeps together
        .equ    LOG_TIME_LEN, 27        // "2026-12-04T05:15:12.123456Z"

// open_log: opens stdout anew for the log (/proc/self/fd/1): a file description of its own, non-blocking and
// appending, so that the runtime's pipe or the terminal keeps its flags. A socket (systemd's journal) cannot be
// opened so: the log then sends to stdout with MSG_DONTWAIT, non-blocking for that call only. A regular file
// that cannot be opened again (another user's) is written as it is: a write to a file never waits for a reader.
// OUT: log_fd, log_is_socket; never returns on failure (exit 1 with a message)   CLOBBERS: x0-x3, x8
open_log:
        mov     x0, #AT_FDCWD
        adr     x1, proc_stdout
        mov     w2, #O_WRONLY | O_APPEND | O_NONBLOCK
        movk    w2, #O_CLOEXEC >> 16, lsl #16
        mov     x3, #0
        sys     openat
        cmn     x0, #ENXIO
        b.eq    1f
        cmn     x0, #4095
        b.hs    3f
        str     w0, [state, #log_fd]
        ret
1:      mov     w0, #1
        strb    w0, [state, #log_is_socket]
2:      mov     w0, #1
        str     w0, [state, #log_fd]
        ret
3:      mov     w0, #1
        adr     x1, read_buffer                 // (a struct stat; free before serving)
        sys     fstat
        cbnz    x0, 4f
        adr     x1, read_buffer
        ldr     w0, [x1, #STAT_MODE]
        and     w0, w0, #S_IFMT
        cmp     w0, #S_IFREG
        b.eq    2b
4:      adr     x1, msg_no_log
        mov     w2, #msg_no_log_len
        bl      print_error
        mov     w0, #1
        b       exit

// read_log_clock: reads the wall clock for the lines of this event batch: log_us, and log_time_text (RFC 3339,
// UTC, microseconds), whose date and time are made again only when the second changes.
// CLOBBERS: x0-x8
read_log_clock:
        str     x30, [sp, #-16]!
        mov     w0, #CLOCK_REALTIME
        add     x1, state, #timespec
        sys     clock_gettime
        ldp     x2, x3, [x1]                    // seconds, nanoseconds
        mov     x4, #1000
        udiv    x3, x3, x4                      // microseconds of the second
        mov     x5, #1000000 & 0xffff
        movk    x5, #1000000 >> 16, lsl #16
        madd    x4, x2, x5, x3
        str     x4, [state, #log_us]
        add     x5, state, #log_time_text + 26  // six digits, from the last, before the "Z"
        mov     x4, #10
        mov     w6, #6
1:      udiv    x7, x3, x4
        msub    x0, x7, x4, x3
        add     w0, w0, #'0'
        strb    w0, [x5, #-1]!
        mov     x3, x7
        subs    w6, w6, #1
        b.ne    1b
        ldr     w0, [state, #log_second]
        cmp     w0, w2
        b.eq    4f
        str     w2, [state, #log_second]
        // The IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") rearranged: "1994-11-06T08:49:37."
        mov     w0, w2
        add     x1, state, #log_date_scratch
        bl      format_date
        add     x1, state, #log_date_scratch
        add     x5, state, #log_time_text
        ldr     w0, [x1, #12]                   // the year
        str     w0, [x5]
        ldr     w0, [x1, #8]                    // the month's name, as a number
        and     w0, w0, #0xffffff
        adr     x2, month_names
        mov     w3, #1
2:      ldr     w4, [x2], #3
        and     w4, w4, #0xffffff
        cmp     w4, w0
        b.eq    3f
        add     w3, w3, #1
        b       2b
3:      mov     w4, #10
        udiv    w6, w3, w4
        msub    w7, w6, w4, w3
        add     w6, w6, #'0'
        add     w7, w7, #'0'
        mov     w0, #'-'
        strb    w0, [x5, #4]
        strb    w6, [x5, #5]
        strb    w7, [x5, #6]
        strb    w0, [x5, #7]
        ldurh   w0, [x1, #5]                    // the day
        strh    w0, [x5, #8]
        mov     w0, #'T'
        strb    w0, [x5, #10]
        ldur    x0, [x1, #17]                   // the time of day
        stur    x0, [x5, #11]
        mov     w0, #'.'
        strb    w0, [x5, #19]
        mov     w0, #'Z'
        strb    w0, [x5, #26]
4:      ldr     x30, [sp], #16
        ret

// log_request: appends the access log line of a response (docs/server.md "Access log").
// IN: x0 = the response's descriptor, w3 = its R_* flags, x1 = its request's head, w5 = input bytes from there
//     (the request line ends within them, if it came), fd
// CLOBBERS: x1, x5-x14 (keeps x0, x2-x4)
log_request:
        response .req x12
        input_end .req x13
        peer    .req x11
        cursor  .req x6                         // the next byte of the request line
        stop    .req w9                         // the byte that ends a part of it
        stp     x0, x2, [sp, #-48]!
        stp     x3, x4, [sp, #16]
        str     x30, [sp, #32]
        mov     response, x0
        add     input_end, x1, w5, uxtw
        mov     x14, x1
        bl      begin_log_line
        b.cs    .Llog_done                      // no room: dropped
        adr     x1, line_remote
        mov     w2, #line_remote_len
        bl      copy_bytes
        adrp    peer, peers
        add     peer, peer, :lo12:peers
        add     peer, peer, x20, lsl #PEER_SHIFT
        add     x1, peer, #P_ADDR
        ldrb    w2, [peer, #P_ADDR_LEN]
        bl      copy_bytes
        adr     x1, line_port
        mov     w2, #line_port_len
        bl      copy_bytes
        ldrh    w1, [peer, #P_PORT]
        bl      put_decimal
        // The request line's three parts, as they came (a malformed one too, escaped).
        mov     cursor, x14
        adr     x1, line_method
        mov     w2, #line_method_len
        mov     w7, #SHORT_FIELD_MAX
        mov     stop, #' '
        bl      put_json_field
        adr     x1, line_path
        mov     w2, #line_path_len
        mov     w7, #PATH_FIELD_MAX
        bl      put_json_field
        adr     x1, line_version
        mov     w2, #line_version_len
        mov     w7, #SHORT_FIELD_MAX
        mov     stop, #10                       // spaces are the version's, only the line's end ends it
        bl      put_json_field
        adr     x1, line_status
        mov     w2, #line_status_len
        bl      copy_bytes
        ldrb    w1, [response, #D_STATUS_INDEX]
        lsr     w1, w1, #2
        add     w1, w1, w1, lsl #1
        adr     x2, status_codes
        add     x1, x2, x1
        mov     w2, #3
        bl      copy_bytes
        adr     x1, line_bytes
        mov     w2, #line_bytes_len
        bl      copy_bytes
        ldr     x3, [sp, #16]                   // the R_* flags
        ldrh    w1, [response, #D_STATUS_LEN]   // the response's length, as build_iovecs makes it
        ldrh    w2, [response, #D_TYPE_LEN]
        add     w1, w1, w2
        add     w1, w1, #DATE_LINE_LEN + connection_keep_alive_len
        tbz     w3, #R_CLOSE_BIT, 1f
        add     w1, w1, #connection_close_len - connection_keep_alive_len
1:      tbnz    w3, #R_HEAD_BIT, 2f
        ldrh    w2, [response, #D_BODY_LEN]
        add     w1, w1, w2
2:      bl      put_decimal
        adr     x1, line_duration
        mov     w2, #line_duration_len
        bl      copy_bytes
        ldr     x1, [peer, #P_SINCE]            // since the input began to wait, or 0: it came in this batch
        str     xzr, [peer, #P_SINCE]
        cbz     x1, 3f
        ldr     x2, [state, #log_us]
        subs    x1, x2, x1
        csel    x1, x1, xzr, pl                 // the wall clock was set back meanwhile: nothing to tell
3:      bl      put_decimal
        bl      end_log_line
.Llog_done:
        ldp     x3, x4, [sp, #16]
        ldr     x30, [sp, #32]
        ldp     x0, x2, [sp], #48
        ret
        .unreq  response
        .unreq  input_end
        .unreq  peer

// put_json_field: appends `,"name":"value"` with a part of the request line as the value: its bytes up to a
// stop byte (or the line's end), escaped as JSON strings need (`"`, `\`, and as \u00XX the controls, DEL and
// bytes above 127, so that the line is valid UTF-8 whatever came); cut at a number of bytes of JSON text.
// Then skips the stop byte, when it is a space.
// IN: x1 = the name part (`","name":"`), w2 = its length, cursor (x6) = the value's first byte, x13 = the
//     input's end, w7 = the most bytes of JSON text, stop (w9) = the stop byte, x0 = where
// OUT: cursor = after the value (and its space), x0 = after the text   CLOBBERS: x1-x3, x5, x7
put_json_field:
        mov     x5, x30
        bl      copy_bytes
        mov     x30, x5
.Lfield_next:
        cmp     cursor, x13
        b.hs    .Lfield_done
        ldrb    w1, [cursor]
        cmp     w1, #13
        b.eq    .Lfield_done
        cmp     w1, #10
        b.eq    .Lfield_done
        cmp     w1, stop
        b.eq    .Lfield_stop
        add     cursor, cursor, #1
        cmp     w1, #' '
        b.lo    .Lfield_escape
        cmp     w1, #0x7f
        b.hs    .Lfield_escape
        cmp     w1, #'"'
        b.eq    .Lfield_backslash
        cmp     w1, #'\\'
        b.eq    .Lfield_backslash
        subs    w7, w7, #1
        b.lo    .Lfield_cut
        strb    w1, [x0], #1
        b       .Lfield_next
.Lfield_backslash:
        subs    w7, w7, #2
        b.lo    .Lfield_cut
        mov     w2, #'\\'
        strb    w2, [x0], #1
        strb    w1, [x0], #1
        b       .Lfield_next
.Lfield_escape:
        subs    w7, w7, #6
        b.lo    .Lfield_cut
        mov     w2, #0x755c                     // "\u00"
        movk    w2, #0x3030, lsl #16
        str     w2, [x0]
        adr     x3, hex_digits
        lsr     w2, w1, #4
        ldrb    w2, [x3, x2]
        strb    w2, [x0, #4]
        and     w1, w1, #15
        ldrb    w1, [x3, x1]
        strb    w1, [x0, #5]
        add     x0, x0, #6
        b       .Lfield_next
.Lfield_cut:
        mov     w7, #0                          // nothing more fits: the rest is skipped
        b       .Lfield_next
.Lfield_stop:
        add     cursor, cursor, #1
.Lfield_done:
        ret
        .unreq  cursor
        .unreq  stop

// begin_log_line: makes room for a line in log_buffer (writing what waits, if the buffer is nearly full) and
// starts it: `{"time":"...",`. A line that finds no room is dropped and counted.
// OUT: x0 = where the line goes on, C = 1 when dropped   CLOBBERS: x1-x8 (keeps x9-x15)
begin_log_line:
        ldr     w0, [state, #log_used]
        mov     w1, #LOG_BUFFER - LOG_LINE_MAX
        cmp     w0, w1
        b.ls    1f
        str     x30, [sp, #-16]!
        bl      flush_log
        ldr     x30, [sp], #16
        ldr     w0, [state, #log_used]
        mov     w1, #LOG_BUFFER - LOG_LINE_MAX
        cmp     w0, w1
        b.ls    1f
        count   M_LOG_DROPPED, w1
        set_carry
        ret
1:      adrp    x1, log_buffer
        add     x1, x1, :lo12:log_buffer
        add     x0, x1, w0, uxtw
        mov     x4, x30
        adr     x1, line_time
        mov     w2, #line_time_len
        bl      copy_bytes
        add     x1, state, #log_time_text
        mov     w2, #LOG_TIME_LEN
        bl      copy_bytes
        mov     w1, #0x2c22                     // `",`
        strh    w1, [x0], #2
        mov     x30, x4
        clear_carry
        ret

// end_log_line: ends the line begun at log_used (`}` and a newline) and adds it to the buffer.
// IN: x0 = the line's end   CLOBBERS: x0, x1
end_log_line:
        mov     w1, #0x0a7d                     // "}\n"
        strh    w1, [x0], #2
        adrp    x1, log_buffer
        add     x1, x1, :lo12:log_buffer
        sub     x0, x0, x1
        str     w0, [state, #log_used]
        ret

// flush_log: writes the lines waiting in log_buffer, in writes of at most PIPE_BUF bytes that end at a line's
// end. What the log does not take now (EAGAIN) stays, and epoll reports when it takes more (watch_log); lines
// it refuses for good (an error: stdout closed, say) are dropped and counted.
// CLOBBERS: x0-x8
flush_log:
        unwritten .req x6                       // the first byte not written
        buffer_end .req x7
        str     x30, [sp, #-16]!
        adrp    unwritten, log_buffer
        add     unwritten, unwritten, :lo12:log_buffer
        ldr     w0, [state, #log_used]
        add     buffer_end, unwritten, x0
.Lflush_next:
        subs    x2, buffer_end, unwritten
        b.eq    .Lflush_keep
        cmp     x2, #PIPE_BUF
        b.ls    .Lflush_write
        add     x1, unwritten, #PIPE_BUF - 1    // a line is shorter than PIPE_BUF: one ends in the first
        mov     x2, #PIPE_BUF                   // (else, which cannot be, they go as they are)
1:      ldrb    w0, [x1]
        cmp     w0, #10
        b.eq    2f
        sub     x1, x1, #1
        cmp     x1, unwritten
        b.hs    1b
        b       .Lflush_write
2:      add     x2, x1, #1
        sub     x2, x2, unwritten
.Lflush_write:
        ldr     w0, [state, #log_fd]
        mov     x1, unwritten
        ldrb    w3, [state, #log_is_socket]
        cbnz    w3, 3f
        sys     write
        b       4f
3:      mov     w3, #MSG_DONTWAIT
        mov     x4, #0
        mov     x5, #0
        sys     sendto
4:      cmn     x0, #EINTR
        b.eq    .Lflush_next
        cmn     x0, #EAGAIN
        b.eq    .Lflush_full
        cmn     x0, #4095
        b.hs    .Lflush_refused
        add     unwritten, unwritten, x0
        b       .Lflush_next
.Lflush_refused:
        mov     x1, #0                          // count the lines given up, and give them up
5:      ldrb    w0, [unwritten], #1
        cmp     w0, #10
        cinc    x1, x1, eq
        cmp     unwritten, buffer_end
        b.lo    5b
        adr     x16, shared_counters + M_LOG_DROPPED
        shared_add x16, x1, w0
        b       .Lflush_keep
.Lflush_full:
        bl      watch_log
.Lflush_keep:
        // The lines not written go to the buffer's start.
        adrp    x0, log_buffer
        add     x0, x0, :lo12:log_buffer
        sub     x2, buffer_end, unwritten
        str     w2, [state, #log_used]
        cbz     x2, 6f
        mov     x1, unwritten
        bl      copy_bytes
6:      ldr     x30, [sp], #16
        ret
        .unreq  unwritten
        .unreq  buffer_end

// watch_log: asks epoll to report once when the log takes more (a full pipe drained): its event ends a batch,
// which writes the lines that wait. The log is re-armed in this process's epoll set, or added to it the first time.
// CLOBBERS: x0-x5, x8
watch_log:
        mov     x5, x30
        ldr     w0, [state, #log_fd]
        mov     w1, #EPOLLOUT
        movk    w1, #EPOLLONESHOT >> 16, lsl #16
        mov     w4, #EPOLL_CTL_MOD
        bl      epoll_control
        mov     x30, x5
        cbz     x0, 1f
        ldr     w0, [state, #log_fd]            // not in the set yet (ENOENT)
        mov     w1, #EPOLLOUT
        movk    w1, #EPOLLONESHOT >> 16, lsl #16
        b       watch
1:      ret

// note_peer: notes a new connection's client for its log lines: its address as text (an IPv4 one, mapped
// into IPv6 or not, in dotted decimal; an IPv6 one as RFC 5952 writes it) and its port.
// IN: fd, peer_address filled by accept4   CLOBBERS: x0-x7, x9-x11
note_peer:
        peer    .req x11
        mov     x10, x30
        adrp    peer, peers
        add     peer, peer, :lo12:peers
        add     peer, peer, x20, lsl #PEER_SHIFT
        str     xzr, [peer, #P_SINCE]
        add     x6, state, #peer_address
        ldrh    w1, [x6, #2]                    // sin_port / sin6_port, in network byte order
        rev16   w1, w1
        strh    w1, [peer, #P_PORT]
        add     x0, peer, #P_ADDR
        ldrh    w1, [x6]
        add     x7, x6, #4                      // sin_addr
        cmp     w1, #AF_INET
        b.eq    2f
        add     x7, x6, #20                     // the IPv4 address in ::ffff:a.b.c.d
        ldr     x1, [x6, #8]
        cbnz    x1, 1f
        ldr     w1, [x6, #16]
        mov     w2, #0xffff0000
        cmp     w1, w2
        b.eq    2f
1:      bl      put_ipv6
        b       3f
2:      bl      put_ipv4
3:      add     x1, peer, #P_ADDR
        sub     x1, x0, x1
        strb    w1, [peer, #P_ADDR_LEN]
        ret     x10
        .unreq  peer

// put_ipv4: writes an IPv4 address in dotted decimal.
// IN: x7 = its 4 bytes, x0 = where   OUT: x0 = after it   CLOBBERS: x1-x7, x9
put_ipv4:
        mov     x9, x30
        add     x6, x7, #4
1:      ldrb    w1, [x7], #1
        bl      put_decimal
        mov     w1, #'.'
        strb    w1, [x0], #1
        cmp     x7, x6
        b.lo    1b
        sub     x0, x0, #1                      // no dot after the last
        ret     x9

// put_ipv6: writes an IPv6 address as RFC 5952 says: lower-case hex groups without leading zeros, and the
// longest run of two or more zero groups (the first of equals) as "::".
// IN: x6 = peer_address (the address at 8), x0 = where   OUT: x0 = after it   CLOBBERS: x1-x7, x9
put_ipv6:
        groups  .req x7
        run     .req w1                         // the longest run of zero groups: its first group
        run_len .req w2                         // ...and its length (a run of one is not taken)
        group   .req w3
        add     groups, x6, #8
        mov     run, #-1
        mov     run_len, #1
        mov     group, #0
        mov     w4, #0                          // the current run's length
1:      ldrh    w5, [groups, group, uxtw #1]
        cbnz    w5, 2f
        add     w4, w4, #1
        cmp     w4, run_len
        b.ls    3f
        mov     run_len, w4
        add     run, group, #1
        sub     run, run, w4
        b       3f
2:      mov     w4, #0
3:      add     group, group, #1
        cmp     group, #8
        b.lo    1b
        mov     group, #0
        adr     x9, hex_digits
.Lipv6_group:
        cmp     group, run
        b.ne    4f
        mov     w5, #0x3a3a                     // "::"
        strh    w5, [x0], #2
        add     group, group, run_len
        cmp     group, #8
        b.lo    .Lipv6_digits                   // no colon after "::"
        ret
4:      cbz     group, .Lipv6_digits
        mov     w5, #':'
        strb    w5, [x0], #1
.Lipv6_digits:
        ldrh    w5, [groups, group, uxtw #1]
        rev16   w5, w5                          // network byte order
        mov     w4, #12                         // the highest nibble's shift: leading zeros are left out
5:      lsr     w6, w5, w4
        cbnz    w6, 6f
        sub     w4, w4, #4
        cbnz    w4, 5b
6:      lsr     w6, w5, w4
        and     w6, w6, #15
        ldrb    w6, [x9, x6]
        strb    w6, [x0], #1
        subs    w4, w4, #4
        b.pl    6b
        add     group, group, #1
        cmp     group, #8
        b.lo    .Lipv6_group
        ret
        .unreq  groups
        .unreq  run
        .unreq  run_len
        .unreq  group

// log_start: the start event, in place of the startup lines: the URLs of the server and of its metrics (when
// they have a port of their own). The line is written when the event loop starts (event_loop), so that a stdout
// that is full already is watched like any other time.
// CLOBBERS: x0-x10
log_start:
        str     x30, [sp, #-16]!
        adr     x1, event_start
        mov     w2, #event_start_len
        bl      log_event
        b.cs    .Levent_none
        adr     x1, line_url
        mov     w2, #line_url_len
        bl      copy_bytes
        bl      put_any_address
        ldr     w1, [state, #cfg_port]          // (the number: PORT's text may have any number of leading zeros)
        bl      put_decimal
        ldr     w1, [state, #metrics_fd]
        tbnz    w1, #31, 1f
        adr     x1, line_metrics_url
        mov     w2, #line_metrics_url_len
        bl      copy_bytes
        bl      put_any_address
        ldr     w1, [state, #cfg_metrics_port]
        bl      put_decimal
        adr     x1, line_metrics_path
        mov     w2, #line_metrics_path_len
        bl      copy_bytes
1:      mov     w1, #'"'
        strb    w1, [x0], #1
        bl      end_log_line
        b       .Levent_none

// put_any_address: writes the listeners' address and the colon before the port: "[::]:", or "0.0.0.0:" when
// the kernel has no IPv6.
// IN: x0 = where   OUT: x0 = after it   CLOBBERS: x1-x3
put_any_address:
        adr     x1, any_ipv6
        mov     w2, #any_ipv6_len
        ldrb    w3, [state, #ipv4_only]
        cbz     w3, copy_bytes
        adr     x1, any_ipv4
        mov     w2, #any_ipv4_len
        b       copy_bytes

// log_drain_begun: the drain_begun event (the first SIGTERM or SIGINT), with the drain delay.
// CLOBBERS: x0-x10
log_drain_begun:
        str     x30, [sp, #-16]!
        adr     x1, event_drain_begun
        mov     w2, #event_drain_begun_len
        bl      log_event
        b.cs    .Levent_none
        adr     x1, line_delay
        mov     w2, #line_delay_len
        bl      copy_bytes
        ldr     w1, [state, #cfg_drain]
        bl      put_decimal
        b       .Levent_end

// log_drain_ended: the drain_ended event (the delay is over: the listeners close).
// CLOBBERS: x0-x10
log_drain_ended:
        str     x30, [sp, #-16]!
        adr     x1, event_drain_ended
        mov     w2, #event_drain_ended_len
        bl      log_event
        b.cs    .Levent_none
        b       .Levent_end

// log_worker_replaced: the worker_replaced event: a worker started in the slot of one that ended (none when the
// fork failed: it is tried again).
// IN: worker (w22) = the slot   CLOBBERS: x0-x10
log_worker_replaced:
        add     x1, state, #child_pids
        ldr     w1, [x1, w22, uxtw #2]
        cbz     w1, .Levent_return
        str     x30, [sp, #-16]!
        adr     x1, event_worker_replaced
        mov     w2, #event_worker_replaced_len
        bl      log_event
        b.cs    .Levent_none
        adr     x1, line_worker
        mov     w2, #line_worker_len
        bl      copy_bytes
        mov     w1, w22
        bl      put_decimal
        adr     x1, line_worker_pid
        mov     w2, #line_worker_pid_len
        bl      copy_bytes
        add     x1, state, #child_pids
        ldr     w1, [x1, w22, uxtw #2]
        bl      put_decimal
        b       .Levent_end

// log_exit: the exit event, with the status the first process exits with, and the last lines written.
// CLOBBERS: x0-x10
log_exit:
        str     x30, [sp, #-16]!
        adr     x1, event_exit
        mov     w2, #event_exit_len
        bl      log_event
        b.cs    .Levent_none
        adr     x1, line_exit_status
        mov     w2, #line_exit_status_len
        bl      copy_bytes
        ldrb    w1, [state, #crashed]
        bl      put_decimal
        // fall through

// The end of the lifecycle routines above, with their return address on the stack: the line ends and is
// written, or none was made.
.Levent_end:
        bl      end_log_event
.Levent_none:
        ldr     x30, [sp], #16
.Levent_return:
        ret

// log_event: appends the start of a lifecycle line, `{"time":"...","event":"NAME","pid":N`, to which the caller
// adds (the first process's events only: a worker's start and drain are the server's).
// IN: x1 = `"event":"NAME","pid":`, w2 = its length   OUT: x0 = where the line goes on; C = 1 when no line is to
// be made (the log is off, this is a worker, or no room)   CLOBBERS: x1-x9
log_event:
        ldrh    w0, [state, #access_log]        // and in_worker, the byte after it
        cmp     w0, #1                          // the log on, in the first process
        b.ne    1f
        stp     x1, x2, [sp, #-32]!
        str     x30, [sp, #16]
        bl      read_log_clock
        bl      begin_log_line
        ldp     x1, x2, [sp]
        ldr     x30, [sp, #16]
        add     sp, sp, #32                     // (the flags stay)
        b.cs    1f
        mov     x9, x30
        bl      copy_bytes
        ldr     w1, [state, #first_pid]
        bl      put_decimal
        mov     x30, x9
        clear_carry
        ret
1:      set_carry
        ret

// end_log_event: ends a lifecycle line and writes it.
// IN: x0 = the line's end   CLOBBERS: x0-x8, x10
end_log_event:
        mov     x10, x30
        bl      end_log_line
        mov     x30, x10
        b       flush_log

        .section .rodata
proc_stdout:    .asciz  "/proc/self/fd/1"
hex_digits:     .ascii  "0123456789abcdef"
line_time:      .ascii  "{\"time\":\""
        .equ    line_time_len, . - line_time
line_remote:    .ascii  "\"remote_addr\":\""
        .equ    line_remote_len, . - line_remote
line_port:      .ascii  "\",\"remote_port\":"
        .equ    line_port_len, . - line_port
line_method:    .ascii  ",\"method\":\""
        .equ    line_method_len, . - line_method
line_path:      .ascii  "\",\"path\":\""
        .equ    line_path_len, . - line_path
line_version:   .ascii  "\",\"version\":\""
        .equ    line_version_len, . - line_version
line_status:    .ascii  "\",\"status\":"
        .equ    line_status_len, . - line_status
line_bytes:     .ascii  ",\"bytes\":"
        .equ    line_bytes_len, . - line_bytes
line_duration:  .ascii  ",\"duration_us\":"
        .equ    line_duration_len, . - line_duration
event_start:    .ascii  "\"event\":\"start\",\"pid\":"
        .equ    event_start_len, . - event_start
line_url:       .ascii  ",\"url\":\"http://"
        .equ    line_url_len, . - line_url
line_metrics_url: .ascii "\",\"metrics_url\":\"http://"
        .equ    line_metrics_url_len, . - line_metrics_url
line_metrics_path: .ascii "/metrics"
        .equ    line_metrics_path_len, . - line_metrics_path
event_drain_begun: .ascii "\"event\":\"drain_begun\",\"pid\":"
        .equ    event_drain_begun_len, . - event_drain_begun
line_delay:     .ascii  ",\"delay_seconds\":"
        .equ    line_delay_len, . - line_delay
event_drain_ended: .ascii "\"event\":\"drain_ended\",\"pid\":"
        .equ    event_drain_ended_len, . - event_drain_ended
event_worker_replaced: .ascii "\"event\":\"worker_replaced\",\"pid\":"
        .equ    event_worker_replaced_len, . - event_worker_replaced
line_worker:    .ascii  ",\"worker\":"
        .equ    line_worker_len, . - line_worker
line_worker_pid: .ascii ",\"worker_pid\":"
        .equ    line_worker_pid_len, . - line_worker_pid
event_exit:     .ascii  "\"event\":\"exit\",\"pid\":"
        .equ    event_exit_len, . - event_exit
line_exit_status: .ascii ",\"status\":"
        .equ    line_exit_status_len, . - line_exit_status
msg_no_log:     .ascii  "ACCESS_LOG=json cannot open stdout without blocking (/proc/self/fd/1)\n"
        .equ    msg_no_log_len, . - msg_no_log
        .text
