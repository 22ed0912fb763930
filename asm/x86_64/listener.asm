; Start-up of the serving processes: signals, limits, the listening sockets and the workers; the first process
; replaces a worker that dies.

%define worker  r12             ; a worker's index: 0 is the first process, 1.. the workers it started
%define other   r13             ; another worker's index

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
        call    map_shared_counters
        sys     SYS_getpid
        mov     [first_pid], eax
        mov     dword [log_fd], -1
        cmp     byte [access_log], 0
        je      .listeners
        call    open_log
.listeners:
        ; Every worker's listener exists before the startup line, so the line means that all of them accept;
        ; so does METRICS_PORT's.
        xor     r12d, r12d
.listen:
        call    open_listener
        mov     eax, [listen_fd]
        mov     [listen_fds + r12*4], eax
        inc     r12d
        cmp     r12d, [cfg_workers]
        jb      .listen
        mov     dword [metrics_fd], -1
        mov     eax, [cfg_metrics_port]         ; /metrics on PORT's connections, on its own port's, or nowhere
        cmp     eax, [cfg_port]
        jne     .metrics_port
        mov     dword [accept_flags], F_METRICS
        jmp     .startup_line
.metrics_port:
        test    eax, eax
        jz      .startup_line
        mov     byte [binding_metrics], 1       ; a listener of the first process only: a scrape answers for
        call    open_listener                   ; every worker whichever process takes it
        mov     byte [binding_metrics], 0
        mov     eax, [listen_fd]
        mov     [metrics_fd], eax
.startup_line:
        cmp     byte [access_log], 0
        jne     .start_event
        mov     esi, msg_listening
        mov     edx, msg_listening_len
        call    print_url_start                 ; (edi = 1, stdout, from here: print and print_port keep it)
        call    print_port
        mov     esi, newline
        mov     edx, 1
        call    print
        cmp     dword [metrics_fd], 0
        jl      .serve
        mov     esi, msg_metrics_on             ; "asm-web-service: metrics on http://"
        mov     edx, msg_metrics_on_len
        call    print_url_start
        mov     rsi, [metrics_port_text]
        mov     edx, [metrics_port_text_len]
        call    print
        mov     esi, metrics_path_line          ; "/metrics" and a newline
        mov     edx, metrics_path_line_len
        call    print
        jmp     .serve
.start_event:
        call    log_start                       ; with the log on, stdout has JSON lines only
.serve:
        ; The first process serves on listener 0 and holds every other one, so that a dead worker's listener
        ; and the connections waiting in it pass on to its replacement.
        mov     eax, [cfg_workers]
        mov     [worker_slots], eax
        mov     eax, [listen_fds]
        mov     [listen_fd], eax
        mov     worker, 1
.start:
        mov     eax, [cfg_workers]
        cmp     worker, rax
        jae     .started
        call    start_worker
        inc     worker
        jmp     .start
.started:
        call    replace_workers                 ; retries, in a second, a start that failed
        call    make_spare
        jmp     event_loop

; print_url_start: writes the start of a startup line and the listeners' address on stdout: "[::]:", or
; "0.0.0.0:" when the kernel has no IPv6.
; IN: esi = the start, edx = its length   OUT: edi = 1   CLOBBERS: rax, rcx, rdx, rsi, r11
print_url_start:
        mov     edi, 1
        call    print
        mov     esi, any_ipv6
        mov     edx, any_ipv6_len
        cmp     byte [ipv4_only], 0
        je      print
        mov     esi, any_ipv4
        mov     edx, any_ipv4_len
        jmp     print

; start_worker: forks worker `worker`. The new process goes on in become_worker; this one notes its pid.
; IN: worker (r12) = its index (1 or more)   OUT: child_pids[worker] = its pid, or 0 if fork failed
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r10, r11
start_worker:
        mov     edi, SIGCHLD                    ; clone(SIGCHLD, 0, ...) is fork()
        xor     esi, esi
        xor     edx, edx
        xor     r10d, r10d
        xor     r8d, r8d
        sys     SYS_clone
        test    rax, rax
        jz      become_worker
        cmp     rax, -4095
        jb      .started
        xor     eax, eax                        ; none: replace_workers tries again
