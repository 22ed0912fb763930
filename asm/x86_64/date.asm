; The Date header's value (RFC 9110 IMF-fixdate), made from the Unix time. Only the routine and its tables
; live here, so that the test driver (test/server/date/) can include this file alone.

        section .rodata
day_names:      db "SunMonTueWedThuFriSat"
month_names:    db "JanFebMarAprMayJunJulAugSepOctNovDec"

        section .text

; format_date: writes a Unix time as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes).
; The calendar date comes from the day count by H. Hinnant's civil_from_days, with March as the first month of
; the year so that the leap day is the year's last.
; IN: eax = seconds since 1970-01-01 00:00 UTC (unsigned: valid until 2106), rdi = destination
; OUT: rdi = just after the date   CLOBBERS: rax, rcx, rdx, rsi, r8, r9, r10
format_date:
        xor     edx, edx
        mov     ecx, 86400
        div     ecx
        mov     r8d, edx                        ; second of the day
        mov     r9d, eax                        ; days since 1970-01-01, a Thursday
        add     eax, 4
        xor     edx, edx
        mov     ecx, 7
        div     ecx
        lea     esi, [rdx + rdx*2 + day_names]
        movsw
        movsb
        mov     ax, ', '
        stosw
        ; Days since 0000-03-01: era (400 years), day of the era, year of the era.
        lea     eax, [r9 + 719468]
        xor     edx, edx
        mov     ecx, 146097
        div     ecx
        imul    r9d, eax, 400                   ; the era's first year
        mov     esi, edx                        ; day of the era
        mov     r10d, edx                       ; yoe = (doe - doe/1460 + doe/36524 - doe/146096) / 365
        mov     eax, esi
        xor     edx, edx
        mov     ecx, 1460
        div     ecx
        sub     r10d, eax
        mov     eax, esi
        xor     edx, edx
        mov     ecx, 36524
        div     ecx
        add     r10d, eax
        mov     eax, esi
        xor     edx, edx
        mov     ecx, 146096
        div     ecx
        sub     r10d, eax
        mov     eax, r10d
        xor     edx, edx
        mov     ecx, 365
        div     ecx
        add     r9d, eax                        ; the year, counted from March
        imul    r10d, eax, 365                  ; doy = doe - (365*yoe + yoe/4 - yoe/100)
        mov     ecx, eax
        shr     ecx, 2
        add     r10d, ecx
        xor     edx, edx
        mov     ecx, 100
        div     ecx
        sub     r10d, eax
        sub     esi, r10d                       ; day of the year, from March 1st
        lea     eax, [rsi + rsi*4 + 2]          ; mp = (5*doy + 2) / 153: month, from March = 0
        xor     edx, edx
        mov     ecx, 153
        div     ecx
        mov     r10d, eax
        imul    eax, eax, 153                   ; day of the month = doy - (153*mp + 2)/5 + 1
        add     eax, 2
        xor     edx, edx
        mov     ecx, 5
        div     ecx
        sub     esi, eax
        lea     eax, [rsi + 1]
        call    .two_digits
        mov     al, ' '
        stosb
        cmp     r10d, 10
        jb      .named_month
        inc     r9d                             ; January and February belong to the next calendar year
        sub     r10d, 12
.named_month:
        add     r10d, 2                         ; 0 = January
        lea     esi, [r10 + r10*2 + month_names]
        movsw
        movsb
        mov     al, ' '
        stosb
        mov     eax, r9d
        xor     edx, edx
        mov     ecx, 100
        div     ecx
        mov     r9d, edx
        call    .two_digits                     ; the century
        mov     eax, r9d
        call    .two_digits
        mov     al, ' '
        stosb
        mov     eax, r8d
        xor     edx, edx
        mov     ecx, 3600
        div     ecx
        mov     r8d, edx
        call    .two_digits                     ; hours
        mov     al, ':'
        stosb
        mov     eax, r8d
        xor     edx, edx
        mov     ecx, 60
        div     ecx
        mov     r8d, edx
        call    .two_digits                     ; minutes
        mov     al, ':'
        stosb
        mov     eax, r8d
        call    .two_digits                     ; seconds
        mov     eax, ' GMT'
        stosd
        ret

; format_date.two_digits: writes eax (0-99) as two decimal digits.
; IN: eax, rdi   OUT: rdi += 2   CLOBBERS: rax, rcx, rdx
.two_digits:
        xor     edx, edx
        mov     ecx, 10
        div     ecx
        add     al, '0'
        add     dl, '0'
        mov     ah, dl
        stosw
        ret
