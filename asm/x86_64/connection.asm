; Connections: reading requests, writing responses (partial writes finished later), timers and closing.
; Every routine here takes rbx = the connection's record and r12d = its descriptor, and keeps both.

%define conn    rbx                             ; the connection's record
%define fd      r12d                            ; its descriptor

; on_connection_event: handles one epoll event of a connection (open: the event loop checked its generation).
; IN: rbx, r12d, r13d = epoll events   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11, r13-r15
on_connection_event:
        test    r13d, EPOLLERR                  ; reset: nothing more can be delivered
        jnz     close_connection
        ; EPOLLHUP alone (both directions shut) may still leave input to read, and closing with unread input
        ; sends a reset: it is read like any input, to its end.
        test    r13d, EPOLLRDHUP
        jz      .ready
        or      byte [rbx + C_FLAGS], F_EOF
.ready:
        cmp     dword [rbx + C_RESP], 0
        je      on_readable
        test    r13d, EPOLLOUT
        jnz     flush_pending
.done:
        ret

; on_readable: reads what the client sent (after any input kept from before) and answers it, at most
; READS_PER_EVENT full reads in a row: then the connection goes back in epoll's queue (requeue), behind the
; others that are ready, so one fast sender cannot hold the worker.
; IN: rbx, r12d   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11, r13-r15
on_readable:
        test    byte [rbx + C_FLAGS], F_LINGER
        jnz     discard_input
.again:
        mov     byte [reads_left], READS_PER_EVENT
.next:
        movzx   ecx, word [rbx + C_CARRY]
        mov     r13d, ecx
        jrcxz   .read
        call    kept_input_slot                      ; the kept input goes first
        mov     esi, edi
        mov     edi, read_buffer
        rep     movsb
        ; An unfinished head: what came since stays in the socket until the head's end is there, unless all of
        ; it fits a small slot (or the buffer would be full), so a slow client's head costs a small slot and
        ; the kernel's receive buffer, not a page of carry buffer.
        test    byte [rbx + C_FLAGS], F_EOF
        jnz     .read                           ; the end of input: read, and close
        cmp     qword [rbx + C_BODY], 0
        jne     .read                           ; kept input after a pending response may be a body
        mov     edi, r12d
        lea     esi, [r13 + read_buffer]
        mov     edx, HEAD_MAX
        sub     edx, r13d
        mov     r10d, MSG_PEEK
        xor     r8d, r8d
        xor     r9d, r9d
        sys     SYS_recvfrom
        test    rax, rax
        jle     .read                           ; nothing new, the end, or an error: the read tells
        add     eax, r13d
        cmp     eax, SMALL_SLOT
        jbe     .read
        cmp     eax, HEAD_MAX
        je      .read                           ; a full buffer: the parser decides (431)
        call    head_complete
        jnc     .done                           ; not yet: wait for more input
.read:
        mov     edx, HEAD_MAX
        sub     edx, r13d
        mov     r15d, edx                       ; room: a read that fills it may have left more behind
        mov     edi, r12d
        lea     esi, [r13 + read_buffer]
        sys     SYS_read
        test    rax, rax
        jg      .got
        jz      .eof
        cmp     rax, -EAGAIN
        jne     close_connection                ; reset by the client
        xor     eax, eax
        jmp     .got
.eof:
        or      byte [rbx + C_FLAGS], F_EOF
.got:
        add     r13d, eax
        cmp     eax, r15d
        sete    r15b
        push    r15
        call    serve_input
        pop     r15
        jc      .done                           ; closed, lingering, or waiting to write
        test    r15b, r15b
        jz      .done
        dec     byte [reads_left]
        jnz     .next
        jmp     requeue                         ; more input may wait: after the other ready connections' turn
.done:
        ret

; requeue: asks epoll to report the connection again: EPOLL_CTL_MOD re-arms it, so input already waiting is
; reported anew, behind the events already queued (edge-triggered, nothing else would report it).
; IN: conn, fd   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
requeue:
        mov     eax, EPOLL_CTL_MOD
        ; fall through

