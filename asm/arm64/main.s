// asm-web-service for Linux aarch64: the entry file. It includes every module; docs/server.md is the contract.
//
// Register conventions between routines: state (x28) = the state block, all the time. conn (x19) = the
// connection's record, fd (w20) = its descriptor; the connection routines keep x19-x21, x25 and x28, and may
// change every other register. A routine that calls another keeps its return address on the stack (16 bytes,
// so sp stays aligned) or, as noted in its header, in a scratch register. x16 and x17 are the shared counters'
// scratch (the count and shared_add macros): no value lives in them across a macro or a call.
//
// Where the x86_64 tree returns a condition in CF, this one returns it in the C flag: set_carry / clear_carry
// stand for stc / clc, and b.cs / b.cc for jc / jnc.

        .include "syscalls.inc"

        .equ    MAX_FDS, 16384          // descriptors the connection table covers
        .equ    MAX_CONNECTIONS, 16300  // the default and the highest MAX_CONNECTIONS (range_connections says it too):
                                        // MAX_FDS less the descriptors of its own (listeners, epoll, signals, timer, spare)
        .equ    HEAD_MAX, 8192          // the largest request head, also the read buffer and each carry buffer
        .equ    HEAD_SHIFT, 13          // log2(HEAD_MAX)
        .equ    SMALL_SLOT, 256         // kept input up to this goes in a small slot, not a carry buffer
        .equ    SMALL_SLOT_SHIFT, 8     // log2(SMALL_SLOT)
        .equ    BATCH_MAX, 16           // pipelined responses gathered into one writev
        .equ    EVENTS_MAX, 64          // epoll events taken per wait
        .equ    TICK_MS, 250            // the connection timers' resolution
        .equ    LINGER_TICKS, 2000 / TICK_MS + 2 // how long a half-closed connection may go on sending (2 s)
        .equ    WORKERS_MAX, 64
        .equ    READS_PER_EVENT, 8      // full reads of a connection in a row before the others' turn (64 KiB)
        .equ    ACCEPT_RETRY_MS, 100    // a failed accept (other than for descriptors) is tried again after this
        .equ    METRICS_SHIFT, 13       // log2 of a connection's page for its /metrics response (metrics.s)

// Connection record, one per descriptor (32 bytes). A zero deadline marks a free record.
        .equ    CONN_SHIFT, 5
        .equ    C_DEADLINE, 0           // word: monotonic tick at which the connection's timer fires
        .equ    C_FLAGS, 4              // byte: F_*
        .equ    C_RFLAGS, 5             // byte: R_* of the pending response
        .equ    C_CARRY, 6              // hword: bytes of unanswered input kept in the connection's carry buffer
        .equ    C_BODY, 8               // xword: request body bytes still to read and discard
        .equ    C_RESP, 16              // word: pending response (descriptor address), 0 when none
        .equ    C_SENT, 20              // word: bytes of the pending response already sent
        .equ    C_DATE, 24              // word: the second in the pending response's Date (see flush_pending)
        .equ    C_GEN, 28               // word: the generation its epoll events carry (see watch_connection), 0 when free

        .equ    F_LINGER_BIT, 0         // half-closed after a closing response, input is discarded
        .equ    F_INHEAD_BIT, 1         // the timer is the request-head timer
        .equ    F_EOF_BIT, 2            // the client has shut down its sending side
        .equ    F_LAST_BIT, 3           // shutting down: close (gently) once the pending response is out
        .equ    F_METRICS_BIT, 4        // /metrics is a route on this connection (METRICS_PORT)
        .equ    F_SCRAPED_BIT, 5        // it made a /metrics response: its metrics page is released when it closes
        .equ    F_LINGER, 1 << F_LINGER_BIT
        .equ    F_INHEAD, 1 << F_INHEAD_BIT
        .equ    F_EOF, 1 << F_EOF_BIT
        .equ    F_LAST, 1 << F_LAST_BIT
        .equ    F_METRICS, 1 << F_METRICS_BIT
        .equ    F_SCRAPED, 1 << F_SCRAPED_BIT

        .equ    R_HEAD_BIT, 0           // answer to HEAD: no body
        .equ    R_CLOSE_BIT, 1          // close the connection after this response
        .equ    R_LINGER_BIT, 2         // ...with input perhaps waiting unread: discard it at once (see begin_close)
        .equ    R_HEAD, 1 << R_HEAD_BIT
        .equ    R_CLOSE, 1 << R_CLOSE_BIT
        .equ    R_LINGER, 1 << R_LINGER_BIT

