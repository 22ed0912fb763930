; Mutable state, all in .bss. Small variables first, so an idle server touches few pages.

        section .bss
        alignb  16
envp:           resq 1
port_text:      resq 1          ; PORT as given, for messages
port_text_len:  resq 1          ; (a dword: measure_text notes a text's place and length as a pair)
metrics_port_text: resq 1       ; METRICS_PORT as given, when given
metrics_port_text_len: resq 1
settings:                       ; in the order of setting_table
cfg_port:       resd 1
cfg_workers:    resd 1
cfg_drain:      resd 1          ; seconds
cfg_keepalive:  resd 1          ; seconds
cfg_header_timeout: resd 1      ; seconds
cfg_max_connections: resd 1     ; open connections a worker keeps; those beyond are closed at once
cfg_metrics_port: resd 1        ; where /metrics is served: PORT (the default), or 0 for nowhere
settings_end:
accept_flags:   resd 1          ; C_FLAGS of a new connection of PORT: F_METRICS when /metrics is served there
accepting:      resd 2          ; the listener accept_connections takes from, and its connections' C_FLAGS
listen_fd:      resd 1
metrics_fd:     resd 1          ; the listener of METRICS_PORT (the first process's), or -1
epoll_fd:       resd 1
signal_fd:      resd 1
timer_fd:       resd 1
max_fd:         resd 1          ; highest descriptor the timers must look at
now_tick:       resd 1          ; monotonic clock in TICK_MS units, read at each tick
keepalive_ticks: resd 1         ; KEEPALIVE_SECONDS in ticks, plus two: a timer never fires early
header_ticks:   resd 1          ; HEADER_TIMEOUT_SECONDS likewise
worker_slots:   resd 1          ; listeners held (listen_fds), and 1 + the workers started (child_pids)
first_pid:      resd 1          ; the process that starts and replaces the workers
wait_status:    resd 1          ; of the worker that ended last
date_second:    resd 1          ; the Unix time date_line shows
generation:     resd 1          ; of the connection watched last (see watch_connection)
first_deadline: resd 1          ; the earliest deadline of the open connections, while doze looks for it
now_ms:         resq 1
open_count:     resq 1          ; this worker's open connections: a dword among the shared counters (M_OPEN)
drain_end_ms:   resq 1
last_start_ms:  resq 1          ; when replace_workers last started a worker
draining:       resb 1          ; a signal came: /health says 503, every response closes
ipv4_only:      resb 1          ; the kernel has no IPv6: the listener is on 0.0.0.0, not [::]
binding_metrics: resb 1         ; open_listener opens METRICS_PORT's listener, not PORT's
stopped:        resb 1          ; the drain delay is over: no listener, finishing the last responses
ticking:        resb 1          ; the tick is on (it stops while there is no connection)
tick_due:       resb 1          ; this batch has a tick: the timers' sweep follows its events (end_tick)
eventful:       resb 1          ; an event other than the tick came since the last tick (else end_tick dozes)
reads_left:     resb 1          ; on_readable's full reads left before the connection is requeued
crashed:        resb 1          ; a worker died of a signal or a status other than 0: the first process exits 1
in_worker:      resb 1          ; this process is a worker the first process started
access_log:     resb 1          ; ACCESS_LOG=json: the access log is on (log.asm)
log_is_socket:  resb 1          ; stdout is a socket: the log is sent with MSG_DONTWAIT (open_log)
log_fd:         resd 1          ; where the log goes, or -1 when it is off
log_used:       resd 1          ; bytes of lines waiting in log_buffer
log_second:     resd 1          ; the Unix time log_time_text shows
        alignb  8
log_us:         resq 1          ; the wall clock of this event batch's lines, in microseconds (read_log_clock)
log_time_text:  resb LOG_TIME_LEN ; ...as RFC 3339 text
log_date_scratch: resb 32       ; its IMF-fixdate, made by format_date and rearranged
        alignb  8
peer_address:   resb 28         ; the client of a connection accepted while the log is on (a sockaddr_in6)
peer_address_len: resd 1
        alignb  8
rlimit:         resq 2
timespec:       resq 2
alarm_time:     resq 4          ; struct itimerval for set_alarm; doze's struct itimerspec too (only scratch)
sockaddr:       resb 28        ; a sockaddr_in6, or a sockaddr_in in its first 16 bytes
event_mask:     resb EPOLL_EVENT_SIZE
        alignb  8
child_pids:     resd WORKERS_MAX  ; by worker index (from 1); 0 while a slot waits for a replacement
listen_fds:     resd WORKERS_MAX  ; every worker's listener; a worker keeps only its own, at index 0
spare_fd:       resd 1          ; held back for accepting (and closing) when descriptors run out
siginfo:        resb SIGNALFD_INFO_SIZE
date_line:      resb DATE_LINE_LEN  ; the Date line of new responses, renewed each second by update_date
date_scratch:   resb DATE_LINE_LEN  ; an older second's Date line, for a response finished late
events:         resb EVENTS_MAX * EPOLL_EVENT_SIZE
        alignb  16
iovecs:         resq 2 * 5 * BATCH_MAX     ; five parts a response (build_iovecs)
batch:          resb ENTRY_SIZE * BATCH_MAX
        alignb  64
read_buffer:    resb HEAD_MAX + 16   ; the slack lets the parser compare a word past the input's end
        alignb  4096
shared_counters: resb 4096      ; mapped shared before the workers start (map_shared_counters)
conns:          resb MAX_FDS << CONN_SHIFT
carry_buffers:  resb MAX_FDS * HEAD_MAX
small_input_slots: resb MAX_FDS * SMALL_SLOT
metrics_pages:  resb MAX_FDS << METRICS_SHIFT ; a connection's /metrics response (render_metrics)
log_buffer:     resb LOG_BUFFER     ; the access log's lines waiting to be written (touched only when it is on)
peers:          resb MAX_FDS << PEER_SHIFT ; the connections' clients, for the access log (note_peer)