.started:
        mov     [child_pids + worker*4], eax
        ret

; become_worker: makes a new child process worker `worker`: it stops when the first process dies, leaves the
; terminal's process group (Ctrl-C reaches only the first process, which forwards it), keeps its own listener
; and nothing else of the first process (descriptors, connections), and enters the event loop.
; IN: worker (r12) = its index   OUT: never returns
become_worker:
        mov     edi, PR_SET_PDEATHSIG
        mov     esi, SIGTERM
        sys     SYS_prctl
        ; The first process may have died before the prctl: then no signal will come, and the worker would
        ; outlive it.
        sys     SYS_getppid
        cmp     eax, [first_pid]
        jne     exit                            ; edi (PR_SET_PDEATHSIG) is 1: an unexpected end
        xor     edi, edi
        xor     esi, esi
        sys     SYS_setpgid
        ; Close every other listener, and every descriptor above them (epoll, signals, timer, spare and
        ; connections, when the first process forks a replacement while it serves).
        xor     other, other
        xor     r14d, r14d                      ; the highest listener
.close_other:
        mov     edi, [listen_fds + other*4]
        cmp     edi, r14d
        cmova   r14d, edi
        cmp     other, worker
        je      .next_other
        sys     SYS_close
.next_other:
        inc     other
        mov     eax, [worker_slots]
        cmp     other, rax
        jb      .close_other
        lea     edi, [r14 + 1]
        mov     esi, -1
        xor     edx, edx
        sys     SYS_close_range
        test    rax, rax
        jz      .closed
        lea     edi, [r14 + 1]                  ; a kernel before 5.9: one at a time
.close_one:
        push    rdi
        sys     SYS_close
        pop     rdi
        inc     edi
        cmp     edi, MAX_FDS
        jb      .close_one
.closed:
        mov     eax, [listen_fds + worker*4]
        mov     [listen_fd], eax
        mov     [listen_fds], eax
        mov     dword [metrics_fd], -1          ; (closed above: the first process keeps it)
        mov     dword [worker_slots], 1         ; its own listener, no workers
        mov     byte [in_worker], 1
        mov     byte [crashed], 0               ; a replacement's: the first process's crashes are not its own
        mov     dword [log_used], 0             ; the first process's lines are its own to write
        ; Forget the first process's connections and state.
        mov     edi, conns
        mov     ecx, [max_fd]
        inc     ecx
        shl     ecx, CONN_SHIFT - 3
        xor     eax, eax
        rep     stosq
        mov     [max_fd], eax
        lea     rcx, [shared_counters + M_OPEN + worker*4] ; its slot: a replaced worker's connections are gone
        mov     [open_count], rcx
        mov     [rcx], eax
        mov     [date_second], eax              ; event_loop writes the Date line anew
        call    make_spare
        jmp     event_loop

; reap_workers: collects every worker that ended, names each crash on stderr (see report_end), and replaces
; them (replace_workers).
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r12
reap_workers:
        mov     edi, -1
        mov     esi, wait_status
        mov     edx, WNOHANG
        xor     r10d, r10d
        sys     SYS_wait4
        test    eax, eax
        jle     replace_workers                 ; none left to collect (0), or no children (-ECHILD)
        mov     ecx, [worker_slots]
.find:
        dec     ecx
        jz      .found                          ; (not one of ours: cannot happen)
        cmp     eax, [child_pids + rcx*4]
        jne     .find
        mov     dword [child_pids + rcx*4], 0   ; its slot waits for a replacement
        mov     dword [shared_counters + M_OPEN + rcx*4], 0 ; and its connections are gone
.found:
        call    report_end
        jmp     reap_workers

; replace_workers: starts a worker in a free slot, at most one a second: if the last start is more recent,
; an alarm (SIGALRM, through the signalfd) comes back when the second is over. Nothing while shutting down.
; With the access log on, each start is a worker_replaced event.
; CLOBBERS: rax, rcx, rdx, rsi, rdi, r8-r12
replace_workers:
        cmp     byte [draining], 0
        jne     .done
        xor     worker, worker