; control_connection: adds or re-arms a connection in the epoll set, its generation (see watch_connection) in
; the high half of its events' data.
; IN: conn, fd, eax = EPOLL_CTL_ADD or EPOLL_CTL_MOD   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
control_connection:
        mov     edi, [conn + C_GEN]
        shl     rdi, 32
        or      rdi, r12                        ; fd: its high half is 0
        mov     esi, CONNECTION_EVENTS
        jmp     epoll_control

; serve_input: answers every complete request in read_buffer, with one writev per batch, and keeps the rest.
; IN: rbx, r12d, r13d = bytes in read_buffer
; OUT: CF = 1 when the connection is no longer reading (closed, lingering, or a response is pending)
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11, r13-r15
serve_input:
        xor     r14d, r14d                      ; input offset
.batch:
        xor     r15d, r15d                      ; responses gathered
.next:
        cmp     r14d, r13d
        jae     .send
        mov     rax, [rbx + C_BODY]
        test    rax, rax
        jz      .parse
        mov     ecx, r13d                       ; a body still arriving: skip what is here of it
        sub     ecx, r14d
        cmp     rax, rcx
        jbe     .skip_body
        mov     rax, rcx
.skip_body:
        add     r14d, eax
        sub     [rbx + C_BODY], rax
        jmp     .next
.parse:
        ; Empty lines between requests are skipped (RFC 9112 2.2): they start no head, so no head timer.
        cmp     byte [r14 + read_buffer], `\n`
        je      .empty_line
        cmp     byte [r14 + read_buffer], `\r`
        jne     .head
        lea     eax, [r14 + 1]
        cmp     eax, r13d
        jae     .head                           ; a CR last: what follows it decides
        cmp     byte [r14 + read_buffer + 1], `\n`
        jne     .head
        inc     r14d
.empty_line:
        inc     r14d
        jmp     .next
.head:
        lea     esi, [r14 + read_buffer]
        mov     ecx, r13d
        sub     ecx, r14d
        call    parse_request
        mov     [rbx + C_RFLAGS], r8b           ; an unfinished head's R_HEAD, for its 408 (on_timeout)
        test    rax, rax
        jz      .send                           ; the head is not complete yet
        call    count_request
        cmp     eax, response_metrics
        jne     .answer
        push    rcx
        call    render_metrics
        pop     rcx
.answer:
        and     byte [rbx + C_FLAGS], ~F_INHEAD ; the head is done: the next one gets a timer of its own
        imul    edi, r15d, ENTRY_SIZE
        add     rdi, batch
        mov     [rdi + E_HEAD], r14d
        mov     [rdi + E_COUNTER], ecx
        add     r14d, edx
        mov     [rbx + C_BODY], r9
        mov     [rdi + E_RESP], eax
        mov     [rdi + E_POS], r14d
        mov     [rdi + E_BODY], r9
        inc     r15d
        test    r8b, R_CLOSE
        jnz     .closing
        mov     [rdi + E_FLAGS], r8d
        cmp     eax, metrics_pages
        jae     .send_metrics                   ; its page holds one response at a time
        cmp     r15d, BATCH_MAX
        jb      .next
        jmp     .send
.closing:
        ; Nothing after a closing response is read as a request. If more input is here or may be waiting,
        ; begin_close discards it at once (closing a socket with unread input sends a reset, which can destroy
        ; the response in flight); what comes later, epoll reports.
        cmp     r14d, r13d
        jb      .linger
        cmp     r13d, HEAD_MAX                  ; a full buffer: more may wait in the socket
        je      .linger
        test    r9, r9
        jz      .last
.linger:
        or      r8b, R_LINGER
.last:
        mov     [rdi + E_FLAGS], r8d
        mov     r14d, r13d
.send:
        test    r15d, r15d
        jz      .keep_rest
        call    send_batch
        jc      .stopped
        cmp     r15d, BATCH_MAX
        je      .batch                          ; a full batch went out: answer the rest
        jmp     .keep_rest
.send_metrics:
        call    send_batch                      ; then answer the rest
        jc      .stopped
        jmp     .batch
.keep_rest:
        call    keep_input
        test    byte [rbx + C_FLAGS], F_EOF
        jz      .timer
        cmp     r13d, HEAD_MAX                  ; a full buffer: input before the end may still wait
        jne     .eof
