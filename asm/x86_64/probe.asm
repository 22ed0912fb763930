; The self-probe (`asm-web-service health`): a health check that needs no shell or curl in a scratch image.

; probe_health: asks 127.0.0.1:PORT for /health; exits 0 on a 200 answer, 1 otherwise.
; IN: settings read   OUT: never returns
probe_health:
        mov     edi, AF_INET
        mov     esi, SOCK_STREAM | SOCK_CLOEXEC
        xor     edx, edx
        sys     SYS_socket
        mov     r12d, eax
        mov     edx, SO_RCVTIMEO                ; a server that does not answer fails the probe in 2 s
        call    .set_timeout
        mov     edx, SO_SNDTIMEO
        call    .set_timeout
        mov     eax, 0x0100007f                 ; 127.0.0.1
        call    fill_sockaddr
        mov     edi, r12d
        mov     esi, sockaddr
        mov     edx, 16
        sys     SYS_connect
        test    rax, rax
        jnz     .unhealthy
        mov     edi, r12d
        mov     esi, probe_request
        mov     edx, probe_request_len
        call    print
        mov     edi, r12d
        mov     esi, read_buffer
        mov     edx, HEAD_MAX
        sys     SYS_read
        cmp     rax, status_ok_len
        jl      .unhealthy
        mov     esi, read_buffer
        mov     edi, status_ok
        mov     ecx, status_ok_len
        repe    cmpsb
        jne     .unhealthy
        xor     edi, edi
        jmp     exit
.unhealthy:
        mov     edi, 1
        jmp     exit

; .set_timeout: sets a socket timeout option of the probe's socket to 2 s.
; IN: r12d = socket, edx = option   CLOBBERS: rax, rcx, rsi, rdi, r8, r10, r11
.set_timeout:
        mov     edi, r12d
        mov     esi, SOL_SOCKET
        mov     r10d, probe_timeout
        mov     r8d, 16
        jmp     set_socket_option
