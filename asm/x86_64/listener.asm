; Start-up of the serving processes: signals, limits, the listening sockets and the workers.

; serve: prepares the process, opens the listener, starts the other workers and enters the event loop.
; IN: settings read   OUT: never returns
serve:
        ; TERM and INT are read from a signalfd; PIPE stays blocked so a write to a reset peer fails with EPIPE
        ; instead of killing the process.
        mov     edi, SIG_BLOCK
        mov     esi, blocked_signals
        xor     edx, edx
        mov     r10d, 8
        sys     SYS_rt_sigprocmask
        ; Raise the soft descriptor limit toward MAX_FDS (as far as the hard limit allows).
        xor     edi, edi
        mov     esi, RLIMIT_NOFILE
        xor     edx, edx
        mov     r10d, rlimit
        sys     SYS_prlimit64
        mov     rax, [rlimit + 8]
        cmp     rax, MAX_FDS
        jbe     .set_limit
        mov     eax, MAX_FDS
.set_limit:
        mov     [rlimit], rax
        mov     edx, rlimit                     ; rdi (0) and rsi (RLIMIT_NOFILE) are kept by the syscall
        xor     r10d, r10d
        sys     SYS_prlimit64

        ; Timeouts in ticks, plus two: now_tick is read only at ticks, whose phase is arbitrary, so a timer set
        ; between two ticks must wait one more not to fire early.
        imul    eax, [cfg_keepalive], 1000 / TICK_MS
        add     eax, 2
        mov     [keepalive_ticks], eax
        imul    eax, [cfg_header_timeout], 1000 / TICK_MS
        add     eax, 2
        mov     [header_ticks], eax
        ; Every worker's listener exists before the startup line, so the line means that all of them accept.
        xor     r12d, r12d
.listen:
        call    open_listener
        mov     eax, [listen_fd]
        mov     [listen_fds + r12*4], eax
        inc     r12d
        cmp     r12d, [cfg_workers]
        jb      .listen
        mov     esi, msg_listening
        mov     edx, msg_listening_len
        mov     edi, 1                          ; stdout, for all four (print and print_port keep rdi)
        call    print
        mov     esi, any_ipv6
        mov     edx, any_ipv6_len
        cmp     byte [ipv4_only], 0
        je      .address
        mov     esi, any_ipv4
        mov     edx, any_ipv4_len
.address:
        call    print
        call    print_port
        mov     esi, newline
        mov     edx, 1
        call    print

        xor     r12d, r12d                      ; worker index; 0 is this process
.fork:
        inc     r12d
        cmp     r12d, [cfg_workers]
        jae     .first
        mov     edi, SIGCHLD                    ; clone(SIGCHLD, 0, ...) is fork()
        xor     esi, esi
        xor     edx, edx
        xor     r10d, r10d
        xor     r8d, r8d
        sys     SYS_clone
        test    rax, rax
        jz      .worker
        js      .first                          ; no more processes: serve with what runs
        mov     ecx, [child_count]
        mov     [child_pids + rcx*4], eax
        inc     dword [child_count]
        jmp     .fork
.worker:
        ; The worker stops when the first process dies, and leaves the terminal's process group so that
        ; Ctrl-C reaches only the first process, which forwards it.
        mov     edi, PR_SET_PDEATHSIG
        mov     esi, SIGTERM
        sys     SYS_prctl
        xor     edi, edi
        xor     esi, esi
        sys     SYS_setpgid
        mov     dword [child_count], 0
        jmp     .own_listener
.first:
        xor     r12d, r12d
.own_listener:
        ; Keep listener r12 and close the others (each belongs to another worker).
        mov     eax, [listen_fds + r12*4]
        mov     [listen_fd], eax
        xor     r13d, r13d
.close_other:
        cmp     r13d, r12d
        je      .next_other
        mov     edi, [listen_fds + r13*4]
        sys     SYS_close
.next_other:
        inc     r13d
        cmp     r13d, [cfg_workers]
        jb      .close_other
        jmp     event_loop

