// The Date header's value (RFC 9110 IMF-fixdate), made from the Unix time. Only the routine and its tables live
// here, so that the test driver (test/server/date/) can include this file alone; it leaves the section as it was.

// format_date: writes a Unix time as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes).
// The calendar date comes from the day count by H. Hinnant's civil_from_days, with March as the first month of
// the year so that the leap day is the year's last. The names are stored first, then date_layout is filled in
// from its end: its digits from one number, DDYYYY followed by the second of the day in hours, minutes and
// seconds (so the tens of minutes and seconds are base-6 digits).
// IN: w0 = seconds since 1970-01-01 00:00 UTC (unsigned: valid until 2106), x1 = destination
// OUT: x1 = just after the date   CLOBBERS: x0, x2-x7 (keeps x8-x30)
format_date:
        mov     w2, #86400 & 0xffff
        movk    w2, #86400 >> 16, lsl #16
        udiv    w3, w0, w2                      // days since 1970-01-01, a Thursday
        msub    w0, w3, w2, w0                  // second of the day
        add     w2, w3, #4                      // 0 = Sunday
        mov     w4, #7
        udiv    w5, w2, w4
        msub    w2, w5, w4, w2
        add     w2, w2, w2, lsl #1
        adr     x4, day_names
        ldr     w2, [x4, x2]                    // the name and a byte more, which the layout's ',' covers
        str     w2, [x1]
        // Days since 0000-03-01: era (400 years), day of the era, year of the era.
        mov     w2, #719468 & 0xffff
        movk    w2, #719468 >> 16, lsl #16
        add     w3, w3, w2
        mov     w2, #146097 & 0xffff
        movk    w2, #146097 >> 16, lsl #16
        udiv    w4, w3, w2                      // era
        msub    w3, w4, w2, w3                  // doe, day of the era
        sub     w2, w2, #1                      // yoe = (doe - doe/1460 + doe/36524 - doe/146096) / 365
        udiv    w5, w3, w2
        sub     w5, w3, w5
        lsr     w2, w2, #2                      // 36524
        udiv    w6, w3, w2
        add     w5, w5, w6
        mov     w2, #1460
        udiv    w6, w3, w2
        sub     w5, w5, w6
        mov     w2, #365
        udiv    w5, w5, w2                      // yoe
        msub    w3, w5, w2, w3                  // doy = doe - (365*yoe + yoe/4 - yoe/100)
        sub     w3, w3, w5, lsr #2
        mov     w2, #100
        udiv    w6, w5, w2
        add     w3, w3, w6                      // day of the year, from March 1st
        mov     w2, #400
        madd    w4, w4, w2, w5                  // the year, counted from March
        add     w5, w3, w3, lsl #2              // mp = (5*doy + 2) / 153: month, from March = 0
        add     w5, w5, #2
        mov     w2, #153
        udiv    w5, w5, w2
        mul     w6, w5, w2                      // day of the month = doy - (153*mp + 2)/5 + 1
        add     w6, w6, #2
        mov     w2, #5
        udiv    w6, w6, w2
        sub     w3, w3, w6
        add     w3, w3, #1
        add     w5, w5, #2                      // 0 = January...
        subs    w6, w5, #12
        csel    w5, w6, w5, hs
        cinc    w4, w4, hs                      // ...and January and February belong to the next year
        add     w5, w5, w5, lsl #1
        adr     x6, month_names
        ldr     w5, [x6, x5]                    // the name and a byte more, which the layout's ' ' covers
        str     w5, [x1, #8]
        mov     w2, #10000
        madd    w3, w3, w2, w4                  // DDYYYY
        mov     w2, #360000 & 0xffff
        movk    w2, #360000 >> 16, lsl #16
        umaddl  x0, w3, w2, x0                  // DDYYYY, hours, minutes, seconds
        adr     x6, date_layout
        mov     x7, #28
1:      ldrb    w2, [x6, x7]
        cbz     w2, 3f                          // a name's letter, stored above
        cmp     w2, #' '
        b.hs    2f                              // a character as it is
        udiv    x3, x0, x2                      // a digit of that base
        msub    x2, x3, x2, x0
        mov     x0, x3
        add     w2, w2, #'0'
2:      strb    w2, [x1, x7]
3:      subs    x7, x7, #1
        b.hs    1b
        add     x1, x1, #29
        ret

        .pushsection .rodata
day_names:      .ascii  "SunMonTueWedThuFriSat"
month_names:    .ascii  "JanFebMarAprMayJunJulAugSepOctNovDec"
// date_layout: the date's 29 bytes: 0 where a name goes, the base of a digit (6 or 10), or the character itself.
date_layout:
        .byte   0, 0, 0, ',', ' ', 10, 10, ' ', 0, 0, 0, ' ', 10, 10, 10, 10, ' '
        .byte   10, 10, ':', 6, 10, ':', 6, 10
        .ascii  " GMT"
        .popsection