.find:
        inc     worker
        mov     eax, [worker_slots]
        cmp     worker, rax
        jae     .done
        cmp     dword [child_pids + worker*4], 0
        jne     .find
        call    update_clock
        mov     rax, [now_ms]
        mov     rcx, rax
        sub     rax, [last_start_ms]
        cmp     rax, 1000
        jbe     .later                          ; (whole milliseconds: 1000 may be a little less)
        mov     [last_start_ms], rcx
        call    start_worker
        mov     rax, worker
        call    log_worker_replaced
        jmp     replace_workers                 ; the next free slot has to wait
.later:
        neg     eax
        add     eax, 1000 + 1                   ; the milliseconds left, and one more: never early
        jmp     set_alarm
.done:
        ret

; set_alarm: asks for a SIGALRM in eax milliseconds (replacing any alarm set before).
; IN: eax = milliseconds (1 or more)   CLOBBERS: rax, rcx, rdx, rsi, rdi, r10, r11
set_alarm:
        imul    eax, eax, 1000
        xor     edx, edx
        mov     ecx, 1000000
        div     ecx
        mov     [alarm_time + 16], rax          ; it_value: seconds, microseconds (no interval)
        mov     [alarm_time + 24], rdx
        mov     edi, ITIMER_REAL
        mov     esi, alarm_time
        xor     edx, edx
        sys     SYS_setitimer
        ret

; report_end: a worker ended with wait_status: a signal or a status other than 0 is a crash, which is counted
; (the first process then exits 1) and named in one line on stderr:
; "asm-web-service: worker PID killed by signal N" or "asm-web-service: worker PID exited with status N".
; IN: eax = its pid, [wait_status]   OUT: [crashed]   CLOBBERS: rax, rcx, rdx, rsi, rdi, r8, r11
report_end:
        mov     r8d, [wait_status]
        test    r8d, r8d
        jz      .done                           ; a clean exit: the end of a shutdown
        mov     byte [crashed], 1
        mov     edi, read_buffer                ; free between events
        mov     esi, msg_worker
        mov     ecx, msg_worker_len
        rep     movsb
        call    put_decimal
        mov     esi, msg_killed
        mov     ecx, msg_killed_len
        mov     eax, r8d
        and     eax, 0x7f                       ; the signal that ended it, or 0
        jnz     .cause
        mov     esi, msg_exited
        mov     ecx, msg_exited_len
        mov     eax, r8d
        movzx   eax, ah                         ; the exit status
.cause:
        rep     movsb
        call    put_decimal
        mov     byte [rdi], 10
        lea     edx, [rdi + 1]
        mov     esi, read_buffer
        sub     edx, esi
        jmp     print_stderr
.done:
        ret

; put_decimal: writes a number in decimal: counts its digits, then writes them from the last.
; IN: rax = the number, rdi = where   OUT: rdi = after it   CLOBBERS: rax, rcx, rdx, rsi
put_decimal:
        mov     ecx, 10
        mov     rsi, rax
.count:
        xor     edx, edx
        div     rcx
        inc     rdi
        test    rax, rax
        jnz     .count
        mov     rax, rsi
        mov     rsi, rdi
.digit:
        xor     edx, edx
        div     rcx
        add     dl, '0'                         ; the lowest digit
        dec     rsi
        mov     [rsi], dl
        test    rax, rax
        jnz     .digit
        ret

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
        mov     edx, SO_REUSEADDR               ; restart at once while old connections sit in TIME_WAIT
        call    enable_option
        cmp     dword [cfg_workers], 1
        je      .bind
        cmp     byte [binding_metrics], 0       ; METRICS_PORT's listener is the first process's alone: a
        jne     .bind                           ; port in use must fail, not be shared
        mov     edx, SO_REUSEPORT               ; one listener per worker; the kernel spreads connections
        call    enable_option
