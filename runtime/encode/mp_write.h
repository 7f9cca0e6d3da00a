/*
 * mp_write.h — the encoders' inline msgpack writers (encode/ only, not installed).
 *
 * Runs on whatever thread encodes (the flusher, dasf_writer).  Each writer
 * emits the smallest msgpack form, as msgpack-c and ormsgpack do, so these
 * hand-written hot paths and msgpack-c's packer (the cold parts: chunk
 * header, metadata, value trees) produce the same bytes.  They are inline
 * because one indirect msgpack_packer callback plus a memcpy call per item
 * cost more than the whole rest of the encoding (measured).  Every writer
 * returns 0, or -1 when the buffer cannot grow (callers then roll the
 * buffer back to where their event started).
 */
#ifndef DASF_MP_WRITE_H
#define DASF_MP_WRITE_H

#include "internal.h"

#include <string.h>

/* The packer's write callback.  Each encoding function packs through a
 * packer on its own stack, initialised with this function, so the compiler
 * sees the callback and inlines it with constant sizes (no indirect call
 * and no memcpy call per msgpack item on the flusher's hot loop). */
static inline __attribute__((always_inline)) int buf_write(void *data, const char *p, size_t n) {
    dasf_buf *b = data;
    if (DASF_UNLIKELY(b->cap - b->len < n) && dasf_buf_reserve(b, n)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---- inline msgpack writers (smallest forms, as msgpack-c and ormsgpack) --- */

#define W_INLINE static inline __attribute__((always_inline))

W_INLINE int w_room(dasf_buf *b, size_t n) {
    return DASF_LIKELY(b->cap - b->len >= n) ? 0 : dasf_buf_reserve(b, n);
}

W_INLINE void w_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

W_INLINE int w_tagged(dasf_buf *b, uint8_t tag, uint64_t v, int n) {
    if (w_room(b, 9)) return -1;
    uint8_t *p = b->data + b->len;
    p[0] = tag;
    w_be(p + 1, v, n);
    b->len += 1 + (size_t)n;
    return 0;
}

W_INLINE int w_byte(dasf_buf *b, uint8_t x) {
    if (w_room(b, 1)) return -1;
    b->data[b->len++] = x;
    return 0;
}

W_INLINE int w_uint(dasf_buf *b, uint64_t v) {
    if (v < 128) return w_byte(b, (uint8_t)v);
    if (v < 256) return w_tagged(b, 0xcc, v, 1);
    if (v < 65536) return w_tagged(b, 0xcd, v, 2);
    if (v <= 0xffffffffu) return w_tagged(b, 0xce, v, 4);
    return w_tagged(b, 0xcf, v, 8);
}

W_INLINE int w_int(dasf_buf *b, int64_t v) {
    if (v >= 0) return w_uint(b, (uint64_t)v);
    if (v >= -32) return w_byte(b, (uint8_t)v);
    if (v >= -128) return w_tagged(b, 0xd0, (uint64_t)v, 1);
    if (v >= -32768) return w_tagged(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN) return w_tagged(b, 0xd2, (uint64_t)v, 4);
    return w_tagged(b, 0xd3, (uint64_t)v, 8);
}

W_INLINE int w_f64(dasf_buf *b, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return w_tagged(b, 0xcb, u, 8);
}

/* Array (fix 0x90, 0xdc) or map (fix 0x80, 0xde) header. */
W_INLINE int w_hdr(dasf_buf *b, uint8_t fix, uint8_t tag16, size_t n) {
    if (n < 16) return w_byte(b, (uint8_t)(fix | n));
    if (n < 65536) return w_tagged(b, tag16, n, 2);
    return w_tagged(b, (uint8_t)(tag16 + 1), n, 4);
}

W_INLINE int w_raw(dasf_buf *b, const void *p, size_t n) {
    if (w_room(b, n)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

W_INLINE int w_str(dasf_buf *b, const char *s, size_t n) {
    int rc;
    if (n < 32)
        rc = w_byte(b, (uint8_t)(0xa0 | n));
    else if (n < 256)
        rc = w_tagged(b, 0xd9, n, 1);
    else if (n < 65536)
        rc = w_tagged(b, 0xda, n, 2);
    else
        rc = w_tagged(b, 0xdb, n, 4);
    return rc | w_raw(b, s, n);
}

W_INLINE int w_arg_value(dasf_buf *b, const dasf_arg *a) {
    switch (a->type) {
    case DASF_ARG_INT: return w_int(b, a->v.i);
    case DASF_ARG_UINT: return w_uint(b, a->v.u);
    case DASF_ARG_DOUBLE: return w_f64(b, a->v.d);
    case DASF_ARG_BOOL: return w_byte(b, a->v.b ? 0xc3 : 0xc2);
    case DASF_ARG_STR: return w_str(b, a->v.s, strlen(a->v.s));
    case DASF_ARG_MSGPACK:
        /* One complete value, validated: appended verbatim. */
        return w_raw(b, a->v.raw.data, a->v.raw.size);
    }
    return -1;
}

#endif