.timer:
        mov     eax, [now_tick]
        cmp     word [rbx + C_CARRY], 0
        jne     .in_head
        cmp     qword [rbx + C_BODY], 0
        jne     .in_body
        and     byte [rbx + C_FLAGS], ~F_INHEAD
        add     eax, [keepalive_ticks]
        jmp     .set_deadline
.in_body:
        ; A body must make progress every HEADER_TIMEOUT_SECONDS, however long it is. No carry is kept while a
        ; body arrives, so r13d is what this read brought.
        test    r13d, r13d
        jz      .reading
        add     eax, [header_ticks]
        jmp     .set_deadline
.in_head:
        test    byte [rbx + C_FLAGS], F_INHEAD
        jnz     .reading                        ; the head timer runs from the head's first byte
        or      byte [rbx + C_FLAGS], F_INHEAD
        add     eax, [header_ticks]
.set_deadline:
        mov     [rbx + C_DEADLINE], eax
.reading:
        clc
.stopped:
        ret                                     ; CF = 1 here from send_batch
.eof:
        jmp     close_connection                ; the client sent all it will and has every answer (CF = 1)

; keep_input: keeps the unanswered input, read_buffer[r14d..r13d), in its kept-input slot (kept_input_slot).
; With the access log on, notes when a connection's unanswered input began to wait (its requests' duration).
; IN: rbx, r12d, r13d, r14d   CLOBBERS: rcx, rsi, rdi
keep_input:
        mov     ecx, r13d
        sub     ecx, r14d
        mov     [rbx + C_CARRY], cx
        jz      .kept
        cmp     byte [access_log], 0
        jne     .note_since
.copy:
        lea     esi, [r14 + read_buffer]
        call    kept_input_slot
        rep     movsb
.kept:
        ret
.note_since:
        mov     edi, r12d
        shl     edi, PEER_SHIFT
        cmp     qword [rdi + peers + P_SINCE], 0
        jne     .copy
        mov     rsi, [log_us]
        mov     [rdi + peers + P_SINCE], rsi
        jmp     .copy

; kept_input_slot: where a connection keeps input of a given length: a small slot (SMALL_SLOT bytes, 16 a page)
; when it fits, else its large carry buffer (HEAD_MAX bytes). Both lie below 4 GiB, like all of .bss.
; IN: r12d, ecx = the length   OUT: edi = the slot
kept_input_slot:
        mov     edi, r12d
        cmp     ecx, SMALL_SLOT
        ja      .large
        shl     edi, SMALL_SLOT_SHIFT
        add     edi, small_input_slots
        ret
.large:
        shl     edi, HEAD_SHIFT
        add     edi, carry_buffers
        ret

; head_complete: whether read_buffer[0, eax) holds the end of a request head, an empty line (LF LF, or LF CR LF).
; IN: eax = bytes (> 0)   OUT: CF = 1 if it does   CLOBBERS: rax, rcx, rdx
head_complete:
        mov     edx, read_buffer
        lea     ecx, [rax + read_buffer]        ; the end
.next:
        cmp     edx, ecx
        jae     .no
        mov     al, [rdx]
        inc     edx
        cmp     al, 10
        jne     .next
        cmp     edx, ecx                        ; after an LF: LF, or CR LF
        jae     .no
        mov     al, [rdx]
        cmp     al, 10
        je      .yes
        cmp     al, 13
        jne     .next
        lea     eax, [rdx + 1]
        cmp     eax, ecx
        jae     .no
        cmp     byte [rax], 10
        jne     .next
.yes:
        stc
        ret
.no:
        clc
        ret

; send_batch: writes the gathered responses with one writev. What the socket does not take becomes the
; pending response, and the input after that response's request is kept to be answered later: the requests
; after it are counted again then, so their counts are taken back now. A response handed to the kernel, whole
; or in part, gets its access log line here, once.
; IN: rbx, r12d, r13d = bytes in read_buffer, r15d = entries in batch (> 0)
; OUT: CF = 1 when the connection is no longer reading   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
send_batch:
        mov     edi, iovecs
        mov     r11d, batch
        mov     ecx, r15d
