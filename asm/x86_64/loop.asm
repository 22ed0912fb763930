; The event loop: readiness from epoll, new connections, signals, timers and the graceful shutdown.

%define event   rbp                             ; the next epoll event to handle
%define ready   r13d                            ; the epoll events of a connection
%define conn    rbx                             ; the connection's record
%define fd      r12d                            ; its descriptor

; event_loop: the worker's main loop.
; IN: [listen_fd] open   OUT: never returns (ends through finish)
event_loop:
        mov     edi, SOCK_CLOEXEC                 ; EPOLL_CLOEXEC has the same value
        sys     SYS_epoll_create1
        mov     [epoll_fd], eax
        mov     edi, -1
        mov     esi, watched_signals
        mov     edx, 8
        mov     r10d, SFD_CLOEXEC | SOCK_NONBLOCK ; SFD_NONBLOCK has the value of SOCK_NONBLOCK
        sys     SYS_signalfd4
        mov     [signal_fd], eax
        mov     edi, eax
        mov     esi, EPOLLIN
        call    watch
        mov     edi, [listen_fd]
        mov     esi, EPOLLIN | EPOLLET
        call    watch
        mov     edi, [metrics_fd]
        test    edi, edi
        js      .timer
        mov     esi, EPOLLIN | EPOLLET
        call    watch
.timer:
        cmp     dword [log_used], 0
        je      .tick
        call    flush_log                       ; the start event, made before there was an epoll set to watch
