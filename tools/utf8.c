/*
 * utf8.c — UTF-8 well-formedness and U+FFFD replacement (see utf8.h).
 * Byte ranges of Unicode Table 3-7, checked byte by byte so an ill-formed
 * sequence stops at its maximal subpart.
 */
#include "utf8.h"

#include <string.h>

bool dt_utf8_next(const unsigned char *s, size_t n, size_t *len) {
    unsigned b = s[0];
    if (b < 0x80) {
        *len = 1;
        return true;
    }
    size_t need;                   /* bytes of the sequence */
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (b >= 0xc2 && b <= 0xdf) {
        need = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 3;
        if (b == 0xe0)
            lo = 0xa0; /* below: overlong */
        else if (b == 0xed)
            hi = 0x9f; /* above: surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 4;
        if (b == 0xf0)
            lo = 0x90; /* below: overlong */
        else if (b == 0xf4)
            hi = 0x8f; /* above: beyond U+10FFFF */
    } else {           /* a continuation byte, C0/C1 (always overlong) or F5..FF */
        *len = 1;
        return false;
    }
    for (size_t i = 1; i < need; i++) {
        unsigned c = i < n ? s[i] : 0x100; /* the input ends: ill-formed here */
        if (c < lo || c > hi) {
            *len = i;
            return false;
        }
        lo = 0x80, hi = 0xbf;
    }
    *len = need;
    return true;
}

bool dt_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, l; i < n; i += l)
        if (!dt_utf8_next(u + i, n - i, &l)) return false;
    return true;
}

size_t dt_utf8_sanitize(const char *s, size_t n, char *dst) {
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0, l; i < n; i += l) {
        if (dt_utf8_next(u + i, n - i, &l)) {
            memcpy(dst + o, u + i, l);
            o += l;
        } else {
            memcpy(dst + o, "\xef\xbf\xbd", 3);
            o += 3;
        }
    }
    return o;
}