.gather:
        push    rcx
        mov     eax, [r11 + E_RESP]
        mov     edx, [r11 + E_FLAGS]
        xor     r8d, r8d
        mov     esi, date_line
        call    build_iovecs
        mov     [r11 + E_LEN], eax
        add     r11, ENTRY_SIZE
        pop     rcx
        loop    .gather
        call    write_iovecs
        jc      .closed
        mov     r11d, batch
        mov     edx, r15d
.find:
        cmp     byte [access_log], 0
        jne     .log
.logged:
        mov     ecx, [r11 + E_LEN]
        sub     rax, rcx
        jb      .partial
        add     r11, ENTRY_SIZE
        dec     edx
        jnz     .find
        mov     edx, [r11 - ENTRY_SIZE + E_FLAGS]
        test    dl, R_CLOSE
        jnz     begin_close                     ; CF = 1: the connection stops reading
        clc
        ret
.partial:
        add     rax, rcx                        ; bytes of this response that went out
        mov     [rbx + C_SENT], eax
        mov     eax, [r11 + E_RESP]
        mov     [rbx + C_RESP], eax
        mov     eax, [r11 + E_FLAGS]
        mov     [rbx + C_RFLAGS], al
        mov     rax, [r11 + E_BODY]
        mov     [rbx + C_BODY], rax
        mov     eax, [date_second]
        mov     [rbx + C_DATE], eax
        mov     r14d, [r11 + E_POS]             ; the requests after this one are answered later
.take_back:
        dec     edx
        jz      .taken_back
        add     r11, ENTRY_SIZE
        mov     ecx, [r11 + E_COUNTER]
        lock dec qword [shared_counters + M_REQUESTS + rcx*8]
        jmp     .take_back
.taken_back:
        call    keep_input
        call    start_write_timer
.closed:
        stc
        ret
.log:
        push    rax
        push    r11
        mov     eax, [r11 + E_RESP]
        mov     r8d, [r11 + E_FLAGS]
        mov     esi, [r11 + E_HEAD]
        mov     ecx, r13d
        sub     ecx, esi
        add     esi, read_buffer
        call    log_request                     ; (keeps rdx)
        pop     r11
        pop     rax
        jmp     .logged

; flush_pending: writes more of the pending response; once it is all out, goes on with the connection.
; The response keeps the Date it started with: when the second has changed since, its Date line is made
; again, so that a client never reads a date mixed from two seconds.
; IN: rbx, r12d   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11, r13-r15
flush_pending:
        mov     eax, [rbx + C_DATE]
        mov     esi, date_line
        cmp     eax, [date_second]
        je      .dated
        mov     edi, date_scratch + DATE_PREFIX_LEN
        call    format_date
        mov     esi, date_scratch
.dated:
        mov     edi, iovecs
        mov     eax, [rbx + C_RESP]
        movzx   edx, byte [rbx + C_RFLAGS]
        mov     r8d, [rbx + C_SENT]
        call    build_iovecs
        mov     r13d, eax
        call    write_iovecs
        jc      .done
        cmp     eax, r13d
        je      .sent
        add     [rbx + C_SENT], eax
        jmp     start_write_timer
.sent:
        mov     dword [rbx + C_RESP], 0
        movzx   edx, byte [rbx + C_RFLAGS]
        test    byte [rbx + C_FLAGS], F_LAST
        jz      .go_on
        or      dl, R_CLOSE
.go_on:
        test    dl, R_CLOSE
        jz      on_readable.again               ; answer the kept input, then read on
        or      dl, R_LINGER                    ; input that came while the response waited is unread
        jmp     begin_close
.done:
        ret

; start_write_timer: a pending write must make progress within HEADER_TIMEOUT_SECONDS.
; IN: conn   OUT: CF = 0   CLOBBERS: rax
start_write_timer:
        mov     eax, [now_tick]
        add     eax, [header_ticks]
        mov     [conn + C_DEADLINE], eax
        and     byte [conn + C_FLAGS], ~F_INHEAD
        ret

