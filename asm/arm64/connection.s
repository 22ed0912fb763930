// Connections: reading requests, writing responses (partial writes finished later), timers and closing.
// Every routine here takes conn (x19) = the connection's record and fd (w20) = its descriptor, and keeps both.

        have    .req w22                        // bytes of input in read_buffer
        pos     .req w23                        // input offset: what is before it is answered
        gathered .req w24                       // responses gathered in batch
        room    .req w26                        // on_readable: room left in read_buffer
        iovec   .req x9                         // the next iovec to fill

// on_connection_event: handles one epoll event of a connection (open: the event loop checked its generation).
// IN: conn, fd, ready (w22) = epoll events   CLOBBERS: x0-x15, x22-x24, x26
on_connection_event:
        tbnz    ready, #EPOLLERR_BIT, close_connection // reset: nothing more can be delivered
        // EPOLLHUP alone (both directions shut) may still leave input to read, and closing with unread input
        // sends a reset: it is read like any input, to its end.
        tbz     ready, #EPOLLRDHUP_BIT, .Levent_ready
        ldrb    w0, [conn, #C_FLAGS]
        orr     w0, w0, #F_EOF
        strb    w0, [conn, #C_FLAGS]
.Levent_ready:
        ldr     w0, [conn, #C_RESP]
        cbz     w0, on_readable
        tbnz    ready, #EPOLLOUT_BIT, flush_pending
.Levent_done:
        ret

// on_readable: reads what the client sent (after any input kept from before) and answers it, at most
// READS_PER_EVENT full reads in a row: then the connection goes back in epoll's queue (requeue), behind the
// others that are ready, so one fast sender cannot hold the worker.
// IN: conn, fd   CLOBBERS: x0-x15, x22-x24, x26
on_readable:
        ldrb    w0, [conn, #C_FLAGS]
        tbnz    w0, #F_LINGER_BIT, discard_input
.Lreadable_again:
        str     x30, [sp, #-16]!
        mov     w0, #READS_PER_EVENT
        strb    w0, [state, #reads_left]
.Lreadable_next:
        ldrh    have, [conn, #C_CARRY]
        cbz     have, .Lreadable_read
        mov     w2, have
        bl      kept_input_slot                      // the kept input goes first
        mov     x1, x0
        adr     x0, read_buffer
        bl      copy_bytes
        // An unfinished head: what came since stays in the socket until the head's end is there, unless all of
        // it fits a small slot (or the buffer would be full), so a slow client's head costs a small slot and
        // the kernel's receive buffer, not a page of carry buffer.
        ldrb    w1, [conn, #C_FLAGS]
        tbnz    w1, #F_EOF_BIT, .Lreadable_read // the end of input: read, and close
        ldr     x1, [conn, #C_BODY]
        cbnz    x1, .Lreadable_read             // kept input after a pending response may be a body
        mov     w0, fd
        adr     x1, read_buffer
        add     x1, x1, have, uxtw
        mov     w2, #HEAD_MAX
        sub     w2, w2, have
        mov     w3, #MSG_PEEK
        mov     x4, #0
        mov     x5, #0
        sys     recvfrom
        cmp     x0, #0
        b.le    .Lreadable_read                 // nothing new, the end, or an error: the read tells
        add     w0, w0, have
        cmp     w0, #SMALL_SLOT
        b.ls    .Lreadable_read
        cmp     w0, #HEAD_MAX
        b.eq    .Lreadable_read                 // a full buffer: the parser decides (431)
        bl      head_complete
        b.cc    .Lreadable_done                 // not yet: wait for more input
.Lreadable_read:
        adr     x1, read_buffer
        add     x1, x1, have, uxtw              // after the kept input
        mov     w2, #HEAD_MAX
        sub     w2, w2, have
        mov     room, w2                        // a read that fills it may have left more behind
        mov     w0, fd
        sys     read
        cmn     x0, #EAGAIN
        csel    x0, xzr, x0, eq                 // EAGAIN: nothing new
        b.eq    .Lreadable_got
        tbnz    x0, #63, .Lreadable_reset
        cbnz    x0, .Lreadable_got
        ldrb    w1, [conn, #C_FLAGS]            // end of input
        orr     w1, w1, #F_EOF
        strb    w1, [conn, #C_FLAGS]
.Lreadable_got:
        add     have, have, w0
        cmp     w0, room
        cset    room, eq                        // now: the buffer was filled, read again
        bl      serve_input
        b.cs    .Lreadable_done                 // closed, lingering, or waiting to write
        cbz     room, .Lreadable_done
        ldrb    w0, [state, #reads_left]
        subs    w0, w0, #1
        strb    w0, [state, #reads_left]
        b.ne    .Lreadable_next
        ldr     x30, [sp], #16
        b       requeue                         // more input may wait: after the other ready connections' turn
.Lreadable_done:
        ldr     x30, [sp], #16
        ret
.Lreadable_reset:
        ldr     x30, [sp], #16
        b       close_connection                // reset by the client

// requeue: asks epoll to report the connection again: EPOLL_CTL_MOD re-arms it, so input already waiting is
// reported anew, behind the events already queued (edge-triggered, nothing else would report it).
// IN: conn, fd   CLOBBERS: x0-x4, x8
requeue:
        mov     w4, #EPOLL_CTL_MOD
        // fall through

// control_connection: adds or re-arms a connection in the epoll set, its generation (see watch_connection) in
// the high half of its events' data.
// IN: conn, fd, w4 = EPOLL_CTL_ADD or EPOLL_CTL_MOD   CLOBBERS: x0-x3, x8
control_connection:
        ldr     w0, [conn, #C_GEN]
        orr     x0, x20, x0, lsl #32            // fd in the low half
        mov     w1, #CONNECTION_EVENTS & 0xffff
        movk    w1, #CONNECTION_EVENTS >> 16, lsl #16
        b       epoll_control

// serve_input: answers every complete request in read_buffer, with one writev per batch, and keeps the rest.
// IN: conn, fd, have = bytes in read_buffer
// OUT: C = 1 when the connection is no longer reading (closed, lingering, or a response is pending)
// CLOBBERS: x0-x15, x23, x24
serve_input:
        entry   .req x15                        // the next batch entry
        str     x30, [sp, #-16]!
        mov     pos, #0
.Lserve_batch:
        mov     gathered, #0
        adr     entry, batch
.Lserve_next:
        cmp     pos, have
        b.hs    .Lserve_send
        ldr     x2, [conn, #C_BODY]
        cbz     x2, .Lserve_parse
        sub     w1, have, pos                   // a body still arriving: skip what is here of it
        cmp     x2, x1
        csel    x0, x2, x1, ls
        add     pos, pos, w0
        sub     x2, x2, x0
        str     x2, [conn, #C_BODY]
        b       .Lserve_next
.Lserve_parse:
        // Empty lines between requests are skipped (RFC 9112 2.2): they start no head, so no head timer.
        adr     x1, read_buffer
        add     x1, x1, pos, uxtw
        ldrb    w0, [x1]
        cmp     w0, #10                         // LF
        b.eq    .Lserve_empty_line
        cmp     w0, #13                         // CR
        b.ne    .Lserve_head
        add     w0, pos, #1
        cmp     w0, have
        b.hs    .Lserve_head                    // a CR last: what follows it decides
        ldrb    w0, [x1, #1]
        cmp     w0, #10
        b.ne    .Lserve_head
        add     pos, pos, #1
.Lserve_empty_line:
        add     pos, pos, #1
        b       .Lserve_next
.Lserve_head:
        sub     w2, have, pos
        bl      parse_request
        strb    w3, [conn, #C_RFLAGS]           // an unfinished head's R_HEAD, for its 408 (on_timeout)
        cbz     x0, .Lserve_send                // the head is not complete yet
        bl      count_request
        str     w1, [entry, #E_COUNTER]
        str     pos, [entry, #E_HEAD]
        adr     x1, response_metrics
        cmp     x0, x1
        b.ne    1f
        bl      render_metrics
1:      ldrb    w1, [conn, #C_FLAGS]
        and     w1, w1, #~F_INHEAD              // the head is done: the next one gets a timer of its own
        strb    w1, [conn, #C_FLAGS]
        add     pos, pos, w2
        str     x4, [conn, #C_BODY]
        str     w0, [entry, #E_RESP]
        str     pos, [entry, #E_POS]
        str     x4, [entry, #E_BODY]
        add     gathered, gathered, #1
        tbz     w3, #R_CLOSE_BIT, .Lserve_gathered
        // Nothing after a closing response is read as a request. If more input is here or may be waiting,
        // begin_close discards it at once (closing a socket with unread input sends a reset, which can destroy
        // the response in flight), what comes later, epoll reports.
        cmp     pos, have
        b.lo    .Lserve_linger
        cmp     have, #HEAD_MAX                 // a full buffer: more may wait in the socket
        b.eq    .Lserve_linger
        cbz     x4, .Lserve_last
.Lserve_linger:
        orr     w3, w3, #R_LINGER
.Lserve_last:
        mov     pos, have                       // so the batch goes out next
.Lserve_gathered:
        str     w3, [entry, #E_FLAGS]
        add     entry, entry, #ENTRY_SIZE
        adrp    x1, metrics_pages
        cmp     x0, x1
        b.hs    .Lserve_send_metrics            // its page holds one response at a time
        cmp     gathered, #BATCH_MAX
        b.lo    .Lserve_next
.Lserve_send:
        cbz     gathered, .Lserve_keep_rest
        bl      send_batch
        b.cs    .Lserve_stopped
        cmp     gathered, #BATCH_MAX
        b.eq    .Lserve_batch                   // a full batch went out: answer the rest
        b       .Lserve_keep_rest
.Lserve_send_metrics:
        bl      send_batch                      // then answer the rest
        b.cs    .Lserve_stopped
        b       .Lserve_batch
.Lserve_keep_rest:
        bl      keep_input
        ldrb    w0, [conn, #C_FLAGS]
        tbz     w0, #F_EOF_BIT, .Lserve_timer
        cmp     have, #HEAD_MAX                 // a full buffer: input before the end may still wait
        b.ne    .Lserve_eof
.Lserve_timer:
        ldp     w1, w2, [state, #now_tick]      // and keepalive_ticks
        ldrh    w3, [conn, #C_CARRY]
        cbnz    w3, .Lserve_in_head
        ldr     x3, [conn, #C_BODY]
        cbnz    x3, .Lserve_in_body
        and     w0, w0, #~F_INHEAD
        b       .Lserve_set_timer
.Lserve_in_body:
        // A body must make progress every HEADER_TIMEOUT_SECONDS, however long it is. No carry is kept while a
        // body arrives, so have is what this read brought.
        cbz     have, .Lserve_reading
        ldr     w2, [state, #header_ticks]
        b       .Lserve_set_timer
.Lserve_in_head:
        tbnz    w0, #F_INHEAD_BIT, .Lserve_reading // the head timer runs from the head's first byte
        orr     w0, w0, #F_INHEAD
        ldr     w2, [state, #header_ticks]
.Lserve_set_timer:
        strb    w0, [conn, #C_FLAGS]
        add     w1, w1, w2
        str     w1, [conn, #C_DEADLINE]
.Lserve_reading:
        clear_carry
        b       .Lserve_return
.Lserve_eof:
        bl      close_connection                // the client sent all it will and has every answer
.Lserve_stopped:
        set_carry
.Lserve_return:
        ldr     x30, [sp], #16
        ret
        .unreq  entry

// keep_input: keeps the unanswered input, read_buffer[pos..have), in its kept-input slot (kept_input_slot).
// With the access log on, notes when a connection's unanswered input began to wait (its requests' duration).
// IN: conn, fd, have, pos   CLOBBERS: x0-x4
keep_input:
        sub     w2, have, pos
        strh    w2, [conn, #C_CARRY]
        cbz     w2, 1f
        ldrb    w0, [state, #access_log]
        cbnz    w0, .Lkeep_note_since
.Lkeep_copy:
        mov     x4, x30
        bl      kept_input_slot
        mov     x30, x4
        adr     x1, read_buffer
        add     x1, x1, pos, uxtw
        b       copy_bytes
.Lkeep_note_since:                              // (keep_input's)
        adrp    x0, peers
        add     x0, x0, :lo12:peers
        add     x0, x0, x20, lsl #PEER_SHIFT
        ldr     x1, [x0, #P_SINCE]
        cbnz    x1, .Lkeep_copy
        ldr     x1, [state, #log_us]
        str     x1, [x0, #P_SINCE]
        b       .Lkeep_copy

// copy_bytes: copies bytes forward.
// IN: x0 = destination, x1 = source, w2 = count (> 0)   OUT: x0, x1 = just after them   CLOBBERS: x2, x3
copy_bytes:
        ldrb    w3, [x1], #1
        strb    w3, [x0], #1
        subs    w2, w2, #1
        b.ne    copy_bytes
1:      ret

// kept_input_slot: where a connection keeps input of a given length: a small slot (SMALL_SLOT bytes, 16 a page)
// when it fits, else its large carry buffer (HEAD_MAX bytes).
// IN: fd, w2 = the length   OUT: x0 = the slot
kept_input_slot:
        cmp     w2, #SMALL_SLOT
        b.hi    1f
        adrp    x0, small_input_slots
        add     x0, x0, :lo12:small_input_slots
        add     x0, x0, x20, lsl #SMALL_SLOT_SHIFT
        ret
1:      adrp    x0, carry_buffers
        add     x0, x0, :lo12:carry_buffers
        add     x0, x0, x20, lsl #HEAD_SHIFT
        ret

// head_complete: whether read_buffer[0, w0) holds the end of a request head, an empty line (LF LF, or LF CR LF).
// IN: w0 = bytes (> 0)   OUT: C = 1 if it does   CLOBBERS: x0-x3
head_complete:
        adr     x1, read_buffer
        add     x3, x1, w0, uxtw                // the end
.Lcomplete_next:
        cmp     x1, x3
        b.hs    .Lcomplete_no
        ldrb    w2, [x1], #1
        cmp     w2, #10
        b.ne    .Lcomplete_next
        cmp     x1, x3                          // after an LF: LF, or CR LF
        b.hs    .Lcomplete_no
        ldrb    w2, [x1]
        cmp     w2, #10
        b.eq    .Lcomplete_yes
        cmp     w2, #13
        b.ne    .Lcomplete_next
        add     x0, x1, #1
        cmp     x0, x3
        b.hs    .Lcomplete_no
        ldrb    w2, [x0]
        cmp     w2, #10
        b.ne    .Lcomplete_next
.Lcomplete_yes:
        set_carry
        ret
.Lcomplete_no:
        clear_carry
        ret

// send_batch: writes the gathered responses with one writev. What the socket does not take becomes the
// pending response, and the input after that response's request is kept to be answered later: the requests
// after it are counted again then, so their counts are taken back now. A response handed to the kernel, whole
// or in part, gets its access log line here, once.
// IN: conn, fd, have = bytes in read_buffer, gathered = entries in batch (> 0)
// OUT: C = 1 when the connection is no longer reading   CLOBBERS: x0-x14, x16, x17, x23
send_batch:
        entry   .req x11
        str     x30, [sp, #-16]!
        adr     iovec, iovecs
        adr     entry, batch
        mov     w12, gathered
        add     x6, state, #date_line
.Lbatch_gather:
        ldp     w0, w1, [entry, #E_RESP]        // and E_FLAGS
        mov     x2, #0
        bl      build_iovecs
        str     w0, [entry, #E_LEN]
        add     entry, entry, #ENTRY_SIZE
        subs    w12, w12, #1
        b.ne    .Lbatch_gather
        bl      write_iovecs
        b.cs    .Lbatch_closed
        adr     entry, batch
        mov     w2, gathered
.Lbatch_find:
        ldrb    w1, [state, #access_log]
        cbnz    w1, .Lbatch_log
.Lbatch_logged:
        ldr     w1, [entry, #E_LEN]
        subs    x0, x0, x1
        b.lo    .Lbatch_partial
        add     entry, entry, #ENTRY_SIZE
        subs    w2, w2, #1
        b.ne    .Lbatch_find
        ldur    w1, [entry, #E_FLAGS - ENTRY_SIZE]
        ldr     x30, [sp], #16
        tbnz    w1, #R_CLOSE_BIT, begin_close   // C = 1: the connection stops reading
        clear_carry
        ret
.Lbatch_partial:
        add     x0, x0, x1                      // bytes of this response that went out
        ldr     w1, [state, #date_second]       // the second its Date shows
        stp     w0, w1, [conn, #C_SENT]         // and C_DATE
        ldp     w0, w1, [entry, #E_RESP]        // and E_FLAGS
        str     w0, [conn, #C_RESP]
        strb    w1, [conn, #C_RFLAGS]
        ldr     x0, [entry, #E_BODY]
        str     x0, [conn, #C_BODY]
        ldr     pos, [entry, #E_POS]            // the requests after this one are answered later
        mov     x4, #-1
1:      subs    w2, w2, #1
        b.eq    2f
        add     entry, entry, #ENTRY_SIZE
        ldr     w1, [entry, #E_COUNTER]
        adr     x16, shared_counters + M_REQUESTS
        add     x16, x16, x1, lsl #3
        shared_add x16, x4, w1
        b       1b
2:      bl      keep_input
        bl      start_write_timer
.Lbatch_closed:
        set_carry
        ldr     x30, [sp], #16
        ret
.Lbatch_log:
        stp     x0, entry, [sp, #-16]!
        ldp     w0, w3, [entry, #E_RESP]        // and E_FLAGS
        ldr     w5, [entry, #E_HEAD]
        adr     x1, read_buffer
        add     x1, x1, x5
        sub     w5, have, w5
        bl      log_request                     // (keeps x2)
        ldp     x0, entry, [sp], #16
        b       .Lbatch_logged
        .unreq  entry

// flush_pending: writes more of the pending response, once it is all out, goes on with the connection.
// The response keeps the Date it started with: when the second has changed since, its Date line is made
// again, so that a client never reads a date mixed from two seconds.
// IN: conn, fd   CLOBBERS: x0-x15, x22-x24, x26
flush_pending:
        total   .req w22                        // bytes of the response still to send
        str     x30, [sp, #-16]!
        ldr     w0, [conn, #C_DATE]
        ldr     w1, [state, #date_second]
        add     x6, state, #date_line
        cmp     w0, w1
        b.eq    1f
        add     x1, state, #date_scratch + DATE_PREFIX_LEN
        bl      format_date
        add     x6, state, #date_scratch
1:      adr     iovec, iovecs
        ldr     w0, [conn, #C_RESP]
        ldrb    w1, [conn, #C_RFLAGS]
        ldr     w2, [conn, #C_SENT]
        bl      build_iovecs
        mov     total, w0
        bl      write_iovecs
        b.cs    .Lflush_done
        ldr     x30, [sp], #16
        cmp     w0, total
        b.eq    .Lflush_sent
        ldr     w1, [conn, #C_SENT]
        add     w1, w1, w0
        str     w1, [conn, #C_SENT]
        b       start_write_timer
.Lflush_sent:
        str     wzr, [conn, #C_RESP]
        ldrb    w1, [conn, #C_RFLAGS]
        ldrb    w0, [conn, #C_FLAGS]
        tbz     w0, #F_LAST_BIT, 1f
        orr     w1, w1, #R_CLOSE
1:      tbz     w1, #R_CLOSE_BIT, .Lreadable_again // answer the kept input, then read on
        orr     w1, w1, #R_LINGER               // input that came while the response waited is unread
        b       begin_close
.Lflush_done:
        ldr     x30, [sp], #16
        ret
        .unreq  total

// start_write_timer: a pending write must make progress within HEADER_TIMEOUT_SECONDS.
// IN: conn   CLOBBERS: x0, x1
start_write_timer:
        ldr     w0, [state, #now_tick]
        ldr     w1, [state, #header_ticks]
        add     w0, w0, w1
        str     w0, [conn, #C_DEADLINE]
        ldrb    w0, [conn, #C_FLAGS]
        and     w0, w0, #~F_INHEAD
        strb    w0, [conn, #C_FLAGS]
        ret

// write_iovecs: writev of iovecs up to iovec, a failed connection is closed.
// IN: conn, fd, iovec (x9) = end of the iovecs   OUT: x0 = bytes written (0 if the socket is full), C = 1 if
// closed   CLOBBERS: x1, x2, x8, x10, x16, x17
write_iovecs:
        adr     x1, iovecs
        sub     x2, iovec, x1
        lsr     x2, x2, #4
        mov     w0, fd
        sys     writev
        cmn     x0, #4095
        b.hs    .Lwrite_error
        adr     x16, shared_counters + M_RESPONSE_BYTES
        shared_add x16, x0, w1
        clear_carry
        ret
.Lwrite_error:
        cmn     x0, #EAGAIN
        b.ne    .Lwrite_failed                  // EPIPE, ECONNRESET: the client is gone
        mov     x0, #0
        clear_carry
        ret
.Lwrite_failed:
        mov     x10, x30
        bl      close_connection
        set_carry
        ret     x10

// build_iovecs: appends the iovecs of a response, without the bytes already sent: its status part, the Date
// line, its type part, the Connection value and its body (none for HEAD).
// IN: iovec (x9) = next iovec, w0 = response descriptor, w1 = R_* flags, x2 = bytes to skip, x6 = Date line
// OUT: iovec = after the appended iovecs, w0 = bytes they hold   CLOBBERS: x2-x5, x10 (the return address)
build_iovecs:
        mov     x10, x30
        mov     w5, w0
        mov     w0, #0
        ldr     w3, [x5, #D_STATUS]
        ldrh    w4, [x5, #D_STATUS_LEN]
        bl      append_part
        mov     x3, x6
        mov     w4, #DATE_LINE_LEN
        bl      append_part
        ldr     w3, [x5, #D_TYPE]
        ldrh    w4, [x5, #D_TYPE_LEN]
        bl      append_part
        adr     x3, connection_keep_alive
        mov     w4, #connection_keep_alive_len
        tbz     w1, #R_CLOSE_BIT, 1f
        adr     x3, connection_close
        mov     w4, #connection_close_len
1:      bl      append_part
        tbnz    w1, #R_HEAD_BIT, 2f
        ldr     w3, [x5, #D_BODY]
        ldrh    w4, [x5, #D_BODY_LEN]
        bl      append_part
2:      ret     x10

// append_part: appends one iovec, or skips it (wholly or partly) while bytes to skip remain.
// IN: iovec (x9) = next iovec, x3 = bytes, x4 = length, x2 = bytes to skip, w0 = running total
// OUT: iovec, x2, w0 updated   CLOBBERS: x3, x4
append_part:
        subs    x2, x2, x4
        b.hs    1f                              // all of it was sent before
        add     x3, x3, x4
        add     x3, x3, x2                      // start after the skipped bytes
        neg     x4, x2
        mov     x2, #0
        stp     x3, x4, [iovec], #16
        add     w0, w0, w4
1:      ret

// begin_close: ends the connection after a closing response: half-closes it and discards what the client still
// sends for LINGER_TICKS, so that the client reads the response, not a reset (docs/server.md). A client that has
// sent its FIN, with all before it read, is closed at once: nothing more can come.
// IN: conn, fd, w1 = R_* flags of the response (none pending): R_LINGER when input may be waiting unread
// OUT: C = 1 (no longer reading)   CLOBBERS: x0-x4, x8
begin_close:
        tbnz    w1, #R_LINGER_BIT, 1f
        ldrb    w0, [conn, #C_FLAGS]
        tbnz    w0, #F_EOF_BIT, close_connection
1:      mov     w2, w1                          // the flags: shutdown takes w1
        mov     w0, fd
        mov     w1, #SHUT_WR
        sys     shutdown
        ldrb    w0, [conn, #C_FLAGS]
        and     w0, w0, #F_SCRAPED              // (its page is released at the close)
        orr     w0, w0, #F_LINGER
        str     w0, [conn, #C_FLAGS]            // and C_RFLAGS, C_CARRY = 0 (no response is pending)
        str     xzr, [conn, #C_BODY]
        ldr     w0, [state, #now_tick]
        add     w0, w0, #LINGER_TICKS
        str     w0, [conn, #C_DEADLINE]
        tbnz    w2, #R_LINGER_BIT, discard_input // epoll reports only new arrivals, not input already waiting
        set_carry
        ret

// discard_input: reads and drops the input of a lingering connection, at most READS_PER_EVENT reads in a row
// (then it is requeued, as in on_readable), closes it at end of input.
// IN: conn, fd   OUT: C = 1 (no longer reading)   CLOBBERS: x0-x4, x8
discard_input:
        mov     w0, #READS_PER_EVENT
        strb    w0, [state, #reads_left]
.Ldiscard_next:
        mov     w0, fd
        adr     x1, read_buffer
        mov     w2, #HEAD_MAX
        sys     read
        cmn     x0, #EAGAIN
        b.eq    1f
        cmp     x0, #0
        b.le    close_connection                // end of input, or reset
        ldrb    w0, [state, #reads_left]
        subs    w0, w0, #1
        strb    w0, [state, #reads_left]
        b.ne    .Ldiscard_next                  // until the socket is empty: epoll may not report its end
        str     x30, [sp, #-16]!
        bl      requeue                         // more may wait: after the other ready connections' turn
        ldr     x30, [sp], #16
1:      set_carry
        ret

// close_connection: closes the descriptor and frees the record (its generation 0: later events of this
// descriptor in the same batch are dropped, see event_loop). A connection that scraped /metrics gives its
// metrics page back to the kernel, so that scrapes do not leave pages resident for connections long gone.
// IN: conn, fd   OUT: C = 1 (no longer reading, for serve_input and send_batch)   CLOBBERS: x0-x2, x8
close_connection:
        ldrb    w0, [conn, #C_FLAGS]
        tbnz    w0, #F_SCRAPED_BIT, .Lclose_release_page
.Lclose_close:
        mov     w0, fd
        sys     close
        stp     xzr, xzr, [conn]
        stp     xzr, xzr, [conn, #16]           // and C_GEN
        ldr     x8, [state, #open_count]
        ldr     w0, [x8]
        sub     w0, w0, #1
        str     w0, [x8]
        set_carry
        ret
.Lclose_release_page:
        adrp    x0, metrics_pages
        add     x0, x0, :lo12:metrics_pages
        add     x0, x0, x20, lsl #METRICS_SHIFT
        mov     x1, #1 << METRICS_SHIFT
        mov     w2, #MADV_DONTNEED
        sys     madvise
        b       .Lclose_close

// watch_connection: adds a new connection to the epoll set, for input, output and the client's half-close, with
// a new generation in its events' data and in its record, so that none of its events can reach a connection that
// gets its descriptor after it closed.
// IN: conn, fd   CLOBBERS: x0-x4, x8
watch_connection:
        ldr     w0, [state, #generation]
        adds    w0, w0, #1
        cinc    w0, w0, eq                      // 0 is a free record's
        str     w0, [state, #generation]
        str     w0, [conn, #C_GEN]
        mov     w4, #EPOLL_CTL_ADD
        b       control_connection

// on_timeout: the connection's timer fired: a request head that did not complete gets 408, an idle
// connection, a stalled write, a body that stopped coming or a lingering close is closed.
// IN: conn, fd   CLOBBERS: x0-x15, x22-x24, x26
on_timeout:
        ldr     w0, [conn, #C_RESP]
        cbnz    w0, .Ltimeout_write
        ldrb    w0, [conn, #C_FLAGS]
        tbnz    w0, #F_LINGER_BIT, close_connection // the end of a lingering close, not a timeout
        ldrh    w0, [conn, #C_CARRY]
        cbnz    w0, .Ltimeout_head
        ldr     x0, [conn, #C_BODY]
        cbnz    x0, .Ltimeout_body
        count   M_TIMEOUTS + TIMEOUT_KEEPALIVE * 8, w0
        b       close_connection
.Ltimeout_write:
        count   M_TIMEOUTS + TIMEOUT_WRITE * 8, w0
        b       close_connection
.Ltimeout_body:
        count   M_TIMEOUTS + TIMEOUT_BODY * 8, w0
        b       close_connection
.Ltimeout_head:
        count   M_TIMEOUTS + TIMEOUT_HEAD * 8, w0
        count   M_REQUESTS + (STATUS_408 * 4 + ROUTE_OTHER) * 8, w0
        adr     x0, response_408
        str     w0, [conn, #C_RESP]
        ldrb    w0, [conn, #C_RFLAGS]
        orr     w0, w0, #R_CLOSE | R_LINGER     // with R_HEAD for a HEAD request (serve_input)
        strb    w0, [conn, #C_RFLAGS]
        ldr     w0, [state, #date_second]
        stp     wzr, w0, [conn, #C_SENT]        // and C_DATE: the 408 carries the current Date
        ldrb    w0, [state, #access_log]
        cbz     w0, flush_pending
        str     x30, [sp, #-16]!
        ldrh    w2, [conn, #C_CARRY]            // its line names what came of the head
        mov     w5, w2
        bl      kept_input_slot
        mov     x1, x0
        adr     x0, response_408
        ldrb    w3, [conn, #C_RFLAGS]
        bl      log_request
        ldr     x30, [sp], #16
        b       flush_pending

        .unreq  have
        .unreq  pos
        .unreq  gathered
        .unreq  room
        .unreq  iovec
