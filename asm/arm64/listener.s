// Start-up of the serving processes: signals, limits, the listening sockets and the workers.

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
        // Every worker's listener exists before the startup line, so the line means that all of them accept.
        worker  .req w21                        // the worker's index, 0 for this process
        other   .req w22
        listeners .req x23                      // listen_fds
        workers .req w24                        // cfg_workers
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
        adr     x1, msg_listening               // "asm-web-service: listening on http://"
        mov     w2, #msg_listening_len
        mov     w0, #1
        bl      print
        adr     x1, any_ipv6                    // "[::]:", or "0.0.0.0:" without IPv6
        mov     w2, #any_ipv6_len
        ldrb    w0, [state, #ipv4_only]
        cbz     w0, 1f
        adr     x1, any_ipv4
        mov     w2, #any_ipv4_len
1:      mov     w0, #1
        bl      print
        mov     w0, #1
        bl      print_port
        adr     x1, newline
        mov     w2, #1
        mov     w0, #1
        bl      print

        mov     worker, #0
.Lserve_fork:
        add     worker, worker, #1
        cmp     worker, workers
        b.hs    .Lserve_first
        mov     x0, #SIGCHLD                    // clone(SIGCHLD, 0, ...) is fork()
        mov     x1, #0
        mov     x2, #0
        mov     x3, #0
        mov     x4, #0
        sys     clone
        cbz     x0, .Lserve_worker
        tbnz    x0, #63, .Lserve_first          // no more processes: serve with what runs
        add     x1, state, #child_pids - 4      // worker n is child n - 1
        str     w0, [x1, worker, uxtw #2]
        str     worker, [state, #child_count]
        b       .Lserve_fork
.Lserve_worker:
        // The worker stops when the first process dies, and leaves the terminal's process group so that
        // Ctrl-C reaches only the first process, which forwards it.
        mov     w0, #PR_SET_PDEATHSIG
        mov     w1, #SIGTERM
        sys     prctl
        mov     w0, #0
        mov     w1, #0
        sys     setpgid
        str     wzr, [state, #child_count]
        b       .Lserve_own_listener
.Lserve_first:
        mov     worker, #0
.Lserve_own_listener:
        // Keep listener `worker` and close the others (each belongs to another worker).
        ldr     w0, [listeners, worker, uxtw #2]
        str     w0, [state, #listen_fd]
        mov     other, #0
.Lserve_close_other:
        cmp     other, worker
        b.eq    .Lserve_next_other
        ldr     w0, [listeners, other, uxtw #2]
        sys     close
.Lserve_next_other:
        add     other, other, #1
        cmp     other, workers
        b.lo    .Lserve_close_other
        b       event_loop
        .unreq  workers
        .unreq  worker
        .unreq  other
        .unreq  listeners

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
        adr     x1, msg_port                    // "port PORT is already in use"
        mov     w2, #msg_port_len
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

// fill_sockaddr: writes sockaddr, the socket address of PORT on a host address: a sockaddr_in, or the
// sockaddr_in6 of [::] (its address and scope id are never written: they stay 0).
// IN: x0 = the family, and for AF_INET the host address (network byte order) << 32
// OUT: sockaddr, x1 = its address, w2 = its length   CLOBBERS: x0
fill_sockaddr:
        add     w2, w0, w0, lsr #1              // family * 3 / 2 + 13: 16 for AF_INET (2), 28 for AF_INET6 (10)
        add     w2, w2, #13
        ldr     w1, [state, #cfg_port]
        rev16   w1, w1                          // network byte order
        orr     x0, x0, x1, lsl #16             // family, port, IPv4 address or IPv6 flowinfo
        add     x1, state, #sockaddr
        str     x0, [x1]
        ret
