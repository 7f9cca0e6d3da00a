/*
 * numbers.c — numbers as text and back (numbers.h).
 */
#include "numbers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dt_parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || d != d) return false;
    *out = d;
    return true;
}

bool dt_parse_long(const char *s, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < min || v > max) return false;
    *out = v;
    return true;
}

int dt_format_double(char *buf, size_t n, double d) {
    if (!isfinite(d)) return snprintf(buf, n, "%s", d != d ? "nan" : d > 0 ? "inf" : "-inf");
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
    if (!strpbrk(buf, ".en") && (size_t)len + 2 < n) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    return len;
}

char *dt_format_u64(char buf[DT_U64_TEXT_MAX], uint64_t v, bool neg) {
    char *p = buf + DT_U64_TEXT_MAX;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) *--p = '-';
    return p;
}

const char *dt_format_duration(char *buf, size_t n, double ns) {
    /* Thresholds allow for rounding, so 999.9996 us prints as 1.000 ms. */
    double a = fabs(ns);
    if (a < 999.5)
        snprintf(buf, n, "%.0f ns", ns);
    else if (a < 999999.5)
        snprintf(buf, n, "%.3f us", ns / 1e3);
    else if (a < 999999500.0)
        snprintf(buf, n, "%.3f ms", ns / 1e6);
    else
        snprintf(buf, n, "%.3f s", ns / 1e9);
    return buf;
}
