/*
 * utf8.h — the tool's one UTF-8 check, used by everything that writes text
 * a reader parses (JSON in cat/export, XML in the timeline), so every output
 * replaces the same bytes the same way.  A leaf module: no other tool code.
 *
 * Well-formed means the Unicode standard's definition (Table 3-7): no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * Ill-formed input is replaced by U+FFFD per "maximal subpart" (Unicode
 * §3.9, the WHATWG encoding standard, Python's errors="replace"): the
 * longest prefix of a well-formed sequence, or one byte, becomes one U+FFFD.
 */
#ifndef DASF_TRACE_UTF8_H
#define DASF_TRACE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* At s[0..n) (n >= 1): true and *len = the length (1..4) of the well-formed
 * sequence there, or false and *len = the bytes (1..3) to replace by one
 * U+FFFD. */
bool dt_utf8_next(const unsigned char *s, size_t n, size_t *len);
/* True when s[0..n) is well-formed UTF-8. */
bool dt_utf8_valid(const char *s, size_t n);
/* s[0..n) with every ill-formed subpart replaced by U+FFFD into dst (room
 * for 3 * n bytes); returns the length written. */
size_t dt_utf8_sanitize(const char *s, size_t n, char *dst);

#endif
