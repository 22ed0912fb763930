// The event loop: readiness from epoll, new connections, signals, timers and the graceful shutdown.

        event   .req x21                        // the next epoll event to handle
        events_end .req x25                     // the end of those the last wait returned
        visit   .req x27                        // for_each_connection's routine
        ready   .req w22                        // the epoll events of a connection

// event_loop: the worker's main loop.
// IN: listen_fd open   OUT: never returns (ends through finish)
event_loop:
        mov     w0, #SOCK_CLOEXEC               // EPOLL_CLOEXEC has the same value
        sys     epoll_create1
        str     w0, [state, #epoll_fd]
        mov     x0, #-1
        adr     x1, watched_signals
        mov     x2, #8
        mov     w3, #SOCK_NONBLOCK              // SFD_NONBLOCK has the value of SOCK_NONBLOCK
        movk    w3, #SFD_CLOEXEC >> 16, lsl #16
        sys     signalfd4
        str     w0, [state, #signal_fd]
        mov     w1, #EPOLLIN
        bl      watch
        ldr     w0, [state, #listen_fd]
        mov     w1, #EPOLLIN | EPOLLET
        bl      watch
        ldr     w0, [state, #metrics_fd]
        tbnz    w0, #31, 1f
        mov     w1, #EPOLLIN | EPOLLET
        bl      watch
1:      ldr     w0, [state, #log_used]
        cbz     w0, 2f
        bl      flush_log                       // the start event, made before there was an epoll set to watch
2:
        // A tick every TICK_MS drives the connection timers while there are connections, so the busy path
        // never reads the clock; it starts with the first event (start_tick).
        mov     w0, #CLOCK_MONOTONIC
        mov     w1, #SOCK_NONBLOCK              // TFD_NONBLOCK, TFD_CLOEXEC have the same values
        movk    w1, #SOCK_CLOEXEC >> 16, lsl #16
        sys     timerfd_create
        str     w0, [state, #timer_fd]
        strh    wzr, [state, #ticking]          // and tick_due (a worker forked while serving inherits them)
        mov     w1, #EPOLLIN
        bl      watch
        // The Date lines' fixed parts; update_date writes the date between them.
        mov     x0, #0x6144                     // "Date: ", and two bytes the date covers
        movk    x0, #0x6574, lsl #16
        movk    x0, #0x203a, lsl #32
        mov     w1, #0x0a0d                     // CR LF
        add     x2, state, #date_line
        str     x0, [x2]
        sturh   w1, [x2, #DATE_LINE_LEN - 2]
        stur    x0, [x2, #date_scratch - date_line]
        sturh   w1, [x2, #date_scratch - date_line + DATE_LINE_LEN - 2]
        bl      update_clock
        bl      update_date
.Lloop_wait:
        // Sleep until an event, while draining at most until the delay's end.
        mov     w3, #-1
        ldrh    w0, [state, #draining]          // and stopped, the byte after it
        cmp     w0, #1                          // draining, not stopped
        b.ne    .Lloop_sleep
        bl      update_clock
        ldr     x3, [state, #drain_end_ms]
        subs    x3, x3, x9                      // x9 = now_ms
        csel    x3, x3, xzr, hs                 // the time left, 0 if none
.Lloop_sleep:
        ldr     w0, [state, #epoll_fd]
        add     x1, state, #events
        mov     w2, #EVENTS_MAX
        mov     x4, #0
        mov     x5, #8
        sys     epoll_pwait
        ldrb    w1, [state, #access_log]
        cbnz    w1, .Lloop_log_clock
.Lloop_events:
        cmp     w0, #0
        csel    w0, w0, wzr, gt                 // timeout or EINTR: no events
        add     event, state, #events
        add     events_end, event, x0, lsl #EPOLL_EVENT_SHIFT
        b.le    .Lloop_event
        ldrb    w1, [state, #ticking]
        cbnz    w1, .Lloop_find_tick
        bl      start_tick                      // awake after a sleep, or a doze, whose expiry may be in this batch
.Lloop_find_tick:
        // A tick in this batch is taken first and its sweep last (see on_tick): a slow turn of the loop must
        // not close a connection whose input waits in this batch, nor renew deadlines from a stale clock.
        ldr     w1, [state, #timer_fd]
        mov     x2, event
1:      ldr     w0, [x2, #EPOLL_DATA]
        add     x2, x2, #EPOLL_EVENT_SIZE
        cmp     w0, w1
        b.eq    2f
        cmp     x2, events_end
        b.lo    1b
        b       .Lloop_event
2:      bl      on_tick
.Lloop_event:
        // Each event goes to its handler with the return address set here, so every handler returns to the
        // next event.
        cmp     event, events_end
        b.hs    .Lloop_timers
        adr     x30, .Lloop_event
        ldr     fd, [event, #EPOLL_DATA]
        ldr     ready, [event]
        ldr     w2, [event, #EPOLL_DATA + 4]    // a connection's generation (see watch_connection)
        add     event, event, #EPOLL_EVENT_SIZE
        ldp     w0, w1, [state, #signal_fd]     // and timer_fd
        cmp     fd, w1
        b.eq    .Lloop_event                    // taken before the batch (on_tick)
        mov     w3, #1
        strb    w3, [state, #eventful]
        cmp     fd, w0
        b.eq    on_signal
        ldr     w0, [state, #listen_fd]
        cmp     fd, w0
        b.eq    accept_connections
        ldr     w0, [state, #metrics_fd]
        cmp     fd, w0
        b.eq    accept_metrics_connections
        ldr     w0, [state, #log_fd]
        cmp     fd, w0
        b.eq    .Lloop_event                    // the log takes more: its lines go at the batch's end
        adr     conn, conns
        add     conn, conn, x20, lsl #CONN_SHIFT
        // An event of a connection closed earlier in this batch (by the tick, say) must not reach a new
        // connection that got its descriptor since: the generations differ (a free record's is 0).
        ldr     w0, [conn, #C_GEN]
        cmp     w0, w2
        b.ne    .Lloop_event
        b       on_connection_event
.Lloop_timers:
        ldrb    w0, [state, #tick_due]
        cbz     w0, 1f
        bl      end_tick
1:      ldr     w0, [state, #log_used]
        cbz     w0, 2f
        bl      flush_log                       // the batch's log lines, written together
2:      ldrb    w0, [state, #draining]
        cbz     w0, .Lloop_wait
        ldrb    w0, [state, #stopped]
        cbnz    w0, .Lloop_finished
        bl      update_clock
        ldr     x1, [state, #drain_end_ms]
        cmp     x9, x1
        b.lo    .Lloop_wait
        bl      stop_accepting
.Lloop_finished:
        ldr     x0, [state, #open_count]
        ldr     w0, [x0]
        cbnz    w0, .Lloop_wait
        b       finish
.Lloop_log_clock:
        mov     x10, x0
        bl      read_log_clock                  // the time of this batch's log lines
        mov     x0, x10
        b       .Lloop_events

// watch: adds a descriptor to the epoll set.
// IN: x0 = the events' data: the descriptor in the low half, a connection's generation (or 0) in the high half;
//     w1 = events
// CLOBBERS: x0-x4, x8
watch:
        mov     w4, #EPOLL_CTL_ADD
        // fall through

// epoll_control: adds or changes a descriptor in the epoll set.
// IN: x0 = the events' data (as watch), w1 = events, w4 = EPOLL_CTL_ADD or EPOLL_CTL_MOD   CLOBBERS: x0-x3, x8
epoll_control:
        stp     x1, x0, [state, #event_mask]    // events (and the padding), data
        mov     w2, w0
        ldr     w0, [state, #epoll_fd]
        mov     w1, w4
        add     x3, state, #event_mask
        sys     epoll_ctl
        ret

// update_clock: reads the monotonic clock into now_ms and now_tick.
// OUT: x9 = now_ms   CLOBBERS: x0-x3, x8
update_clock:
        mov     w0, #CLOCK_MONOTONIC
        add     x1, state, #timespec
        sys     clock_gettime
        ldp     x0, x3, [x1]
        mov     x2, #1000
        udiv    x3, x3, x2                      // nanoseconds to milliseconds
        udiv    x3, x3, x2
        madd    x9, x0, x2, x3
        str     x9, [state, #now_ms]
        mov     x2, #TICK_MS
        udiv    x3, x9, x2
        str     w3, [state, #now_tick]
        ret

// update_date: renews date_line from the wall clock when its second has changed. The tick calls it, so new
// responses' Date is at most one tick behind and the busy path never reads the clock.
// CLOBBERS: x0-x8
update_date:
        mov     w0, #CLOCK_REALTIME
        add     x1, state, #timespec
        sys     clock_gettime
        ldr     w0, [state, #timespec]          // the seconds as u32: valid until 2106
        ldr     w2, [state, #date_second]
        cmp     w0, w2
        b.eq    1f
        str     w0, [state, #date_second]
        add     x1, state, #date_line + DATE_PREFIX_LEN
        b       format_date
1:      ret

// accept_connections: accepts every waiting connection, answers what it sent, and watches it. The listener is
// edge-triggered, so it never returns with connections left in the backlog: beyond MAX_CONNECTIONS or out of
// descriptors it sheds them (accepts and closes them at once), any other failure (ENOMEM, ENOBUFS, EPERM...)
// is retried at an alarm.
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26
accept_connections:
        ldr     w0, [state, #listen_fd]
        ldr     w1, [state, #accept_flags]
        b       accept_from

// accept_metrics_connections: accept_connections for the listener of METRICS_PORT, where /metrics is a route.
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26
accept_metrics_connections:
        ldr     w0, [state, #metrics_fd]
        mov     w1, #F_METRICS
        // fall through

// accept_from: accept_connections from a listener, its connections starting with some C_FLAGS.
// IN: w0 = the listener, w1 = the flags   CLOBBERS: x0-x15, x19, x20, x22-x24, x26
accept_from:
        str     w0, [state, #accepting]
        str     w1, [state, #accepting_flags]
        str     x30, [sp, #-16]!
.Laccept_next:
        ldr     w0, [state, #accepting]
        mov     x1, #0
        mov     x2, #0
        ldrb    w3, [state, #access_log]
        cbz     w3, 1f
        add     x1, state, #peer_address        // the client's address, for the log lines
        add     x2, state, #peer_address_len
        mov     w3, #28
        str     w3, [x2]
1:      mov     w3, #SOCK_NONBLOCK
        movk    w3, #SOCK_CLOEXEC >> 16, lsl #16
        sys     accept4
        cmn     x0, #ECONNABORTED
        ccmn    x0, #EINTR, #4, ne              // (Z = 1 when the first already matched)
        b.eq    .Laccept_next
        cmn     x0, #EMFILE
        ccmn    x0, #ENFILE, #4, ne
        b.eq    .Laccept_shed
        cmn     x0, #EAGAIN
        b.eq    .Laccept_done                   // none left
        cmn     x0, #4095
        b.hs    .Laccept_retry_later
        count   M_ACCEPTED, w1
        cmp     w0, #MAX_FDS
        b.hs    .Laccept_refuse
        ldr     x3, [state, #open_count]
        ldr     w1, [x3]
        ldr     w2, [state, #cfg_max_connections]
        cmp     w1, w2
        b.hs    .Laccept_refuse                 // MAX_CONNECTIONS open: closed at once
        add     w1, w1, #1
        str     w1, [x3]
        mov     fd, w0
        adr     conn, conns
        add     conn, conn, x20, lsl #CONN_SHIFT
        stp     xzr, xzr, [conn, #C_BODY]       // also C_RESP, C_SENT
        ldr     w1, [state, #accepting_flags]
        str     w1, [conn, #C_FLAGS]            // also C_RFLAGS, C_CARRY (0)
        ldp     w1, w2, [state, #now_tick]      // and keepalive_ticks
        add     w1, w1, w2
        str     w1, [conn, #C_DEADLINE]
        ldr     w2, [state, #max_fd]
        cmp     fd, w2
        csel    w2, fd, w2, hi
        str     w2, [state, #max_fd]
        ldrb    w0, [state, #access_log]
        cbz     w0, 2f
        bl      note_peer
2:
        // The request usually arrived with the connection: answer it before asking epoll, and watch the
        // connection only if it stays open (a client that sent its request and its FIN costs no epoll_ctl).
        bl      on_readable
        ldr     w0, [conn, #C_DEADLINE]
        cbz     w0, .Laccept_next
        bl      watch_connection
        b       .Laccept_next
.Laccept_refuse:
        sys     close
.Laccept_count_shed:
        count   M_SHED, w1
        b       .Laccept_next
.Laccept_shed:
        // Out of descriptors (EMFILE) or of open files in the system (ENFILE): give up the spare, a file of
        // its own, to accept the connection and close it at once, rather than leave the client waiting.
        // (x1-x3 are still the arguments of the accept4 above.)
        ldr     w0, [state, #spare_fd]
        sys     close
        ldr     w0, [state, #accepting]
        sys     accept4
        mov     x22, x0
        sys     close
        bl      make_spare
        cmn     x22, #4095
        b.hs    .Laccept_retry_later
        count   M_ACCEPTED, w1
        b       .Laccept_count_shed
.Laccept_retry_later:
        mov     w0, #ACCEPT_RETRY_MS
        bl      set_alarm
.Laccept_done:
        ldr     x30, [sp], #16
        ret

// make_spare: opens the spare descriptor that accept_connections gives up when descriptors run out: an
// eventfd, so that closing it frees an open file too (a dup would share one with its original).
// OUT: spare_fd (-errno when none could be had: the next shedding gives up nothing)   CLOBBERS: x0, x1, x8
make_spare:
        mov     w0, #0
        mov     w1, #SOCK_CLOEXEC               // EFD_CLOEXEC has the same value
        sys     eventfd2
        str     w0, [state, #spare_fd]
        ret

// on_signal: a signal came through the signalfd. SIGCHLD: a worker ended (reap_workers), SIGALRM: the alarm of
// a delayed worker start or accept, SIGTERM or SIGINT: starts the graceful shutdown (a second signal ends the
// drain delay at once) and passes the signal on to the workers.
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26
on_signal:
        ldr     w0, [state, #signal_fd]
        add     x1, state, #siginfo
        mov     x2, #SIGNALFD_INFO_SIZE
        sys     read
        cmp     x0, #0
        b.le    .Lsignal_done
        ldr     w0, [state, #siginfo]           // ssi_signo
        cmp     w0, #SIGCHLD
        b.eq    reap_workers
        cmp     w0, #SIGALRM
        b.eq    .Lsignal_alarm
        mov     x10, x30
        bl      update_clock
        mov     x30, x10
        ldrb    w1, [state, #draining]
        cbnz    w1, .Lsignal_end_delay
        mov     w1, #1
        strb    w1, [state, #draining]
        ldr     w1, [state, #cfg_drain]
        mov     w2, #1000
        umaddl  x9, w1, w2, x9
        str     x9, [state, #drain_end_ms]
        str     x30, [sp, #-16]!
        bl      log_drain_begun
        ldr     x30, [sp], #16
        b       .Lsignal_forward_all
.Lsignal_end_delay:
        str     x9, [state, #drain_end_ms]
.Lsignal_forward_all:
        ldr     w3, [state, #worker_slots]
        add     x4, state, #child_pids
.Lsignal_forward:
        subs    w3, w3, #1
        b.eq    .Lsignal_done                   // slot 0 is this process
        ldr     w0, [x4, w3, uxtw #2]
        cbz     w0, .Lsignal_forward            // a slot waiting for a replacement (kill(0) would hit the group)
        mov     w1, #SIGTERM
        sys     kill
        b       .Lsignal_forward
.Lsignal_alarm:
        ldrb    w0, [state, #stopped]
        cbnz    w0, replace_workers
        str     x30, [sp, #-16]!
        bl      accept_connections
        ldr     w0, [state, #metrics_fd]
        tbnz    w0, #31, 1f
        bl      accept_metrics_connections
1:      ldr     x30, [sp], #16
        b       replace_workers
.Lsignal_done:
        ret

// on_tick: the tick's timer fired (its event is in this batch): reads it and the clocks (the Date too) before
// the batch's other events are handled, so that the deadlines they set count from a clock at most a tick old
// however late this turn of the loop comes; the timers' sweep waits for the batch's end (end_tick), so that it
// closes no connection whose input is in this batch.
// CLOBBERS: x0-x9
on_tick:
        str     x30, [sp, #-16]!
        ldr     w0, [state, #timer_fd]
        add     x1, state, #timespec
        mov     x2, #8
        sys     read
        mov     w0, #1
        strb    w0, [state, #tick_due]
        bl      update_clock
        ldr     x30, [sp], #16
        b       update_date

// end_tick: after a batch with a tick: runs the connection timers, and stops the tick once no connection is left,
// so that an idle server sleeps until a client or a signal comes. A whole tick without any other event means the
// connections are quiet: then it dozes instead of ticking on.
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26, x27
end_tick:
        str     x30, [sp, #-16]!
        strb    wzr, [state, #tick_due]
        bl      sweep_timers
        ldr     x30, [sp], #16
        ldr     x0, [state, #open_count]
        ldr     w0, [x0]
        cbnz    w0, 1f
        strb    wzr, [state, #ticking]
        adr     x2, no_tick
        b       set_tick
1:      ldrb    w0, [state, #eventful]
        strb    wzr, [state, #eventful]
        cbz     w0, doze
        ret

// doze: stops the tick and sets its timer once, for the tick at which the first connection's deadline passes, so
// that quiet connections (idle keep-alive ones, say) cost no wake-up until then. Any other event starts the tick
// again (start_tick, which also renews the Date line the tick would have).
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26, x27
doze:
        str     x30, [sp, #-16]!                // the caller's return, for the end
        mov     w0, #-1
        str     w0, [state, #first_deadline]
        adr     x0, 1f
        str     x0, [sp, #-16]!                 // for_each_connection returns to 1f
        adr     visit, .Ldoze_earliest
        b       for_each_connection
1:      strb    wzr, [state, #ticking]
        ldr     w0, [state, #first_deadline]    // in ticks of the monotonic clock: fire at its start
        mov     x1, #TICK_MS
        mul     x0, x0, x1                      // milliseconds
        mov     x1, #1000
        udiv    x2, x0, x1
        msub    x3, x2, x1, x0
        mov     x1, #(1000000 & 0xffff)
        movk    x1, #(1000000 >> 16), lsl #16
        mul     x3, x3, x1                      // nanoseconds
        add     x4, state, #alarm_time          // a struct itimerspec (alarm_time is only scratch): no interval,
        stp     xzr, xzr, [x4]
        stp     x2, x3, [x4, #16]               // and the expiry, absolute
        ldr     w0, [state, #timer_fd]
        mov     w1, #TFD_TIMER_ABSTIME
        mov     x2, x4
        mov     x3, #0
        sys     timerfd_settime
        ldr     x30, [sp], #16
        ret
.Ldoze_earliest:
        ldr     w0, [conn, #C_DEADLINE]
        ldr     w1, [state, #first_deadline]
        cmp     w0, w1
        b.hs    2f
        str     w0, [state, #first_deadline]
2:      ret

// start_tick: starts the tick after a sleep without connections, or a doze, and reads the clocks the stopped tick
// did not (the deadlines of new connections count from now_tick, and their responses carry date_line).
// CLOBBERS: x0-x9
start_tick:
        str     x30, [sp, #-16]!
        bl      update_clock
        bl      update_date
        ldr     x30, [sp], #16
        mov     w0, #1
        strb    w0, [state, #ticking]
        adr     x2, every_tick
        // fall through

// set_tick: sets the tick's timer: every_tick (a tick every TICK_MS, the first TICK_MS from now) or no_tick (off).
// IN: x2 = the itimerspec   CLOBBERS: x0, x1, x3, x8
set_tick:
        ldr     w0, [state, #timer_fd]
        mov     w1, #0
        mov     x3, #0
        sys     timerfd_settime
        ret

// sweep_timers: acts on every connection whose timer has fired (see on_timeout).
// CLOBBERS: x0-x15, x19, x20, x22-x24, x26, x27
sweep_timers:
        str     x30, [sp, #-16]!
        adr     visit, .Lsweep_check
        b       for_each_connection             // returns through the frame above
.Lsweep_check:
        ldr     w0, [conn, #C_DEADLINE]
        ldr     w1, [state, #now_tick]
        cmp     w0, w1
        b.ls    on_timeout
        ret

// stop_accepting: ends the drain delay: closes the listeners (the first process holds every worker's) and
// every connection without a response in flight, those with one close when it is sent, and a lingering close
// whose response the client has not all acknowledged ends as usual (closing it now, with input unread, would
// reset it, and the kernel would drop the rest of the response).
// CLOBBERS: x0-x15, x19, x20, x22-x24, x27
stop_accepting:
        str     x30, [sp, #-16]!
        mov     w0, #1
        strb    w0, [state, #stopped]
        bl      log_drain_ended
        ldr     w1, [state, #worker_slots]
        add     x2, state, #listen_fds
.Lstop_close_listener:
        sub     w1, w1, #1
        ldr     w0, [x2, w1, uxtw #2]
        sys     close
        cbnz    w1, .Lstop_close_listener
        mov     w0, #-1
        str     w0, [state, #listen_fd]
        ldr     w0, [state, #metrics_fd]
        tbnz    w0, #31, 1f
        sys     close
        mov     w0, #-1
        str     w0, [state, #metrics_fd]
1:      adr     visit, .Lstop_one
        b       for_each_connection             // returns through the frame above
.Lstop_one:
        ldrb    w0, [conn, #C_FLAGS]
        tbz     w0, #F_LINGER_BIT, .Lstop_answering
        mov     w0, fd                          // a lingering close: is its response still on its way?
        mov     w1, #TIOCOUTQ                   // (bytes sent but not yet acknowledged)
        adr     x2, read_buffer                 // free between events
        sys     ioctl
        ldr     w0, [x2]
        cbz     w0, close_connection            // all delivered: nothing to lose
        b       .Lstop_in_flight
.Lstop_answering:
        ldr     w1, [conn, #C_RESP]
        cbz     w1, close_connection
.Lstop_in_flight:
        ldrb    w0, [conn, #C_FLAGS]
        orr     w0, w0, #F_LAST                 // its R_CLOSE must not change: part of it is sent
        strb    w0, [conn, #C_FLAGS]
        ret

// for_each_connection: calls a routine for every open connection, then returns through the caller's frame.
// IN: visit = the routine, which gets conn = the record and fd = the descriptor; [sp] = the saved x30
// CLOBBERS: conn, fd, and what the routine clobbers
for_each_connection:
        mov     fd, #0
        adr     conn, conns
.Leach_next:
        ldr     w0, [conn, #C_DEADLINE]
        cbz     w0, .Leach_skip
        blr     visit
.Leach_skip:
        add     conn, conn, #1 << CONN_SHIFT
        add     fd, fd, #1
        ldr     w0, [state, #max_fd]
        cmp     fd, w0
        b.ls    .Leach_next
        ldr     x30, [sp], #16
        ret

// finish: waits for the workers (if this is the first process), naming any crash (report_end), and exits:
// 0, or 1 when a worker crashed since the start.
finish:
        mov     x0, #-1
        add     x1, state, #wait_status
        mov     x2, #0
        mov     x3, #0
        sys     wait4
        cmn     x0, #ECHILD
        b.eq    .Lfinish_exit
        cmp     x0, #0
        b.le    finish                          // EINTR
        bl      report_end
        b       finish
.Lfinish_exit:
        bl      log_exit
        ldr     w0, [state, #log_used]
        cbz     w0, 2f
        bl      flush_log                       // what the log takes now: nothing waits for it any more
2:      ldrb    w0, [state, #crashed]
        b       exit

        .unreq  event
        .unreq  events_end
        .unreq  visit                           // (ready stays: on_connection_event reads it)
