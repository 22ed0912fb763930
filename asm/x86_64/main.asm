; asm-web-service for Linux x86_64: the entry file. It includes every module; docs/server.md is the contract.
;
; Register conventions between routines: rbx = the connection's record, r12d = its descriptor; the connection
; routines keep rbx, r12 and rbp, and may change every other register.

        bits    64
        default rel

%include "syscalls.inc"

MAX_FDS         equ 16384       ; descriptors the connection table covers
MAX_CONNECTIONS equ 16300       ; the default and the highest MAX_CONNECTIONS (range_connections says it too):
                                ; MAX_FDS less the descriptors of its own (listeners, epoll, signals, timer, spare)
HEAD_MAX        equ 8192        ; the largest request head; also the read buffer and each carry buffer
HEAD_SHIFT      equ 13          ; log2(HEAD_MAX)
SMALL_SLOT      equ 256         ; kept input up to this goes in a small slot, not a carry buffer
SMALL_SLOT_SHIFT equ 8          ; log2(SMALL_SLOT)
BATCH_MAX       equ 16          ; pipelined responses gathered into one writev
EVENTS_MAX      equ 64          ; epoll events taken per wait
TICK_MS         equ 250         ; the connection timers' resolution
LINGER_TICKS    equ 2000 / TICK_MS + 2 ; how long a half-closed connection may go on sending (2 s)
WORKERS_MAX     equ 64
READS_PER_EVENT equ 8           ; full reads of a connection in a row before the others' turn (64 KiB)
ACCEPT_RETRY_MS equ 100         ; a failed accept (other than for descriptors) is tried again after this
METRICS_SHIFT   equ 13          ; log2 of a connection's page for its /metrics response (metrics.asm)

; Connection record, one per descriptor (32 bytes). A zero deadline marks a free record.
CONN_SHIFT      equ 5
C_DEADLINE      equ 0           ; dword: monotonic tick at which the connection's timer fires
C_FLAGS         equ 4           ; byte: F_*
C_RFLAGS        equ 5           ; byte: R_* of the pending response
C_CARRY         equ 6           ; word: bytes of unanswered input kept in the connection's carry buffer
C_BODY          equ 8           ; qword: request body bytes still to read and discard
C_RESP          equ 16          ; dword: pending response (descriptor address), 0 when none
C_SENT          equ 20          ; dword: bytes of the pending response already sent
C_DATE          equ 24          ; dword: the second in the pending response's Date (see flush_pending)
C_GEN           equ 28          ; dword: the generation its epoll events carry (see watch_connection), 0 when free

F_LINGER        equ 1           ; half-closed after a closing response; input is discarded
F_INHEAD        equ 2           ; the timer is the request-head timer
F_EOF           equ 4           ; the client has shut down its sending side
F_LAST          equ 8           ; shutting down: close (gently) once the pending response is out
F_METRICS       equ 16          ; /metrics is a route on this connection (METRICS_PORT)
F_SCRAPED       equ 32          ; it made a /metrics response: its metrics page is released when it closes

R_HEAD          equ 1           ; answer to HEAD: no body
R_CLOSE         equ 2           ; close the connection after this response
R_LINGER        equ 4           ; ...with input perhaps waiting unread: discard it at once (see begin_close)

; Peer record, one per descriptor (64 bytes), written at accept while the access log is on (log.asm).
PEER_SHIFT      equ 6
P_SINCE         equ 0           ; qword: log_us when the connection's unanswered input began, 0 when none
P_PORT          equ 8           ; word: the client's port
P_ADDR_LEN      equ 10          ; byte
P_ADDR          equ 16          ; the client's address as text (at most 39 bytes: 8 groups of an IPv6 one)

; Batch entry: a response gathered for one writev, and where its request's head began and ended.
E_RESP          equ 0           ; dword: response descriptor
E_FLAGS         equ 4           ; dword: R_*
E_POS           equ 8           ; dword: input offset just after the request's head
E_LEN           equ 12          ; dword: bytes of the response
E_BODY          equ 16          ; qword: the request's body length
E_HEAD          equ 24          ; dword: input offset of the request's head (its access log line)
E_COUNTER       equ 28          ; dword: its counter among the shared counters' requests (count_request)
ENTRY_SIZE      equ 32