.tick:
        ; A tick every TICK_MS drives the connection timers while there are connections, so the busy path
        ; never reads the clock; it starts with the first event (start_tick).
        mov     edi, CLOCK_MONOTONIC
        mov     esi, SOCK_NONBLOCK | SOCK_CLOEXEC ; TFD_NONBLOCK, TFD_CLOEXEC have the same values
        sys     SYS_timerfd_create
        mov     [timer_fd], eax
        mov     byte [ticking], 0               ; (a worker forked while serving inherits the first process's)
        mov     byte [tick_due], 0
        mov     edi, eax
        mov     esi, EPOLLIN
        call    watch
        ; The Date lines' fixed parts; update_date writes the date between them.
        mov     rax, 'Date: '
        mov     [date_line], rax
        mov     [date_scratch], rax
        mov     word [date_line + DATE_LINE_LEN - 2], 0x0a0d
        mov     word [date_scratch + DATE_LINE_LEN - 2], 0x0a0d
        call    update_clock
        call    update_date
.wait:
        ; Sleep until an event; while draining, at most until the delay's end.
        mov     r10d, -1
        cmp     byte [draining], 0
        je      .sleep
        cmp     byte [stopped], 0
        jne     .sleep
        call    update_clock
        mov     rax, [drain_end_ms]
        sub     rax, [now_ms]
        jae     .remaining
        xor     eax, eax
.remaining:
        mov     r10d, eax
.sleep:
        mov     edi, [epoll_fd]
        mov     esi, events
        mov     edx, EVENTS_MAX
        xor     r8d, r8d
        mov     r9d, 8
        sys     SYS_epoll_pwait
        test    eax, eax
        jg      .events
        xor     eax, eax                        ; timeout or EINTR
        jmp     .dispatch
.events:
        cmp     byte [ticking], 0
        jne     .dispatch
        push    rax
        call    start_tick                      ; awake after a sleep without connections
        pop     rax
.dispatch:
        cmp     byte [access_log], 0
        je      .gather
        push    rax
        call    read_log_clock                  ; the time of this batch's log lines
        pop     rax
.gather:
        imul    eax, eax, EPOLL_EVENT_SIZE
        mov     event, events
        add     rax, event
        push    rax                             ; end of the events
        ; A tick in this batch is taken first and its sweep last (see on_tick): a slow turn of the loop must
        ; not close a connection whose input waits in this batch, nor renew deadlines from a stale clock.
        mov     ecx, [timer_fd]
        mov     rsi, event
.find_tick:
        cmp     rsi, [rsp]
        jae     .event
        add     rsi, EPOLL_EVENT_SIZE
        cmp     ecx, [rsi - EPOLL_EVENT_SIZE + EPOLL_DATA]
        jne     .find_tick
        call    on_tick
.event:
        cmp     event, [rsp]
        jae     .timers
        mov     fd, [event + EPOLL_DATA]
        mov     ready, [event]
        mov     r14d, [event + EPOLL_DATA + 4]  ; a connection's generation (see watch_connection)
        add     event, EPOLL_EVENT_SIZE
        cmp     fd, [timer_fd]
        je      .event                          ; taken before the batch (on_tick)
        mov     byte [eventful], 1
        cmp     fd, [listen_fd]
        je      .accept
        cmp     fd, [signal_fd]
        je      .signal
        cmp     fd, [metrics_fd]
        je      .accept_metrics
        cmp     fd, [log_fd]
        je      .event                          ; the log takes more: its lines go at the batch's end
        mov     ebx, fd
        shl     ebx, CONN_SHIFT
        add     conn, conns
        ; An event of a connection closed earlier in this batch (by the tick, say) must not reach a new
        ; connection that got its descriptor since: the generations differ (a free record's is 0).
        cmp     r14d, [conn + C_GEN]
        jne     .event
        call    on_connection_event
        jmp     .event
.accept:
        call    accept_connections
        jmp     .event
.accept_metrics:
        call    accept_metrics_connections
        jmp     .event
.signal:
        call    on_signal
        jmp     .event
.timers:
        pop     rax
        cmp     byte [tick_due], 0
        je      .log
        call    end_tick
.log:
        cmp     dword [log_used], 0
        je      .drain
        call    flush_log                       ; the batch's log lines, written together
.drain:
        cmp     byte [draining], 0
        je      .wait
        cmp     byte [stopped], 0
        jne     .finished
        call    update_clock
        mov     rax, [now_ms]
        cmp     rax, [drain_end_ms]
        jb      .wait
        call    stop_accepting
.finished:
        mov     rax, [open_count]
        cmp     dword [rax], 0
        jne     .wait
        jmp     finish

; watch: adds a descriptor to the epoll set.
; IN: rdi = the events' data: the descriptor in the low half, a connection's generation (or 0) in the high half;
;     esi = events
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
watch:
        mov     eax, EPOLL_CTL_ADD
        ; fall through

; epoll_control: adds or changes a descriptor in the epoll set.
; IN: rdi = the events' data (as watch), esi = events, eax = EPOLL_CTL_ADD or EPOLL_CTL_MOD
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
epoll_control:
        mov     [event_mask], esi
        mov     [event_mask + EPOLL_DATA], rdi
        mov     edx, edi
        mov     edi, [epoll_fd]
        mov     esi, eax
        mov     r10d, event_mask
        sys     SYS_epoll_ctl
        ret

; update_clock: reads the monotonic clock into now_ms and now_tick.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r11
update_clock:
        mov     edi, CLOCK_MONOTONIC
        mov     esi, timespec
        sys     SYS_clock_gettime
        mov     eax, [timespec + 8]             ; nanoseconds: below 10^9, so a 32-bit division
        xor     edx, edx
        mov     ecx, 1000000
        div     ecx
        imul    rcx, [timespec], 1000
        add     rax, rcx
        mov     [now_ms], rax
        mov     ecx, TICK_MS
        xor     edx, edx
        div     rcx
        mov     [now_tick], eax
        ret

; update_date: renews date_line from the wall clock when its second has changed. The tick calls it, so new
; responses' Date is at most one tick behind and the busy path never reads the clock.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
update_date:
        xor     edi, edi                        ; CLOCK_REALTIME
        mov     esi, timespec
        sys     SYS_clock_gettime
        mov     eax, [timespec]
        cmp     eax, [date_second]
        je      .same_second
        mov     [date_second], eax
        mov     edi, date_line + DATE_PREFIX_LEN
        jmp     format_date
.same_second:
        ret

; accept_connections: accepts every waiting connection, answers what it sent, and watches it. The listener is
; edge-triggered, so it never returns with connections left in the backlog: beyond MAX_CONNECTIONS or out of
; descriptors it sheds them (accepts and closes them at once); any other failure (ENOMEM, ENOBUFS, EPERM...)
; is retried at an alarm.
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
accept_connections:
        mov     eax, [listen_fd]
        mov     ecx, [accept_flags]
        jmp     accept_from

; accept_metrics_connections: accept_connections for the listener of METRICS_PORT, where /metrics is a route.
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
accept_metrics_connections:
        mov     eax, [metrics_fd]
        mov     ecx, F_METRICS
        ; fall through

; accept_from: accept_connections from a listener, its connections starting with some C_FLAGS.
; IN: eax = the listener, ecx = the flags   CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
accept_from:
        mov     [accepting], eax
        mov     [accepting + 4], ecx
.next:
        mov     edi, [accepting]
        xor     esi, esi
        xor     edx, edx
        cmp     byte [access_log], 0
        jne     .with_peer
.accept:
        mov     r10d, SOCK_NONBLOCK | SOCK_CLOEXEC
        sys     SYS_accept4
        cmp     rax, -ECONNABORTED
        je      .next
        cmp     rax, -EINTR
        je      .next
        cmp     rax, -EMFILE
        je      .shed
        cmp     rax, -ENFILE
        je      .shed
        cmp     rax, -EAGAIN
        je      .done                           ; none left
        cmp     rax, -4095
        jae     .retry_later
        count   shared_counters + M_ACCEPTED
        cmp     eax, MAX_FDS
        jae     .refuse
        mov     rdx, [open_count]
        mov     ecx, [rdx]
        cmp     ecx, [cfg_max_connections]
        jae     .refuse                         ; MAX_CONNECTIONS open: closed at once
        inc     dword [rdx]
        mov     ebx, eax
        shl     ebx, CONN_SHIFT
        add     rbx, conns
        xor     ecx, ecx
        mov     [rbx + C_BODY], rcx
        mov     [rbx + C_RESP], rcx             ; also C_SENT
        mov     ecx, [accepting + 4]
        mov     [rbx + C_FLAGS], ecx            ; also C_RFLAGS, C_CARRY (0)
        mov     ecx, [now_tick]
        add     ecx, [keepalive_ticks]
        mov     [rbx + C_DEADLINE], ecx
        cmp     eax, [max_fd]
        jbe     .watch
        mov     [max_fd], eax
.watch:
        cmp     byte [access_log], 0
        jne     .note_peer
.answer:
        ; The request usually arrived with the connection: answer it before asking epoll, and watch the
        ; connection only if it stays open (a client that sent its request and its FIN costs no epoll_ctl).
        mov     r12d, eax
        call    on_readable
        cmp     dword [rbx + C_DEADLINE], 0
        je      .next
        call    watch_connection
        jmp     .next
.with_peer:
        mov     esi, peer_address               ; the client's address, for the log lines
        mov     edx, peer_address_len
        mov     dword [rdx], 28
        jmp     .accept
.note_peer:
        call    note_peer
        jmp     .answer
.refuse:
        mov     edi, eax
        sys     SYS_close
.count_shed:
        count   shared_counters + M_SHED
        jmp     .next
.shed:
        ; Out of descriptors (EMFILE) or of open files in the system (ENFILE): give up the spare, a file of
        ; its own, to accept the connection and close it at once, rather than leave the client waiting.
        mov     edi, [spare_fd]
        sys     SYS_close
        mov     edi, [accepting]                ; rsi and rdx are still 0 from the accept4 above
        xor     r10d, r10d
        sys     SYS_accept4
        mov     r13, rax
        mov     edi, eax
        sys     SYS_close
        call    make_spare
        cmp     r13, -4095
        jae     .retry_later
        count   shared_counters + M_ACCEPTED
        jmp     .count_shed
.retry_later:
        mov     eax, ACCEPT_RETRY_MS
        jmp     set_alarm
.done:
        ret

; make_spare: opens the spare descriptor that accept_connections gives up when descriptors run out: an
; eventfd, so that closing it frees an open file too (a dup would share one with its original).
; OUT: [spare_fd] (-errno when none could be had: the next shedding gives up nothing)   CLOBBERS: rax, rcx, rsi, rdi, r11
make_spare:
        xor     edi, edi
        mov     esi, SOCK_CLOEXEC               ; EFD_CLOEXEC has the same value
        sys     SYS_eventfd2
        mov     [spare_fd], eax
        ret

; on_signal: a signal came through the signalfd. SIGCHLD: a worker ended (reap_workers); SIGALRM: the alarm of
; a delayed worker start or accept; SIGTERM or SIGINT: starts the graceful shutdown (a second signal ends the
; drain delay at once) and passes the signal on to the workers.
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
on_signal:
        mov     edi, [signal_fd]
        mov     esi, siginfo
        mov     edx, SIGNALFD_INFO_SIZE
        sys     SYS_read
        test    rax, rax
        jle     .done
        mov     eax, [siginfo]                  ; ssi_signo
        cmp     eax, SIGCHLD
        je      reap_workers
        cmp     eax, SIGALRM
        je      .alarm
        call    update_clock
        mov     rax, [now_ms]
        cmp     byte [draining], 0
        jne     .end_delay
        mov     byte [draining], 1
        imul    ecx, [cfg_drain], 1000
        add     rax, rcx
        push    rax
        call    log_drain_begun
        pop     rax
.end_delay:
        mov     [drain_end_ms], rax
        mov     r13d, [worker_slots]
.forward:
        dec     r13d
        jz      .done                           ; slot 0 is this process
        mov     edi, [child_pids + r13*4]
        test    edi, edi
        jz      .forward                        ; a slot waiting for a replacement (kill(0) would hit the group)
        mov     esi, SIGTERM
        sys     SYS_kill
        jmp     .forward
.alarm:
        cmp     byte [stopped], 0
        jne     replace_workers
        call    accept_connections
        cmp     dword [metrics_fd], 0
        jl      replace_workers
        call    accept_metrics_connections
        jmp     replace_workers
.done:
        ret

; on_tick: the tick's timer fired (its event is in this batch): reads it and the clocks (the Date too) before
; the batch's other events are handled, so that the deadlines they set count from a clock at most a tick old
; however late this turn of the loop comes; the timers' sweep waits for the batch's end (end_tick), so that it
; closes no connection whose input is in this batch.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
on_tick:
        mov     edi, [timer_fd]
        mov     esi, timespec
        mov     edx, 8
        sys     SYS_read
        mov     byte [tick_due], 1
        call    update_clock
        jmp     update_date

; end_tick: after a batch with a tick: runs the connection timers, and stops the tick once no connection is left,
; so that an idle server sleeps until a client or a signal comes. A whole tick without any other event means the
; connections are quiet: then it dozes instead of ticking on.
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
end_tick:
        mov     byte [tick_due], 0
        call    sweep_timers
        mov     rax, [open_count]
        cmp     dword [rax], 0
        jne     .connections
        mov     byte [ticking], 0
        mov     edx, no_tick
        jmp     set_tick
.connections:
        cmp     byte [eventful], 0
        mov     byte [eventful], 0
        je      doze
        ret

; doze: stops the tick and sets its timer once, for the tick at which the first connection's deadline passes, so
; that quiet connections (idle keep-alive ones, say) cost no wake-up until then. Any other event starts the tick
; again (start_tick, which also renews the Date line the tick would have).
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r11
doze:
        mov     dword [first_deadline], -1
        mov     eax, .earliest
        call    for_each_connection
        mov     byte [ticking], 0
        mov     eax, [first_deadline]           ; in ticks of the monotonic clock: fire at its start
        imul    rax, rax, TICK_MS
        xor     edx, edx
        mov     ecx, 1000
        div     rcx
        imul    rdx, rdx, 1000000
        mov     qword [alarm_time], 0           ; a struct itimerspec (alarm_time is only scratch): no interval,
        mov     qword [alarm_time + 8], 0
        mov     [alarm_time + 16], rax          ; and the expiry, absolute
        mov     [alarm_time + 24], rdx
        mov     edi, [timer_fd]
        mov     esi, TFD_TIMER_ABSTIME
        mov     edx, alarm_time
        xor     r10d, r10d
        sys     SYS_timerfd_settime
        ret
.earliest:
        mov     eax, [conn + C_DEADLINE]
        cmp     eax, [first_deadline]
        jae     .later
        mov     [first_deadline], eax
.later:
        ret

; start_tick: starts the tick after a sleep without connections, or a doze, and reads the clocks the stopped tick
; did not (the deadlines of new connections count from now_tick, and their responses carry date_line).
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r11
start_tick:
        call    update_clock
        call    update_date
        mov     byte [ticking], 1
        mov     edx, every_tick
        ; fall through

; set_tick: sets the tick's timer: every_tick (a tick every TICK_MS, the first TICK_MS from now) or no_tick (off).
; IN: edx = the itimerspec   CLOBBERS: rax, rcx, rsi, rdi, r10, r11
set_tick:
        mov     edi, [timer_fd]
        xor     esi, esi
        xor     r10d, r10d
        sys     SYS_timerfd_settime
        ret

; sweep_timers: acts on every connection whose timer has fired (see on_timeout).
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
sweep_timers:
        mov     eax, .check
        jmp     for_each_connection
.check:
        mov     eax, [conn + C_DEADLINE]
        cmp     eax, [now_tick]
        jbe     on_timeout
        ret

; stop_accepting: ends the drain delay: closes the listeners (the first process holds every worker's) and
; every connection without a response in flight; those with one close when it is sent, and a lingering close
; whose response the client has not all acknowledged ends as usual (closing it now, with input unread, would
; reset it, and the kernel would drop the rest of the response).
; CLOBBERS: rax, rbx, rcx, rdx, rsi, rdi, r8-r15
stop_accepting:
        mov     byte [stopped], 1
        call    log_drain_ended
        mov     r13d, [worker_slots]
.close_listener:
        dec     r13d
        mov     edi, [listen_fds + r13*4]
        sys     SYS_close
        test    r13d, r13d
        jnz     .close_listener
        mov     dword [listen_fd], -1
        mov     edi, [metrics_fd]
        test    edi, edi
        js      .listeners_closed
        sys     SYS_close
        mov     dword [metrics_fd], -1
.listeners_closed:
        mov     eax, .stop
        jmp     for_each_connection
.stop:
        test    byte [rbx + C_FLAGS], F_LINGER
        jz      .answering
        mov     edi, r12d                       ; a lingering close: is its response still on its way?
        mov     esi, TIOCOUTQ                   ; (bytes sent but not yet acknowledged)
        mov     edx, read_buffer                ; free between events
        sys     SYS_ioctl
        cmp     dword [read_buffer], 0
        je      close_connection                ; all delivered: nothing to lose
        jmp     .in_flight
.answering:
        cmp     dword [rbx + C_RESP], 0
        je      close_connection
.in_flight:
        or      byte [rbx + C_FLAGS], F_LAST    ; its R_CLOSE must not change: part of it is sent
        ret

; for_each_connection: calls a routine for every open connection.
; IN: eax = the routine, which gets rbx = the record and r12d = the descriptor
; CLOBBERS: rbx, r12, and what the routine clobbers
for_each_connection:
        push    rax
        xor     r12d, r12d
        mov     ebx, conns
.next:
        cmp     dword [rbx + C_DEADLINE], 0
        je      .skip
        call    [rsp]
.skip:
        add     rbx, 1 << CONN_SHIFT
        inc     r12d
        cmp     r12d, [max_fd]
        jbe     .next
        pop     rax
        ret

; finish: waits for the workers (if this is the first process), naming any crash (report_end), and exits:
; 0, or 1 when a worker crashed since the start.
finish:
        mov     edi, -1
        mov     esi, wait_status
        xor     edx, edx
        xor     r10d, r10d
        sys     SYS_wait4
        cmp     rax, -ECHILD
        je      .exit
        test    eax, eax
        jle     finish                          ; EINTR
        call    report_end
        jmp     finish
.exit:
        call    log_exit
        cmp     dword [log_used], 0
        je      .end
        call    flush_log                       ; what the log takes now: nothing waits for it any more
.end:
        movzx   edi, byte [crashed]
        jmp     exit

%undef  event
%undef  ready
%undef  conn
%undef  fd
