/*
 * pb.h — a small streaming protobuf wire writer (the encoding rules of
 * https://protobuf.dev/programming-guides/encoding/: varints, tags, length-
 * delimited fields), used by the Perfetto exporter (perfetto.c).
 *
 * Why not a library: protobuf-c and the C++ runtime build a message tree
 * in memory and then serialize it, one allocation per message; the exporter
 * writes ~2 small messages per trace event, 10 M events and more, and only
 * ever appends.  Writing the bytes straight into one growing buffer keeps
 * memory constant (the buffer is flushed every few hundred KB) and costs a
 * few ns per field.  Nested messages reserve one length byte and are moved
 * up in the rare case the body reaches 128 bytes.  The output is checked by
 * an independent decoder (Debian's protoc + python3-protobuf, tests/cli/).
 *
 * Single-threaded.  Out of memory sets pb_buf.oom and turns further writes
 * into no-ops; the caller checks it once per event.
 */
#ifndef DASF_TRACE_PB_H
#define DASF_TRACE_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb_buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} pb_buf;

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* Room for n more bytes.  @return false (and oom set) when out of memory. */
static inline bool pb_reserve(pb_buf *b, size_t n) {
    if (b->len + n <= b->cap) return !b->oom;
    if (b->oom) return false;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n)
        nc *= 2;
    uint8_t *q = realloc(b->p, nc);
    if (!q) {
        b->oom = true;
        return false;
    }
    b->p = q;
    b->cap = nc;
    return true;
}

static inline void pb_free(pb_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static inline size_t pb_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Raw varint; the caller has reserved 10 bytes. */
static inline void pb_varint_raw(pb_buf *b, uint64_t v) {
    uint8_t *o = b->p + b->len;
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    b->len = (size_t)(o - b->p);
}

static inline void pb_varint(pb_buf *b, uint64_t v) {
    if (pb_reserve(b, 10)) pb_varint_raw(b, v);
}

static inline void pb_tag(pb_buf *b, uint32_t field, unsigned wire) {
    pb_varint(b, (uint64_t)field << 3 | wire);
}

/* uint32/uint64/enum/bool fields, and int64 (two's complement, as protobuf). */
static inline void pb_u64(pb_buf *b, uint32_t field, uint64_t v) {
    if (!pb_reserve(b, 15)) return;
    pb_varint_raw(b, (uint64_t)field << 3 | PB_VARINT);
    pb_varint_raw(b, v);
}

static inline void pb_i64(pb_buf *b, uint32_t field, int64_t v) {
    pb_u64(b, field, (uint64_t)v);
}

static inline void pb_fixed64(pb_buf *b, uint32_t field, uint64_t v) {
    if (!pb_reserve(b, 13)) return;
    pb_varint_raw(b, (uint64_t)field << 3 | PB_I64);
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static inline void pb_double(pb_buf *b, uint32_t field, double d) {
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    pb_fixed64(b, field, v);
}

/* string/bytes fields. */
static inline void pb_bytes(pb_buf *b, uint32_t field, const void *s, size_t n) {
    if (!pb_reserve(b, n + 15)) return;
    pb_varint_raw(b, (uint64_t)field << 3 | PB_LEN);
    pb_varint_raw(b, n);
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Appends raw bytes (already-encoded fields). */
static inline void pb_raw(pb_buf *b, const void *s, size_t n) {
    if (!n || !pb_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* A nested message: pb_begin writes the tag and a one-byte length
 * placeholder and returns its offset; pb_end fills in the length. */
static inline size_t pb_begin(pb_buf *b, uint32_t field) {
    if (!pb_reserve(b, 11)) return 0;
    pb_varint_raw(b, (uint64_t)field << 3 | PB_LEN);
    b->p[b->len] = 0;
    return b->len++;
}

static inline void pb_end(pb_buf *b, size_t mark) {
    if (b->oom) return;
    size_t body = b->len - mark - 1;
    if (body < 0x80) {
        b->p[mark] = (uint8_t)body;
        return;
    }
    size_t extra = pb_varint_size(body) - 1;
    if (!pb_reserve(b, extra)) return;
    memmove(b->p + mark + 1 + extra, b->p + mark + 1, body);
    size_t save = b->len;
    b->len = mark;
    pb_varint_raw(b, body);
    b->len = save + extra;
}

#endif
