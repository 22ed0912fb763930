// Start-up of the serving processes: signals, limits, the listening sockets and the workers, the first process
// replaces a worker that dies.

        worker  .req w22                // a worker's index: 0 is the first process, 1.. the workers it started
        other   .req w23                // another worker's index

// serve: prepares the process, opens the listener, starts the other workers and enters the event loop.
// IN: settings read   OUT: never returns
serve:
        // TERM and INT are read from a signalfd, PIPE stays blocked so a write to a reset peer fails with EPIPE
        // instead of killing the process.
        mov     w0, #SIG_BLOCK
        adr     x1, blocked_signals
        mov     x2, #0
        mov     x3, #8
        sys     rt_sigprocmask
        // Raise the soft descriptor limit toward MAX_FDS (as far as the hard limit allows).
        mov     w0, #0
        mov     w1, #RLIMIT_NOFILE
        mov     x2, #0
        add     x3, state, #rlimit
        sys     prlimit64
        ldr     x0, [state, #rlimit + 8]
        mov     x4, #MAX_FDS
        cmp     x0, x4
        csel    x0, x0, x4, ls
        str     x0, [state, #rlimit]
        mov     w0, #0                          // x1 is still RLIMIT_NOFILE
        mov     x2, x3
        mov     x3, #0
        sys     prlimit64

        // Timeouts in ticks, plus two: now_tick is read only at ticks, whose phase is arbitrary, so a timer set
        // between two ticks must wait one more not to fire early. Both at once:
        // cfg_keepalive, cfg_header_timeout and keepalive_ticks, header_ticks are pairs of words.
        .if     1000 / TICK_MS != 4
        .error  "the shift below multiplies by 1000 / TICK_MS"
        .endif
        ldr     x0, [state, #cfg_keepalive]
        lsl     x0, x0, #2                      // * 1000 / TICK_MS
        orr     x0, x0, #0x0000000200000002     // + 2
        str     x0, [state, #keepalive_ticks]
        bl      map_shared_counters
        sys     getpid
        str     w0, [state, #first_pid]
        mov     w0, #-1
        str     w0, [state, #log_fd]
        ldrb    w0, [state, #access_log]
        cbz     w0, 1f
        bl      open_log
1:
        // Every worker's listener exists before the startup line, so the line means that all of them accept.
        listeners .req x24                      // listen_fds
        workers .req w26                        // cfg_workers
        add     listeners, state, #listen_fds
        ldr     workers, [state, #cfg_workers]
        mov     worker, #0
.Lserve_listen:
        bl      open_listener
        ldr     w0, [state, #listen_fd]
        str     w0, [listeners, worker, uxtw #2]
        add     worker, worker, #1
        cmp     worker, workers
        b.lo    .Lserve_listen
        // So does METRICS_PORT's: /metrics on PORT's connections, on its own port's, or nowhere.
        mov     w0, #-1
        str     w0, [state, #metrics_fd]
        ldr     w0, [state, #cfg_port]
        ldr     w1, [state, #cfg_metrics_port]
        cmp     w0, w1
        b.ne    1f
        mov     w0, #F_METRICS
        str     w0, [state, #accept_flags]
        b       2f
1:      cbz     w1, 2f
        mov     w0, #1                          // a listener of the first process only: a scrape answers
        strb    w0, [state, #binding_metrics]   // for every worker whichever process takes it
        bl      open_listener
        strb    wzr, [state, #binding_metrics]
        ldr     w0, [state, #listen_fd]
        str     w0, [state, #metrics_fd]
2:      ldrb    w0, [state, #access_log]
        cbnz    w0, .Lserve_start_event
        adr     x1, msg_listening               // "asm-web-service: listening on http://"
        mov     w2, #msg_listening_len
        bl      print_url_start
        mov     w0, #1
        bl      print_port
        adr     x1, newline
        mov     w2, #1
        mov     w0, #1
        bl      print
        ldr     w0, [state, #metrics_fd]
        tbnz    w0, #31, 2f
        adr     x1, msg_metrics_on              // "asm-web-service: metrics on http://"
        mov     w2, #msg_metrics_on_len
        bl      print_url_start
        ldp     x1, x2, [state, #metrics_port_text] // and its length
        mov     w0, #1
        bl      print
        adr     x1, metrics_path_line           // "/metrics" and a newline
        mov     w2, #metrics_path_line_len
        mov     w0, #1
        bl      print
        b       2f
.Lserve_start_event:
        bl      log_start                       // with the log on, stdout has JSON lines only
2:
        // The first process serves on listener 0 and holds every other one, so that a dead worker's listener
        // and the connections waiting in it pass on to its replacement.
        str     workers, [state, #worker_slots]
        ldr     w0, [listeners]
        str     w0, [state, #listen_fd]
        mov     worker, #1
.Lserve_start:
        cmp     worker, workers
        b.hs    .Lserve_started
        bl      start_worker
        add     worker, worker, #1
        b       .Lserve_start
.Lserve_started:
        bl      replace_workers                 // retries, in a second, a start that failed
        bl      make_spare
        b       event_loop
        .unreq  workers
        .unreq  listeners

// print_url_start: writes the start of a startup line and the listeners' address on stdout: "[::]:", or
// "0.0.0.0:" when the kernel has no IPv6.
// IN: x1 = the start, w2 = its length   CLOBBERS: x0-x2, x8, x9
print_url_start:
        mov     x9, x30
        mov     w0, #1
        bl      print
        mov     x30, x9
        adr     x1, any_ipv6
        mov     w2, #any_ipv6_len
        ldrb    w0, [state, #ipv4_only]
        cbz     w0, 1f
        adr     x1, any_ipv4
        mov     w2, #any_ipv4_len
1:      mov     w0, #1
        b       print

// start_worker: forks worker `worker`. The new process goes on in become_worker, this one notes its pid.
// IN: worker (w22) = its index (1 or more)   OUT: child_pids[worker] = its pid, or 0 if fork failed
// CLOBBERS: x0-x4, x8
start_worker:
        mov     x0, #SIGCHLD                    // clone(SIGCHLD, 0, ...) is fork()
        mov     x1, #0
        mov     x2, #0
        mov     x3, #0
        mov     x4, #0
        sys     clone
        cbz     x0, become_worker
        cmn     x0, #4095
        csel    w0, wzr, w0, hs                 // -errno: none, replace_workers tries again
        add     x1, state, #child_pids
        str     w0, [x1, worker, uxtw #2]
        ret

// become_worker: makes a new child process worker `worker`: it stops when the first process dies, leaves the
// terminal's process group (Ctrl-C reaches only the first process, which forwards it), keeps its own listener
// and nothing else of the first process (descriptors, connections), and enters the event loop.
// IN: worker (w22) = its index   OUT: never returns
become_worker:
        mov     w0, #PR_SET_PDEATHSIG
        mov     w1, #SIGTERM
        sys     prctl
        // The first process may have died before the prctl: then no signal will come, and the worker would
        // outlive it.
        sys     getppid
        ldr     w1, [state, #first_pid]
        cmp     w0, w1
        mov     w0, #1                          // an unexpected end
        b.ne    exit
        mov     w0, #0
        mov     w1, #0
        sys     setpgid
        // Close every other listener, and every descriptor above them (epoll, signals, timer, spare and
        // connections, when the first process forks a replacement while it serves).
        highest .req w10                        // the highest listener
        add     x9, state, #listen_fds
        ldr     w11, [state, #worker_slots]
        mov     other, #0
        mov     highest, #0
.Lbecome_close_other:
        ldr     w0, [x9, other, uxtw #2]
        cmp     w0, highest
        csel    highest, w0, highest, hi
        cmp     other, worker
        b.eq    .Lbecome_next_other
        sys     close
.Lbecome_next_other:
        add     other, other, #1
        cmp     other, w11
        b.lo    .Lbecome_close_other
        add     w0, highest, #1
        mov     w1, #-1
        mov     w2, #0
        sys     close_range
        cbz     x0, .Lbecome_closed
.Lbecome_close_one:                             // a kernel before 5.9: one at a time
        add     highest, highest, #1
        mov     w0, highest
        sys     close
        cmp     highest, #MAX_FDS
        b.lo    .Lbecome_close_one
.Lbecome_closed:
        .unreq  highest
        ldr     w0, [x9, worker, uxtw #2]
        str     w0, [state, #listen_fd]
        str     w0, [x9]
        mov     w0, #-1                         // (closed above: the first process keeps it)
        str     w0, [state, #metrics_fd]
        mov     w0, #1                          // its own listener, no workers
        str     w0, [state, #worker_slots]
        strb    w0, [state, #in_worker]
        strb    wzr, [state, #crashed]          // a replacement's: the first process's crashes are not its own
        str     wzr, [state, #log_used]         // the first process's lines are its own to write
        // Forget the first process's connections and state.
        adr     x0, conns
        ldr     w1, [state, #max_fd]
.Lbecome_forget:
        stp     xzr, xzr, [x0], #16
        stp     xzr, xzr, [x0], #16
        subs    w1, w1, #1
        b.hs    .Lbecome_forget
        str     wzr, [state, #max_fd]
        adr     x0, shared_counters + M_OPEN    // its slot: a replaced worker's connections are gone
        add     x0, x0, worker, uxtw #2
        str     x0, [state, #open_count]
        str     wzr, [x0]
        str     wzr, [state, #date_second]      // event_loop writes the Date line anew
        bl      make_spare
        b       event_loop

// reap_workers: collects every worker that ended, names each crash on stderr (see report_end), and replaces
// them (replace_workers).
// CLOBBERS: x0-x10, x22
reap_workers:
        str     x30, [sp, #-16]!
.Lreap_next:
        mov     x0, #-1
        add     x1, state, #wait_status
        mov     x2, #WNOHANG
        mov     x3, #0
        sys     wait4
        cmp     x0, #0
        b.le    .Lreap_done                     // none left to collect (0), or no children (-ECHILD)
        add     x1, state, #child_pids
        ldr     w2, [state, #worker_slots]
.Lreap_find:
        subs    w2, w2, #1
        b.eq    .Lreap_found                    // (not one of ours: cannot happen)
        ldr     w3, [x1, w2, uxtw #2]
        cmp     w3, w0
        b.ne    .Lreap_find
        str     wzr, [x1, w2, uxtw #2]          // its slot waits for a replacement
        adr     x3, shared_counters + M_OPEN    // and its connections are gone
        str     wzr, [x3, w2, uxtw #2]
.Lreap_found:
        bl      report_end
        b       .Lreap_next
.Lreap_done:
        ldr     x30, [sp], #16
        // fall through

// replace_workers: starts a worker in a free slot, at most one a second: if the last start is more recent,
// an alarm (SIGALRM, through the signalfd) comes back when the second is over. Nothing while shutting down.
// With the access log on, each start is a worker_replaced event.
// CLOBBERS: x0-x10, x22
replace_workers:
        str     x30, [sp, #-16]!
.Lreplace_next:
        ldrb    w0, [state, #draining]
        cbnz    w0, .Lreplace_done
        add     x1, state, #child_pids
        ldr     w2, [state, #worker_slots]
        mov     worker, #0
.Lreplace_find:
        add     worker, worker, #1
        cmp     worker, w2
        b.hs    .Lreplace_done
        ldr     w0, [x1, worker, uxtw #2]
        cbnz    w0, .Lreplace_find
        bl      update_clock                    // x9 = now_ms
        ldr     x1, [state, #last_start_ms]
        sub     x0, x9, x1
        cmp     x0, #1000
        b.ls    .Lreplace_later                 // (whole milliseconds: 1000 may be a little less)
        str     x9, [state, #last_start_ms]
        bl      start_worker
        bl      log_worker_replaced
        b       .Lreplace_next                  // the next free slot has to wait
.Lreplace_later:
        mov     w1, #1000 + 1                   // the milliseconds left, and one more: never early
        sub     w0, w1, w0
        bl      set_alarm
.Lreplace_done:
        ldr     x30, [sp], #16
        ret

// set_alarm: asks for a SIGALRM in w0 milliseconds (replacing any alarm set before).
// IN: w0 = milliseconds (1 or more)   CLOBBERS: x0-x4, x8
set_alarm:
        mov     w1, #1000
        mul     w0, w0, w1                      // microseconds
        mov     w2, #1000000 & 0xffff
        movk    w2, #1000000 >> 16, lsl #16
        udiv    w3, w0, w2
        msub    w4, w3, w2, w0
        add     x1, state, #alarm_time
        stp     x3, x4, [x1, #16]               // it_value: seconds, microseconds (no interval)
        mov     w0, #ITIMER_REAL
        mov     x2, #0
        sys     setitimer
        ret

// report_end: a worker ended with wait_status: a signal or a status other than 0 is a crash, which is counted
// (the first process then exits 1) and named in one line on stderr:
// "asm-web-service: worker PID killed by signal N" or "asm-web-service: worker PID exited with status N".
// IN: w0 = its pid, wait_status   OUT: crashed   CLOBBERS: x0-x8
report_end:
        ldr     w6, [state, #wait_status]
        cbz     w6, .Lreport_done               // a clean exit: the end of a shutdown
        mov     w1, #1
        strb    w1, [state, #crashed]
        str     x30, [sp, #-16]!
        mov     w7, w0
        adr     x0, read_buffer                 // free between events
        adr     x1, msg_worker
        mov     w2, #msg_worker_len
        bl      copy_bytes
        mov     w1, w7
        bl      put_decimal
        adr     x1, msg_killed
        mov     w2, #msg_killed_len
        ands    w7, w6, #0x7f                   // the signal that ended it, or 0
        b.ne    .Lreport_cause
        adr     x1, msg_exited
        mov     w2, #msg_exited_len
        ubfx    w7, w6, #8, #8                  // the exit status
.Lreport_cause:
        bl      copy_bytes
        mov     w1, w7
        bl      put_decimal
        mov     w1, #10
        strb    w1, [x0], #1
        adr     x1, read_buffer
        sub     x2, x0, x1
        ldr     x30, [sp], #16
        b       print_stderr
.Lreport_done:
        ret

// put_decimal: writes a number in decimal: counts its digits, then writes them from the last.
// IN: x1 = the number, x0 = where   OUT: x0 = after it   CLOBBERS: x1-x5
put_decimal:
        mov     x2, #10
        mov     x3, x1
.Ldecimal_count:
        udiv    x3, x3, x2
        add     x0, x0, #1
        cbnz    x3, .Ldecimal_count
        mov     x4, x0
.Ldecimal_digit:
        udiv    x3, x1, x2
        msub    x5, x3, x2, x1                  // the lowest digit
        add     w5, w5, #'0'
        strb    w5, [x4, #-1]!
        mov     x1, x3
        cbnz    x1, .Ldecimal_digit
        ret

// open_listener: opens the non-blocking listening socket on [::]:PORT, which takes IPv4 connections too (so
// probes reach it on IPv4, IPv6 and dual-stack clusters), or on 0.0.0.0:PORT when the kernel has no IPv6; or
// ends the process with a message.
// OUT: listen_fd, ipv4_only   CLOBBERS: x0-x4, x8-x12
open_listener:
        str     x30, [sp, #-16]!
.Llisten_socket:
        family  .req w10
        ldrb    w9, [state, #ipv4_only]
        mov     family, #AF_INET6
        sub     family, family, w9, lsl #3      // AF_INET (2) once the kernel refused IPv6
        mov     w0, family
        mov     w1, #SOCK_STREAM | SOCK_NONBLOCK
        movk    w1, #SOCK_CLOEXEC >> 16, lsl #16
        mov     x2, #0
        sys     socket
        cmn     x0, #EAFNOSUPPORT
        b.eq    .Llisten_no_ipv6
        cmn     x0, #4095
        b.hs    .Llisten_fail
        str     w0, [state, #listen_fd]
        cbnz    w9, .Llisten_reuse
        mov     w1, #IPPROTO_IPV6               // IPv4 connections too, whatever net.ipv6.bindv6only says
        mov     w2, #IPV6_V6ONLY
        adr     x3, zero
        bl      listener_option
        cbnz    x0, .Llisten_fail               // (setsockopt, bind and listen return 0 or -errno)
.Llisten_reuse:
        mov     w2, #SO_REUSEADDR               // restart at once while old connections sit in TIME_WAIT
        bl      enable_option
        ldr     w0, [state, #cfg_workers]
        cmp     w0, #1
        b.eq    .Llisten_bind
        ldrb    w0, [state, #binding_metrics]   // METRICS_PORT's listener is the first process's alone: a
        cbnz    w0, .Llisten_bind               // port in use must fail, not be shared
        mov     w2, #SO_REUSEPORT               // one listener per worker, the kernel spreads connections
        bl      enable_option
.Llisten_bind:
        mov     w0, family                      // on 0.0.0.0, or [::] (a zero flowinfo)
        bl      fill_sockaddr
        ldr     w0, [state, #listen_fd]
        sys     bind
        cmn     x0, #EADDRINUSE
        b.eq    .Llisten_in_use
        cbnz    x0, .Llisten_fail
        ldr     w0, [state, #listen_fd]
        mov     w1, #4096
        sys     listen
        cbnz    x0, .Llisten_fail
        ldr     x30, [sp], #16
        ret
        .unreq  family
.Llisten_in_use:
        mov     w2, #0                          // "port PORT is already in use": nothing before "port"
        adr     x11, msg_in_use
        mov     w12, #msg_in_use_len
        b       .Llisten_report
.Llisten_no_ipv6:
        // A kernel booted with ipv6.disable=1: IPv4 from now on (for every worker). If IPv4 is refused too,
        // this clears ipv4_only again and fails.
        eor     w9, w9, #1
        strb    w9, [state, #ipv4_only]
        cbnz    w9, .Llisten_socket
.Llisten_fail:
        adr     x1, msg_cannot_listen           // "cannot listen on port PORT"
        mov     w2, #msg_cannot_listen_len
        adr     x11, newline
        mov     w12, #1
.Llisten_report:
        bl      print_error
        ldrb    w0, [state, #binding_metrics]
        cbz     w0, 1f
        adr     x1, msg_metrics_word            // "metrics port 9090", naming METRICS_PORT's value
        mov     w2, #msg_metrics_word_len
        bl      print_stderr
1:      adr     x1, msg_port
        mov     w2, #msg_port_len
        bl      print_stderr
        mov     w0, #2
        bl      print_port
        mov     x1, x11
        mov     w2, w12
        bl      print_stderr
        mov     w0, #1
        b       exit

// enable_option: sets a SOL_SOCKET option of the listener to 1.
// IN: w2 = option   CLOBBERS: x0-x4, x8
enable_option:
        mov     w1, #SOL_SOCKET
        adr     x3, one
        // fall through

// listener_option: sets an int option of the listener.
// IN: w1 = level, w2 = option, x3 = its value   OUT: x0 = 0 or -errno   CLOBBERS: x4, x8
listener_option:
        ldr     w0, [state, #listen_fd]
        mov     w4, #4
        // fall through

// set_socket_option: sets an option of a socket.
// IN: w0 = socket, w1 = level, w2 = option, x3 = value, w4 = its length   OUT: x0 = 0 or -errno   CLOBBERS: x8
set_socket_option:
        sys     setsockopt
        ret

// fill_sockaddr: writes sockaddr, the socket address of PORT (of METRICS_PORT while binding_metrics) on a host
// address: a sockaddr_in, or the sockaddr_in6 of [::] (its address and scope id are never written: they stay 0).
// IN: x0 = the family, and for AF_INET the host address (network byte order) << 32
// OUT: sockaddr, x1 = its address, w2 = its length   CLOBBERS: x0, x3
fill_sockaddr:
        add     w2, w0, w0, lsr #1              // family * 3 / 2 + 13: 16 for AF_INET (2), 28 for AF_INET6 (10)
        add     w2, w2, #13
        ldr     w1, [state, #cfg_port]
        ldrb    w3, [state, #binding_metrics]
        cbz     w3, 1f
        ldr     w1, [state, #cfg_metrics_port]
1:      rev16   w1, w1                          // network byte order
        orr     x0, x0, x1, lsl #16             // family, port, IPv4 address or IPv6 flowinfo
        add     x1, state, #sockaddr
        str     x0, [x1]
        ret

// A worker's end (SIGCHLD) and the alarm of a delayed replacement or accept (SIGALRM) come through the signalfd.
        .equ    WORKER_SIGNALS, (1 << (SIGCHLD - 1)) | (1 << (SIGALRM - 1))

        .pushsection .rodata
// Signal sets (bit n-1 for signal n).
        .balign 8
blocked_signals:
        .xword  (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | (1 << (SIGPIPE - 1)) | WORKER_SIGNALS
watched_signals:
        .xword  (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | WORKER_SIGNALS
msg_worker:     .ascii  "asm-web-service: worker "
        .equ    msg_worker_len, . - msg_worker
msg_killed:     .ascii  " killed by signal "
        .equ    msg_killed_len, . - msg_killed
msg_exited:     .ascii  " exited with status "
        .equ    msg_exited_len, . - msg_exited
msg_metrics_on: .ascii  "asm-web-service: metrics on http://"
        .equ    msg_metrics_on_len, . - msg_metrics_on
metrics_path_line: .ascii "/metrics\n"
        .equ    metrics_path_line_len, . - metrics_path_line
msg_metrics_word: .ascii "metrics "
        .equ    msg_metrics_word_len, . - msg_metrics_word
        .popsection

        .unreq  worker
        .unreq  other
