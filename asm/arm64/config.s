// Configuration from the environment, and the few lines the server prints.

// read_config: reads every setting of setting_table from the environment into `settings`, a bad value ends the
// process with a message naming the variable.
// IN: envp   OUT: settings, access_log, port_text and metrics_port_text (and their lengths)
// CLOBBERS: x0-x6, x8-x11
read_config:
        setting .req x9                         // the setting_table entry
        setting_out .req x10                    // where its value goes
        str     x30, [sp, #-16]!
        adr     setting, setting_table
        add     setting_out, state, #settings
.Lconfig_next:
        ldr     w1, [setting, #S_NAME]
        ldrb    w3, [setting, #S_NAME_LEN]
        bl      find_env
        ldrh    w11, [setting, #S_DEFAULT]
        cbz     x0, .Lconfig_store
        bl      parse_uint
        b.cs    .Lconfig_invalid
        ldr     w1, [setting, #S_MIN]           // and S_MAX
        cmp     w0, w1, uxth
        b.lo    .Lconfig_invalid
        cmp     w0, w1, lsr #16
        b.hi    .Lconfig_invalid
        mov     w11, w0
.Lconfig_store:
        str     w11, [setting_out], #4
        add     setting, setting, #SETTING_SIZE
        add     x0, state, #settings_end
        cmp     setting_out, x0
        b.ne    .Lconfig_next
        // ACCESS_LOG: json (on), off or unset
        adr     x1, name_access_log
        mov     w3, #name_access_log_len
        bl      find_env
        cbz     x0, 2f
        ldr     w1, [x0]
        mov     w2, #0x666f                     // "off" and its terminator
        movk    w2, #0x0066, lsl #16
        cmp     w1, w2
        b.eq    2f
        mov     w2, #0x736a                     // "json"
        movk    w2, #0x6e6f, lsl #16
        cmp     w1, w2
        b.ne    .Lconfig_invalid_access_log
        ldrb    w1, [x0, #4]
        cbnz    w1, .Lconfig_invalid_access_log
        mov     w1, #1
        strb    w1, [state, #access_log]
2:      // METRICS_PORT as the user wrote it, for messages; unset, /metrics is served on PORT
        adr     x1, name_metrics_port
        mov     w3, #name_metrics_port_len
        bl      find_env
        add     x3, state, #metrics_port_text
        cbz     x0, 1f
        bl      measure_text
        b       2f
1:      ldr     w0, [state, #cfg_port]
        str     w0, [state, #cfg_metrics_port]
2:      // PORT as the user wrote it, for messages ("8080" by default)
        adr     x1, name_port
        mov     w3, #name_port_len
        bl      find_env
        cbnz    x0, 1f
        adr     x0, default_port
1:      add     x3, state, #port_text
        ldr     x30, [sp], #16
        b       measure_text
.Lconfig_invalid:
        adr     x1, msg_invalid
        mov     w2, #msg_invalid_len
        bl      print_error
        ldr     w1, [setting, #S_NAME]
        ldrb    w2, [setting, #S_NAME_LEN]
        bl      print_stderr
        adr     x1, msg_expected
        mov     w2, #msg_expected_len
        bl      print_stderr
        ldr     w1, [setting, #S_RANGE]
        ldrb    w2, [setting, #S_RANGE_LEN]
        bl      print_stderr
        adr     x1, msg_expected_end
        mov     w2, #msg_expected_end_len
        bl      print_stderr
        mov     w0, #2
        b       exit
.Lconfig_invalid_access_log:
        adr     x1, msg_invalid_access_log
        mov     w2, #msg_invalid_access_log_len
        bl      print_error
        mov     w0, #2
        b       exit
        .unreq  setting
        .unreq  setting_out

// measure_text: notes where a NUL-terminated text is and its length.
// IN: x0 = the text, x3 = where to note them (an xword pair)   CLOBBERS: x1, x2
measure_text:
        sub     x1, x0, #1
1:      ldrb    w2, [x1, #1]!
        cbnz    w2, 1b
        sub     x1, x1, x0
        stp     x0, x1, [x3]
        ret

// find_env: looks a variable up in the environment.
// IN: x1 = name, w3 = its length   OUT: x0 = its value (after "NAME="), or 0   CLOBBERS: x2, x4-x6
find_env:
        ldr     x5, [state, #envp]
.Lenv_next:
        ldr     x4, [x5], #8                    // the next "NAME=value"
        cbz     x4, .Lenv_missing
        mov     x2, #0
.Lenv_compare:
        ldrb    w0, [x1, x2]
        ldrb    w6, [x4, x2]
        cmp     w0, w6
        b.ne    .Lenv_next
        add     x2, x2, #1
        cmp     w2, w3
        b.lo    .Lenv_compare
        ldrb    w0, [x4, x2]
        cmp     w0, #'='
        b.ne    .Lenv_next
        add     x0, x4, x2
        add     x0, x0, #1
        ret
.Lenv_missing:
        mov     x0, #0
        ret

// parse_uint: reads a decimal number that is the whole of a NUL-terminated string.
// IN: x0 = string   OUT: w0 = value, C = 1 if empty, not all digits, or above 65535   CLOBBERS: x1-x3
parse_uint:
        mov     x1, x0
        mov     w0, #0
        mov     w3, #10
        ldrb    w2, [x1], #1
.Luint_digit:
        sub     w2, w2, #'0'                    // (the NUL of an empty string is no digit either)
        cmp     w2, #9
        b.hi    .Luint_done                     // hi: C = 1
        madd    w0, w0, w3, w2
        cmp     w0, #0x10, lsl #12              // 65536
        b.hs    .Luint_done                     // C = 1
        ldrb    w2, [x1], #1
        cbnz    w2, .Luint_digit                // the end, with C = 0 from the comparison with 65536
.Luint_done:
        ret

// print_error: writes "asm-web-service: " and a message on stderr.
// IN: x1 = message, w2 = its length   CLOBBERS: x0, x8
print_error:
        stp     x1, x2, [sp, #-32]!
        str     x30, [sp, #16]
        adr     x1, msg_prefix
        mov     w2, #msg_prefix_len
        bl      print_stderr
        ldr     x30, [sp, #16]
        ldp     x1, x2, [sp], #32
        // fall through

// print_stderr / print: writes bytes to stderr / to a descriptor.
// IN: x1 = bytes, w2 = count (w0 = descriptor for print)   CLOBBERS: x0, x8
print_stderr:
        mov     w0, #2
print:
        sys     write
        ret

// print_port: writes PORT as the user gave it, or METRICS_PORT while its listener is opened (binding_metrics).
// IN: w0 = descriptor   CLOBBERS: x0-x2, x8
print_port:
        ldrb    w1, [state, #binding_metrics]
        add     x2, state, #port_text
        add     x2, x2, x1, lsl #4              // metrics_port_text follows port_text's pair
        ldp     x1, x2, [x2]
        b       print

// exit: ends the process (every thread) with a status.
// IN: w0 = status
exit:
        sys     exit_group