; write_iovecs: writev of iovecs up to rdi; a failed connection is closed.
; IN: rbx, r12d, rdi = end of the iovecs   OUT: rax = bytes written (0 if the socket is full); CF = 1 if closed
; CLOBBERS: rcx, rdx, rsi, rdi, r11
write_iovecs:
        mov     esi, iovecs
        mov     rdx, rdi
        sub     rdx, rsi
        shr     edx, 4
        mov     edi, r12d
        sys     SYS_writev
        cmp     rax, -EAGAIN
        je      .full
        cmp     rax, -4095
        jae     close_connection                ; EPIPE, ECONNRESET: the client is gone (CF = 1)
        lock add [shared_counters + M_RESPONSE_BYTES], rax ; (CF = 0 after it: no carry from a byte count)
        ret
.full:
        xor     eax, eax                        ; also CF = 0
        ret

; build_iovecs: appends the iovecs of a response, without the bytes already sent: its status part, the Date
; line, its type part, the Connection value and its body (none for HEAD).
; IN: rdi = next iovec, eax = response descriptor, edx = R_* flags, r8d = bytes to skip, rsi = Date line
; OUT: rdi = after the appended iovecs, eax = bytes they hold   CLOBBERS: rcx, rdx, rsi, r8, r9, r10
build_iovecs:
        mov     r9d, eax
        mov     r10d, edx
        mov     rdx, rsi
        xor     eax, eax
        mov     esi, [r9 + D_STATUS]
        movzx   ecx, word [r9 + D_STATUS_LEN]
        call    append_part
        mov     rsi, rdx
        mov     ecx, DATE_LINE_LEN
        call    append_part
        mov     esi, [r9 + D_TYPE]
        movzx   ecx, word [r9 + D_TYPE_LEN]
        call    append_part
        mov     esi, connection_keep_alive
        mov     ecx, connection_keep_alive_len
        test    r10b, R_CLOSE
        jz      .connection
        mov     esi, connection_close
        mov     ecx, connection_close_len
.connection:
        call    append_part
        test    r10b, R_HEAD
        jnz     .done
        mov     esi, [r9 + D_BODY]
        movzx   ecx, word [r9 + D_BODY_LEN]
        call    append_part
.done:
        ret

; append_part: appends one iovec, or skips it (wholly or partly) while bytes to skip remain.
; IN: rdi = next iovec, rsi = bytes, rcx = length, r8 = bytes to skip, eax = running total
; OUT: rdi, r8, eax updated   CLOBBERS: rcx, rsi
append_part:
        sub     r8, rcx
        jae     .skipped                        ; all of it was sent before
        add     rsi, rcx
        add     rsi, r8                         ; start after the skipped bytes
        neg     r8
        mov     rcx, r8
        xor     r8d, r8d
        mov     [rdi], rsi
        mov     [rdi + 8], rcx
        add     rdi, 16
        add     eax, ecx
.skipped:
        ret

; begin_close: ends the connection after a closing response: half-closes it and discards what the client still
; sends for LINGER_TICKS, so that the client reads the response, not a reset (docs/server.md). A client that has
; sent its FIN, with all before it read, is closed at once: nothing more can come.
; IN: conn, fd, edx = R_* flags of the response (none pending): R_LINGER when input may be waiting unread
; OUT: CF = 1 (no longer reading)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
begin_close:
        test    dl, R_LINGER
        jnz     .half_close
        test    byte [conn + C_FLAGS], F_EOF
        jnz     close_connection
.half_close:
        mov     edi, fd
        mov     esi, SHUT_WR
        sys     SYS_shutdown
        movzx   eax, byte [conn + C_FLAGS]
        and     eax, F_SCRAPED                  ; (its page is released at the close)
        or      eax, F_LINGER
        mov     [conn + C_FLAGS], eax           ; also clears C_RFLAGS (no response is pending) and C_CARRY
        xor     eax, eax
        mov     [conn + C_BODY], rax
        mov     eax, [now_tick]
        add     eax, LINGER_TICKS
        mov     [conn + C_DEADLINE], eax
        test    dl, R_LINGER
        jnz     discard_input                   ; epoll reports only new arrivals, not input already waiting
        stc
        ret

; discard_input: reads and drops the input of a lingering connection, at most READS_PER_EVENT reads in a row
; (then it is requeued, as in on_readable); closes it at end of input.
; IN: conn, fd   OUT: CF = 1 (no longer reading)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
discard_input:
        mov     byte [reads_left], READS_PER_EVENT
