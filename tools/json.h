/*
 * json.h — the JSON writer of cat and export (json.c): buffered output to
 * a FILE or an outfile, cached string encodings, exact numbers.
 */
#ifndef DASF_TRACE_JSON_H
#define DASF_TRACE_JSON_H

#include "dasf/profiler.h"
#include "strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct dt_outfile;

/* A string cache: the JSON encoding (quotes included) of recently seen
 * strings, so a name repeated a million times is escaped once.  Strings are
 * encoded by jansson; invalid UTF-8 is replaced by U+FFFD first, so the
 * output is always valid JSON. */
typedef struct dt_json {
    FILE *out;
    struct dt_outfile *sink; /* when set, output goes here instead of out */
    dt_strmap cache;         /* key -> index into enc */
    struct dt_json_enc {
        char *s;
        size_t len;
    } * enc;
    size_t n_enc, cap_enc;
    char *scratch;
    size_t scratch_cap;
    char *buf;   /* output buffer: stdio's per-call locking and printf parsing */
    size_t len;  /* cost more than the rest of export put together */
    bool failed; /* a write to out failed */
} dt_json;

#define DT_JSON_BUF (1u << 16)

/* @return 0 or -1 (out of memory). */
int dt_json_init(dt_json *j, FILE *out);
/* The same, writing to an outfile (outfile.h: plain or gzip). */
int dt_json_init_sink(dt_json *j, struct dt_outfile *sink);
/* Writes the buffered output to the FILE (call before closing it). */
void dt_json_flush(dt_json *j);
void dt_json_free(dt_json *j);
/* Writes s as a JSON string.  @return 0 or -1 (out of memory). */
int dt_json_str(dt_json *j, const char *s, size_t n);
/* A double in the shortest form that reads back to the same bits (always
 * with a '.' or exponent, as Python prints floats); NaN/inf as null. */
void dt_json_double(dt_json *j, double d);
/* ns nanoseconds as exact decimal seconds ("12.000001234", "5.0"). */
void dt_json_seconds_ns(dt_json *j, int64_t ns);
/* ns nanoseconds as microseconds with 3 decimals ("12000001.234"). */
void dt_json_micros_ns(dt_json *j, int64_t ns);
/* Any value tree: maps with non-string keys get the key's text; bin as a
 * hex string. */
int dt_json_value(dt_json *j, const dasf_value *v);
/* Writes straight to the output (bypassing the buffer). */
void dt_json_write_through(dt_json *j, const char *s, size_t n);
static inline void dt_json_raw(dt_json *j, const char *s, size_t n) {
    if (j->len + n > DT_JSON_BUF) {
        dt_json_flush(j);
        if (n > DT_JSON_BUF) {
            dt_json_write_through(j, s, n);
            return;
        }
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}
static inline void dt_json_putc(dt_json *j, char ch) {
    if (j->len == DT_JSON_BUF) dt_json_flush(j);
    j->buf[j->len++] = ch;
}
/* Integers in decimal. */
void dt_json_i64(dt_json *j, int64_t v);
void dt_json_u64(dt_json *j, uint64_t v);
#define DT_JSON_LIT(j, lit) dt_json_raw((j), lit, sizeof(lit) - 1)

#endif