// Peer record, one per descriptor (64 bytes), written at accept while the access log is on (log.s).
        .equ    PEER_SHIFT, 6
        .equ    P_SINCE, 0              // xword: log_us when the connection's unanswered input began, 0 when none
        .equ    P_PORT, 8               // hword: the client's port
        .equ    P_ADDR_LEN, 10          // byte
        .equ    P_ADDR, 16              // the client's address as text (at most 39 bytes: 8 groups of an IPv6 one)

// Batch entry: a response gathered for one writev, and where its request's head began and ended.
        .equ    E_RESP, 0               // word: response descriptor
        .equ    E_FLAGS, 4              // word: R_*
        .equ    E_POS, 8                // word: input offset just after the request's head
        .equ    E_LEN, 12               // word: bytes of the response
        .equ    E_BODY, 16              // xword: the request's body length
        .equ    E_HEAD, 24              // word: input offset of the request's head (its access log line)
        .equ    E_COUNTER, 28           // word: its counter among the shared counters' requests (count_request)
        .equ    ENTRY_SIZE, 32

// The Date line of every response: "Date: ", the IMF-fixdate (date.s), CRLF.
        .equ    DATE_PREFIX_LEN, 6
        .equ    DATE_LINE_LEN, DATE_PREFIX_LEN + 29 + 2

// Response descriptor (see responses.s).
        .equ    D_STATUS, 0             // word: status line and the response's own headers
        .equ    D_TYPE, 4               // word: Content-Type line and "Connection: "
        .equ    D_BODY, 8               // word: body
        .equ    D_STATUS_LEN, 12        // hword
        .equ    D_TYPE_LEN, 14          // hword
        .equ    D_BODY_LEN, 16          // hword
        .equ    D_STATUS_INDEX, 18      // byte: the status's place in the metrics' counters (STATUS_*), times 4

// Registers with a role across routines.
        state   .req x28                // the state block (state.s), from _start on
        conn    .req x19                // the connection's record
        fd      .req w20                // its descriptor (x20 in address arithmetic)

// set_carry / clear_carry: the C flag as an out-parameter (b.cs / b.cc test it).
        .macro  set_carry
        cmp     xzr, xzr
        .endm
        .macro  clear_carry
        cmn     xzr, xzr
        .endm

        .text
        .global _start

// shared_add COUNTER, AMOUNT, STATUS: adds AMOUNT (a register or #1) to the shared counter whose address is
// in COUNTER, atomically: other workers count into it too. A load-exclusive/store-exclusive loop, which every
// ARMv8 core has (the single-instruction LSE atomics are ARMv8.1). CLOBBERS: x17, STATUS (a w register)
        .macro  shared_add counter, amount, status
.Lshared_add\@:
        ldxr    x17, [\counter]
        add     x17, x17, \amount
        stxr    \status, x17, [\counter]
        cbnz    \status, .Lshared_add\@
        .endm

// count OFFSET, STATUS: adds one to the shared counter at OFFSET (metrics.s). CLOBBERS: x16, x17, STATUS
        .macro  count offset, status
        adr     x16, shared_counters + \offset
        shared_add x16, #1, \status
        .endm