; The Date line of every response: "Date: ", the IMF-fixdate (date.asm), CRLF.
DATE_PREFIX_LEN equ 6
DATE_LINE_LEN   equ DATE_PREFIX_LEN + 29 + 2

; Response descriptor (see responses.asm).
D_STATUS        equ 0           ; dword: status line and the response's own headers
D_TYPE          equ 4           ; dword: Content-Type line and "Connection: "
D_BODY          equ 8           ; dword: body
D_STATUS_LEN    equ 12          ; word
D_TYPE_LEN      equ 14          ; word
D_BODY_LEN      equ 16          ; word
D_STATUS_INDEX  equ 18          ; byte: the status's place in the metrics' counters (STATUS_*), times 4

; count ADDRESS: adds one to a shared counter (metrics.asm), atomically: other workers count into it too.
%macro count 1
        lock inc qword [%1]
%endmacro

        section .text
        global  _start

; _start: reads the configuration, then serves or runs the self-probe.
; IN: rsp = argc, argv..., 0, envp..., 0 (the kernel's initial stack)
_start:
        mov     rbp, rsp
        mov     rax, [rbp]
        lea     rax, [rbp + rax*8 + 16]
        mov     [envp], rax
        call    read_config
        mov     rax, [rbp]                      ; argc
        dec     rax
        jz      serve
        dec     rax
        jnz     .usage                          ; "health" must be the only argument
        mov     rsi, [rbp + 16]                 ; argv[1]
        cmp     dword [rsi], 'heal'
        jne     .usage
        cmp     dword [rsi + 3], `lth\0`        ; the rest of "health" and its terminator
        je      probe_health
.usage:
        mov     esi, msg_usage
        mov     edx, msg_usage_len
        call    print_error
        mov     edi, 2
        jmp     exit

%include "config.asm"
%include "listener.asm"
%include "loop.asm"
%include "connection.asm"
%include "http.asm"
%include "date.asm"
%include "probe.asm"
%include "metrics.asm"
%include "log.asm"
%include "responses.asm"
%include "state.asm"

; Layout the code relies on: a change that breaks it fails the build.
%if C_RFLAGS != C_FLAGS + 1 || C_CARRY != C_FLAGS + 2
%error "one dword store at C_FLAGS sets C_FLAGS, C_RFLAGS and C_CARRY (accept_connections, begin_close)"
%endif
%if C_SENT != C_RESP + 4
%error "one qword store at C_RESP sets C_RESP and C_SENT (accept_connections, close_connection, on_timeout)"
%endif
%if C_DATE + 8 != 1 << CONN_SHIFT || C_BODY != 8 || C_RESP != 16
%error "close_connection clears the record with four qword stores"
%endif
%if (1 << CONN_SHIFT) % 8 != 0
%error "become_worker clears records in qwords"
%endif
%if SMALL_SLOT != 1 << SMALL_SLOT_SHIFT
%error "the small input slots are indexed by shifting the descriptor by SMALL_SLOT_SHIFT"
%endif
%if HEAD_MAX != 1 << HEAD_SHIFT
%error "the carry buffers are indexed by shifting the descriptor by HEAD_SHIFT"
%endif
%if EPOLL_DATA != 4 || EPOLL_EVENT_SIZE != 12
%error "x86_64's struct epoll_event is packed: u32 events, u64 data at 4"
%endif
%if M_END > 4096
%error "the shared counters fit one page (shared_counters)"
%endif
%if C_FLAGS != 4
%error "accept_connections sets F_METRICS with the dword store at C_FLAGS"
%endif
%if LOG_LINE_MAX >= PIPE_BUF || LOG_BUFFER - LOG_LINE_MAX < PIPE_BUF
%error "a line fits one write to a pipe (flush_log), and a nearly full log_buffer holds a whole write"
%endif
%if MAX_CONNECTIONS + 16 + WORKERS_MAX > MAX_FDS
%error "MAX_CONNECTIONS and the server's own descriptors must fit in MAX_FDS"
%endif
