// Mutable state, all in .bss. Small variables first, so an idle server touches few pages.
//
// The small variables form the state block, which `state` (x28) points at: their names are offsets in it
// (`ldr w0, [state, #now_tick]`), one instruction each. The buffers after it have addresses of their own.

        .struct 0
envp:           .skip 8
port_text:      .skip 8         // PORT as given, for messages
port_text_len:  .skip 8         // 8 bytes: one ldp/stp with port_text
metrics_port_text: .skip 8      // METRICS_PORT as given, when given
metrics_port_text_len: .skip 8  // (a pair as port_text's)
settings:                       // in the order of setting_table
cfg_port:       .skip 4
cfg_workers:    .skip 4
cfg_drain:      .skip 4         // seconds
cfg_keepalive:  .skip 4         // seconds
cfg_header_timeout: .skip 4     // seconds
cfg_max_connections: .skip 4    // open connections a worker keeps, those beyond are closed at once
cfg_metrics_port: .skip 4       // where /metrics is served: PORT (the default), or 0 for nowhere
settings_end:
listen_fd:      .skip 4
epoll_fd:       .skip 4
signal_fd:      .skip 4
timer_fd:       .skip 4
accept_flags:   .skip 4         // C_FLAGS of a new connection of PORT: F_METRICS when /metrics is served there
max_fd:         .skip 4         // highest descriptor the timers must look at
now_tick:       .skip 4         // monotonic clock in TICK_MS units, read at each tick
keepalive_ticks: .skip 4        // KEEPALIVE_SECONDS in ticks, plus two: a timer never fires early
header_ticks:   .skip 4         // HEADER_TIMEOUT_SECONDS likewise (serve sets both with one stp)
now_ms:         .skip 8         // (at 80)
drain_end_ms:   .skip 8
draining:       .skip 1         // a signal came: /health says 503, every response closes
stopped:        .skip 1         // the drain delay is over: no listener, finishing the last responses
ipv4_only:      .skip 1         // the kernel has no IPv6: the listener is on 0.0.0.0, not [::]
crashed:        .skip 1         // a worker died of a signal or a status other than 0: the first process exits 1
date_second:    .skip 4         // the Unix time date_line shows
rlimit:         .skip 16        // (at 104)
timespec:       .skip 16
alarm_time:     .skip 32        // struct itimerval for set_alarm; doze's struct itimerspec too (only scratch)
last_start_ms:  .skip 8         // when replace_workers last started a worker
open_count:     .skip 8         // this worker's open connections: a word among the shared counters (M_OPEN)
event_mask:     .skip EPOLL_EVENT_SIZE
sockaddr:       .skip 28        // a sockaddr_in6, or a sockaddr_in in its first 16 bytes
worker_slots:   .skip 4         // listeners held (listen_fds), and 1 + the workers started (child_pids)
first_pid:      .skip 4         // the process that starts and replaces the workers
wait_status:    .skip 4         // of the worker that ended last
metrics_fd:     .skip 4         // the listener of METRICS_PORT (the first process's), or -1
accepting:      .skip 4         // the listener accept_connections takes from
accepting_flags: .skip 4        // ...and its connections' C_FLAGS
child_pids:     .skip 4 * WORKERS_MAX // by worker index (from 1), 0 while a slot waits for a replacement
listen_fds:     .skip 4 * WORKERS_MAX // every worker's listener, a worker keeps only its own, at index 0
spare_fd:       .skip 4         // held back for accepting (and closing) when descriptors run out
generation:     .skip 4         // of the connection watched last (see watch_connection)
first_deadline: .skip 4         // the earliest deadline of the open connections, while doze looks for it
reads_left:     .skip 4         // on_readable's full reads left before the connection is requeued (a byte)
ticking:        .skip 1         // the tick is on (it stops while there is no connection)
tick_due:       .skip 1         // this batch has a tick: the timers' sweep follows its events (end_tick)
eventful:       .skip 1         // an event other than the tick came since the last tick (else end_tick dozes)
binding_metrics: .skip 1        // open_listener opens METRICS_PORT's listener, not PORT's
                .skip 4         // (the events stay 8-aligned)
access_log:     .skip 1         // ACCESS_LOG=json: the access log is on (log.s)
in_worker:      .skip 1         // this process is a worker the first process started
log_is_socket:  .skip 1         // stdout is a socket: the log is sent with MSG_DONTWAIT (open_log)
                .skip 1
log_us:         .skip 8         // the wall clock of this event batch's lines, in microseconds (read_log_clock)
log_fd:         .skip 4         // where the log goes, or -1 when it is off
log_used:       .skip 4         // bytes of lines waiting in log_buffer
log_second:     .skip 4         // the Unix time log_time_text shows
log_time_text:  .skip 32        // ...as RFC 3339 text (LOG_TIME_LEN bytes)
log_date_scratch: .skip 32      // its IMF-fixdate, made by format_date and rearranged
peer_address_len: .skip 4
peer_address:   .skip 28        // the client of a connection accepted while the log is on (a sockaddr_in6)
siginfo:        .skip SIGNALFD_INFO_SIZE
events:         .skip EVENTS_MAX * EPOLL_EVENT_SIZE
date_line:      .skip DATE_LINE_LEN // the Date line of new responses, renewed each second by update_date
date_scratch:   .skip DATE_LINE_LEN // an older second's Date line, for a response finished late
STATE_SIZE:

        .bss
        .balign 65536
state_block:    .skip STATE_SIZE
        .balign 16
iovecs:         .skip 16 * 5 * BATCH_MAX // five parts a response (build_iovecs)
batch:          .skip ENTRY_SIZE * BATCH_MAX
        .balign 64
read_buffer:    .skip HEAD_MAX + 16     // the slack lets the parser compare a word past the input's end
        .balign 4096
shared_counters: .skip 4096     // mapped shared before the workers start (map_shared_counters)
conns:          .skip MAX_FDS << CONN_SHIFT
carry_buffers:  .skip MAX_FDS * HEAD_MAX
small_input_slots: .skip MAX_FDS * SMALL_SLOT
        .balign 4096
metrics_pages:  .skip MAX_FDS << METRICS_SHIFT // a connection's /metrics response (render_metrics)
log_buffer:     .skip LOG_BUFFER        // the access log's lines waiting to be written (touched only when it is on)
peers:          .skip MAX_FDS << PEER_SHIFT // the connections' clients, for the access log (note_peer)