; open_listener: opens the non-blocking listening socket on [::]:PORT, which takes IPv4 connections too (so
; probes reach it on IPv4, IPv6 and dual-stack clusters), or on 0.0.0.0:PORT when the kernel has no IPv6; or
; ends the process with a message.
; OUT: [listen_fd], [ipv4_only]   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r10, r11
open_listener:
        mov     edi, AF_INET6
        cmp     byte [ipv4_only], 0
        je      .socket
        mov     edi, AF_INET
.socket:
        mov     esi, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC
        xor     edx, edx
        sys     SYS_socket
        cmp     rax, -EAFNOSUPPORT
        jne     .opened
        cmp     byte [ipv4_only], 0
        jne     .fail
        mov     byte [ipv4_only], 1             ; a kernel booted with ipv6.disable=1
        jmp     open_listener
.opened:
        cmp     rax, -4095
        jae     .fail
        mov     [listen_fd], eax
        mov     esi, SO_REUSEADDR               ; restart at once while old connections sit in TIME_WAIT
        call    enable_option
        cmp     dword [cfg_workers], 1
        je      .bind
        mov     esi, SO_REUSEPORT               ; one listener per worker; the kernel spreads connections
        call    enable_option
.bind:
        xor     eax, eax                        ; 0.0.0.0, or the zero flowinfo of an IPv6 address
        call    fill_sockaddr
        mov     edx, 16                         ; sizeof(struct sockaddr_in)
        cmp     byte [ipv4_only], 0
        jne     .bind_address
        mov     word [sockaddr], AF_INET6       ; [::]:PORT: the address and scope id after it stay zero
        ; IPv4 connections too, whatever net.ipv6.bindv6only says.
        mov     edi, [listen_fd]
        mov     esi, IPPROTO_IPV6
        mov     edx, IPV6_V6ONLY
        mov     r10d, zero
        mov     r8d, 4
        sys     SYS_setsockopt
        cmp     rax, -4095
        jae     .fail
        mov     edx, 28                         ; sizeof(struct sockaddr_in6)
.bind_address:
        mov     edi, [listen_fd]
        mov     esi, sockaddr
        sys     SYS_bind
        cmp     rax, -EADDRINUSE
        je      .in_use
        cmp     rax, -4095
        jae     .fail
        mov     edi, [listen_fd]
        mov     esi, 4096
        sys     SYS_listen
        cmp     rax, -4095
        jae     .fail
        ret
.in_use:
        mov     esi, msg_port
        mov     edx, msg_port_len
        mov     r8d, msg_in_use                 ; what follows PORT (print_port keeps r8 and r10)
        mov     r10d, msg_in_use_len
        jmp     .report
.fail:
        mov     esi, msg_cannot_listen
        mov     edx, msg_cannot_listen_len
        mov     r8d, newline
        mov     r10d, 1
.report:
        call    print_error
        mov     edi, 2
        call    print_port
        mov     esi, r8d
        mov     edx, r10d
        call    print_stderr
        mov     edi, 1
        jmp     exit

; enable_option: sets a SOL_SOCKET option of the listener to 1.
; IN: esi = option   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r10, r11
enable_option:
        mov     edi, [listen_fd]
        mov     r10d, one
        mov     r8d, 4
        ; fall through

; set_socket_option: sets a SOL_SOCKET option of a socket.
; IN: edi = socket, esi = option, r10 = value, r8d = its length   CLOBBERS: rax, rcx, rdx, rsi, r11
set_socket_option:
        mov     edx, esi
        mov     esi, SOL_SOCKET
        sys     SYS_setsockopt
        ret

; fill_sockaddr: writes sockaddr, the IPv4 socket address of PORT on a host address (its first 16 bytes).
; IN: eax = the host address, in network byte order   OUT: [sockaddr]   CLOBBERS: rcx
fill_sockaddr:
        mov     [sockaddr + 4], eax             ; sin_addr
        mov     ecx, [cfg_port]
        xchg    cl, ch                          ; network byte order
        shl     ecx, 16
        or      ecx, AF_INET
        mov     [sockaddr], ecx                 ; sin_family, sin_port
        ret