// _start: reads the configuration, then serves or runs the self-probe.
// IN: sp = argc, argv..., 0, envp..., 0 (the kernel's initial stack)
_start:
        argc    .req x27
        adr     state, state_block
        ldr     argc, [sp]
        add     x0, sp, argc, lsl #3
        add     x0, x0, #16
        str     x0, [state, #envp]
        bl      read_config
        cmp     argc, #1
        b.eq    serve
        ldr     x1, [sp, #16]                   // argv[1]
        ldr     x0, [x1]                        // "health", its terminator and one byte more
        lsl     x0, x0, #8                      // ...without that byte
        ldr     x1, =0x0068746c61656800         // "health", 0, shifted likewise
        cmp     x0, x1
        ccmp    argc, #2, #0, eq                // and "health" must be the only argument
        b.eq    probe_health
        .unreq  argc
        adr     x1, msg_usage
        mov     w2, #msg_usage_len
        bl      print_error
        mov     w0, #2
        b       exit

        .include "config.s"
        .include "listener.s"
        .include "loop.s"
        .include "connection.s"
        .include "http.s"
        .include "date.s"
        .include "probe.s"
        .include "metrics.s"
        .include "log.s"
        .include "responses.s"
        .include "state.s"

// Layout the code relies on: a change that breaks it fails the build.
        .if     C_RFLAGS != C_FLAGS + 1 || C_CARRY != C_FLAGS + 2
        .error  "one word store at C_FLAGS sets C_FLAGS, C_RFLAGS and C_CARRY (accept_connections, begin_close)"
        .endif
        .if     C_RESP != C_BODY + 8 || C_SENT != C_RESP + 4 || C_DATE != C_SENT + 4
        .error  "stp pairs: C_BODY and C_RESP/C_SENT (accept_connections), C_SENT and C_DATE (send_batch, on_timeout)"
        .endif
        .if     1 << CONN_SHIFT != 32
        .error  "close_connection and become_worker clear a record with two stp of xzr pairs"
        .endif
        .if     SMALL_SLOT != 1 << SMALL_SLOT_SHIFT
        .error  "the small input slots are indexed by shifting the descriptor by SMALL_SLOT_SHIFT"
        .endif
        .if     HEAD_MAX != 1 << HEAD_SHIFT
        .error  "the carry buffers are indexed by shifting the descriptor by HEAD_SHIFT"
        .endif
        .if     E_FLAGS != E_RESP + 4
        .error  "ldp w0, w1, [entry, #E_RESP] loads E_RESP and E_FLAGS"
        .endif
        .if     keepalive_ticks != now_tick + 4 || header_ticks != keepalive_ticks + 4
        .error  "ldp/stp pairs: now_tick and keepalive_ticks, keepalive_ticks and header_ticks"
        .endif
        .if     cfg_header_timeout != cfg_keepalive + 4
        .error  "serve converts both timeouts with one xword load and store"
        .endif
        .if     timer_fd != signal_fd + 4 || stopped != draining + 1
        .error  "pairs loaded at once: signal_fd and timer_fd, draining and stopped"
        .endif
        .if     M_END > 4096
        .error  "the shared counters fit one page (shared_counters)"
        .endif
        .if     open_count % 8 != 0
        .error  "open_count is loaded as an xword"
        .endif
        .if     port_text_len != port_text + 8 || port_text % 8 != 0
        .error  "print_port loads port_text and port_text_len with one ldp"
        .endif
        .if     tick_due != ticking + 1
        .error  "event_loop clears ticking and tick_due with one strh"
        .endif
        .if     event_mask % 8 != 0 || event_mask > 504
        .error  "watch stores event_mask with an stp of x registers: a scaled offset, a multiple of 8 up to 504"
        .endif
        .if     EPOLL_DATA != 8 || EPOLL_EVENT_SIZE != 16
        .error  "aarch64's struct epoll_event: u32 events, padding, u64 data at 8 (watch stores events and data as a pair)"
        .endif
        .if     in_worker != access_log + 1
        .error  "log_event loads access_log and in_worker with one ldrh"
        .endif
        .if     LOG_LINE_MAX >= PIPE_BUF || LOG_BUFFER - LOG_LINE_MAX < PIPE_BUF
        .error  "a line fits one write to a pipe (flush_log), and a nearly full log_buffer holds a whole write"
        .endif
        .if     log_us % 8 != 0 || log_fd % 4 != 0 || peer_address % 8 != 0
        .error  "the log's state: log_us an aligned xword, log_fd and log_used words, peer_address 8-aligned"
        .endif
        .if     MAX_CONNECTIONS + 16 + WORKERS_MAX > MAX_FDS
        .error  "MAX_CONNECTIONS and the server's own descriptors must fit in MAX_FDS"
        .endif
