/*
 * numbers.h — the tool's numbers as text and back: whole-string parsing of
 * command-line values, the shortest round-trip text of a double, decimal
 * integers without printf, durations for people ("12.345 ms"), and
 * overflow-safe arithmetic on int64 nanoseconds.  A leaf module: no other
 * tool code.
 */
#ifndef DASF_TRACE_NUMBERS_H
#define DASF_TRACE_NUMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a whole decimal number (strtod/strtoll); false on junk, on
 * overflow, on NaN, and (dt_parse_long) outside [min, max]. */
bool dt_parse_double(const char *s, double *out);
bool dt_parse_long(const char *s, long long min, long long max, long long *out);

/* The shortest round-trip text of d into buf (>= 32 bytes), always with a
 * '.' or an exponent (as Python prints floats); "nan", "inf", "-inf".
 * @return its length. */
int dt_format_double(char *buf, size_t n, double d);

#define DT_U64_TEXT_MAX 24 /* "-" + 20 digits + NUL, rounded up */
/* The decimal digits of v, with a '-' before them when neg, at the END of
 * buf[0..DT_U64_TEXT_MAX) (no NUL).  snprintf costs ~10x more, and ids and
 * JSON integers are formatted once per event.  @return where they start. */
char *dt_format_u64(char buf[DT_U64_TEXT_MAX], uint64_t v, bool neg);

/* A duration in ns as "12.345 ms" (ns, us, ms, s chosen by size). */
const char *dt_format_duration(char *buf, size_t n, double ns);

/* ---- time arithmetic on int64 ns ------------------------------------------
 * A file can hold any int64 start and duration (damaged or hostile input
 * included), so sums and differences of them are taken here, never with a
 * plain + or - that could overflow (undefined behaviour in C). */
/* a + b, saturated at INT64_MIN / INT64_MAX. */
static inline int64_t dt_add_ns(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
/* b - a, saturated at INT64_MIN / INT64_MAX. */
static inline int64_t dt_sub_ns(int64_t b, int64_t a) {
    int64_t r;
    if (__builtin_sub_overflow(b, a, &r)) return b > a ? INT64_MAX : INT64_MIN;
    return r;
}
/* to - from as a double: exact while the difference fits int64, otherwise
 * the nearest double of the true (up to 2^64 ns wide) difference. */
static inline double dt_span_ns(int64_t from, int64_t to) {
    int64_t r;
    if (!__builtin_sub_overflow(to, from, &r)) return (double)r;
    return (double)to - (double)from;
}

#endif