.bind:
        xor     eax, eax                        ; 0.0.0.0, or the zero flowinfo of an IPv6 address
        call    fill_sockaddr
        mov     edx, 16                         ; sizeof(struct sockaddr_in)
        cmp     byte [ipv4_only], 0
        jne     .bind_address
        mov     word [sockaddr], AF_INET6       ; [::]:PORT: the address and scope id after it stay zero
        mov     esi, IPPROTO_IPV6               ; IPv4 connections too, whatever net.ipv6.bindv6only says
        mov     edx, IPV6_V6ONLY
        mov     r10d, zero
        call    listener_option
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
        xor     esi, esi                        ; nothing before "port"
        xor     edx, edx
        mov     r8d, msg_in_use                 ; what follows the port (print_port keeps r8 and r10)
        mov     r10d, msg_in_use_len
        jmp     .report
.fail:
        mov     esi, msg_cannot_listen
        mov     edx, msg_cannot_listen_len
        mov     r8d, newline
        mov     r10d, 1
.report:
        call    print_error
        cmp     byte [binding_metrics], 0
        je      .port
        mov     esi, msg_metrics_word           ; "metrics port 9090", naming METRICS_PORT's value
        mov     edx, msg_metrics_word_len
        call    print_stderr
.port:
        mov     esi, msg_port
        mov     edx, msg_port_len
        call    print_stderr
        mov     edi, 2
        call    print_port
        mov     esi, r8d
        mov     edx, r10d
        call    print_stderr
        mov     edi, 1
        jmp     exit

; enable_option: sets a SOL_SOCKET option of the listener to 1.
; IN: edx = option   OUT: rax = 0 or -errno   CLOBBERS: rcx, rsi, rdi, r8, r10, r11
enable_option:
        mov     esi, SOL_SOCKET
        mov     r10d, one
        ; fall through

; listener_option: sets an int option of the listener.
; IN: esi = level, edx = option, r10 = its value   OUT: rax = 0 or -errno   CLOBBERS: rcx, rdi, r8, r11
listener_option:
        mov     edi, [listen_fd]
        mov     r8d, 4
        ; fall through

; set_socket_option: sets an option of a socket.
; IN: edi = socket, esi = level, edx = option, r10 = value, r8d = its length   OUT: rax = 0 or -errno
; CLOBBERS: rcx, r11
set_socket_option:
        sys     SYS_setsockopt
        ret

; fill_sockaddr: writes sockaddr, the IPv4 socket address of PORT (of METRICS_PORT while binding_metrics) on a
; host address (its first 16 bytes).
; IN: eax = the host address, in network byte order   OUT: [sockaddr]   CLOBBERS: rcx
fill_sockaddr:
        mov     [sockaddr + 4], eax             ; sin_addr
        mov     ecx, [cfg_port]
        cmp     byte [binding_metrics], 0
        je      .port
        mov     ecx, [cfg_metrics_port]
.port:
        xchg    cl, ch                          ; network byte order
        shl     ecx, 16
        or      ecx, AF_INET
        mov     [sockaddr], ecx                 ; sin_family, sin_port
        ret

; A worker's end (SIGCHLD) and the alarm of a delayed replacement or accept (SIGALRM) come through the signalfd.
WORKER_SIGNALS  equ (1 << (SIGCHLD - 1)) | (1 << (SIGALRM - 1))

        section .rodata
; Signal sets (bit n-1 for signal n).
blocked_signals:
        dq      (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | (1 << (SIGPIPE - 1)) | WORKER_SIGNALS
watched_signals:
        dq      (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | WORKER_SIGNALS
msg_worker:     db "asm-web-service: worker "
msg_worker_len equ $ - msg_worker
msg_killed:     db " killed by signal "
msg_killed_len equ $ - msg_killed
msg_exited:     db " exited with status "
msg_exited_len equ $ - msg_exited
msg_metrics_on: db "asm-web-service: metrics on http://"
msg_metrics_on_len equ $ - msg_metrics_on
metrics_path_line: db "/metrics", 10
metrics_path_line_len equ $ - metrics_path_line
msg_metrics_word: db "metrics "
msg_metrics_word_len equ $ - msg_metrics_word
        section .text

%undef worker
%undef other