.next:
        mov     edi, fd
        mov     esi, read_buffer
        mov     edx, HEAD_MAX
        sys     SYS_read
        cmp     rax, -EAGAIN
        je      .done
        test    rax, rax
        jle     close_connection                ; end of input, or reset
        dec     byte [reads_left]
        jnz     .next                           ; until the socket is empty: epoll may not report its end
        call    requeue                         ; more may wait: after the other ready connections' turn
.done:
        stc
        ret

; close_connection: closes the descriptor and frees the record (its generation 0: later events of this
; descriptor in the same batch are dropped, see event_loop). A connection that scraped /metrics gives its
; metrics page back to the kernel, so that scrapes do not leave pages resident for connections long gone.
; IN: conn, fd   OUT: CF = 1 (no longer reading, for serve_input and send_batch)   CLOBBERS: rax, rcx, rdx, rsi,
; rdi, r11
close_connection:
        test    byte [conn + C_FLAGS], F_SCRAPED
        jnz     .release_page
.close:
        mov     edi, fd
        sys     SYS_close
        xor     eax, eax
        mov     [conn + C_DEADLINE], rax
        mov     [conn + C_BODY], rax
        mov     [conn + C_RESP], rax
        mov     [conn + C_DATE], rax            ; and C_GEN
        mov     rax, [open_count]
        dec     dword [rax]
        stc
        ret
.release_page:
        mov     edi, fd
        shl     edi, METRICS_SHIFT
        add     edi, metrics_pages
        mov     esi, 1 << METRICS_SHIFT
        mov     edx, MADV_DONTNEED
        sys     SYS_madvise
        jmp     .close

; watch_connection: adds a new connection to the epoll set, for input, output and the client's half-close, with
; a new generation in its events' data and in its record, so that none of its events can reach a connection that
; gets its descriptor after it closed.
; IN: conn, fd   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
watch_connection:
        mov     eax, [generation]
        inc     eax
        jnz     .numbered
        inc     eax                             ; 0 is a free record's
.numbered:
        mov     [generation], eax
        mov     [conn + C_GEN], eax
        mov     eax, EPOLL_CTL_ADD
        jmp     control_connection

; on_timeout: the connection's timer fired: a request head that did not complete gets 408; an idle
; connection, a stalled write, a body that stopped coming or a lingering close is closed.
; IN: conn, fd   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11, r13-r15
on_timeout:
        cmp     dword [conn + C_RESP], 0
        jne     .stalled_write
        test    byte [conn + C_FLAGS], F_LINGER
        jnz     close_connection                ; the end of a lingering close, not a timeout
        cmp     word [conn + C_CARRY], 0
        jne     .unfinished_head
        cmp     qword [conn + C_BODY], 0
        jne     .stalled_body
        count   shared_counters + M_TIMEOUTS + TIMEOUT_KEEPALIVE * 8
        jmp     close_connection
.stalled_write:
        count   shared_counters + M_TIMEOUTS + TIMEOUT_WRITE * 8
        jmp     close_connection
.stalled_body:
        count   shared_counters + M_TIMEOUTS + TIMEOUT_BODY * 8
        jmp     close_connection
.unfinished_head:
        count   shared_counters + M_TIMEOUTS + TIMEOUT_HEAD * 8
        count   shared_counters + M_REQUESTS + (STATUS_408 * 4 + ROUTE_OTHER) * 8
        mov     qword [conn + C_RESP], response_408 ; and C_SENT = 0
        or      byte [conn + C_RFLAGS], R_CLOSE | R_LINGER ; with R_HEAD for a HEAD request (serve_input)
        mov     eax, [date_second]
        mov     [conn + C_DATE], eax
        cmp     byte [access_log], 0
        je      flush_pending
        movzx   ecx, word [conn + C_CARRY]      ; its line names what came of the head
        call    kept_input_slot
        mov     esi, edi
        mov     eax, response_408
        movzx   r8d, byte [conn + C_RFLAGS]
        call    log_request
        jmp     flush_pending

%undef  conn
%undef  fd
