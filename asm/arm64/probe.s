// The self-probe (`asm-web-service health`): a health check that needs no shell or curl in a scratch image.

// probe_health: asks 127.0.0.1:PORT for /health, exits 0 on a 200 answer, 1 otherwise.
// IN: settings read   OUT: never returns
probe_health:
        sock    .req w20
        mov     w0, #AF_INET
        mov     w1, #SOCK_STREAM
        movk    w1, #SOCK_CLOEXEC >> 16, lsl #16
        mov     x2, #0
        sys     socket
        mov     sock, w0
        mov     w2, #SO_RCVTIMEO                // a server that does not answer fails the probe in 2 s
        bl      .Lprobe_set_timeout
        mov     w2, #SO_SNDTIMEO
        bl      .Lprobe_set_timeout
        mov     x0, #AF_INET
        movk    x0, #0x007f, lsl #32            // 127.0.0.1
        movk    x0, #0x0100, lsl #48
        bl      fill_sockaddr
        mov     w0, sock
        sys     connect
        cmp     x0, #0
        b.ne    .Lprobe_exit                    // refused (or no socket): ne, exit 1
        mov     w0, sock
        adr     x1, probe_request
        mov     w2, #probe_request_len
        bl      print
        mov     w0, sock
        adr     x1, read_buffer
        mov     w2, #HEAD_MAX
        sys     read                            // what a short or failed read leaves is zeros: no match
        adr     x2, status_ok                   // the first 13 bytes, as two overlapping 8-byte words
        ldr     x3, [x1]
        ldr     x4, [x2]
        cmp     x3, x4
        ldur    x3, [x1, #status_ok_len - 8]
        ldur    x4, [x2, #status_ok_len - 8]
        ccmp    x3, x4, #0, eq
.Lprobe_exit:
        cset    w0, ne                          // 0 on "HTTP/1.1 200 ", else 1
        b       exit

// .Lprobe_set_timeout: sets a socket timeout option of the probe's socket to 2 s.
// IN: sock (w20) = socket, w2 = option   CLOBBERS: x0-x4, x8
.Lprobe_set_timeout:
        mov     w0, sock
        mov     w1, #SOL_SOCKET
        adr     x3, probe_timeout
        mov     w4, #16
        b       set_socket_option
        .unreq  sock
