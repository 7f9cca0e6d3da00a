/*
 * mp_cursor.c — reading msgpack items from a byte span (mp_cursor.h).
 *
 * Any thread (the only state, dasf_mp_short, is thread-local).  Every read
 * is checked against the cursor's end: damaged or hostile bytes yield -1,
 * never a read past the span.  Integers that fit int64 read as
 * DASF_VAL_INT (msgpack does not distinguish a signed 5 from an unsigned
 * 5); only values above INT64_MAX read as UINT.  Skipping is iterative, so
 * deep nesting cannot exhaust the stack.
 */
#include "mp_cursor.h"
#include "byteorder.h"

#include <string.h>

__thread int dasf_mp_short;

static int take(dasf_mp *c, size_t n, const uint8_t **out) {
    if ((size_t)(c->end - c->p) < n) {
        dasf_mp_short = 1;
        return -1;
    }
    *out = c->p;
    c->p += n;
    return 0;
}

static int set_int(dasf_mp_obj *o, uint64_t u) {
    if (u > (uint64_t)INT64_MAX) {
        o->type = DASF_VAL_UINT;
        o->v.u = u;
    } else {
        o->type = DASF_VAL_INT;
        o->v.i = (int64_t)u;
    }
    return 0;
}

static int set_span(dasf_mp *c, dasf_mp_obj *o, dasf_value_type t, size_t lenbytes) {
    const uint8_t *q;
    if (take(c, lenbytes, &q)) return -1;
    uint64_t len = dasf_load_be(q, lenbytes);
    if (take(c, (size_t)len, &q)) return -1;
    o->type = t;
    o->v.s.ptr = q;
    o->v.s.len = (uint32_t)len;
    return 0;
}

static int set_count(dasf_mp *c, dasf_mp_obj *o, dasf_value_type t, size_t lenbytes) {
    const uint8_t *q;
    if (take(c, lenbytes, &q)) return -1;
    o->type = t;
    o->v.n = (uint32_t)dasf_load_be(q, lenbytes);
    return 0;
}

static int set_ext(dasf_mp *c, dasf_mp_obj *o, size_t fixed, size_t lenbytes) {
    const uint8_t *q;
    size_t len = fixed;
    if (lenbytes) {
        if (take(c, lenbytes, &q)) return -1;
        len = (size_t)dasf_load_be(q, lenbytes);
    }
    if (take(c, 1, &q)) return -1; /* ext type byte, dropped */
    if (take(c, len, &q)) return -1;
    o->type = DASF_VAL_BIN;
    o->v.s.ptr = q;
    o->v.s.len = (uint32_t)len;
    return 0;
}

/* One item header.  Long (~100 lines) on purpose: it is msgpack's type-byte
 * table, one case per marker family in the spec's order, and reads best as
 * one switch; the per-family work is already in the helpers above. */
int dasf_mp_read(dasf_mp *c, dasf_mp_obj *o) {
    const uint8_t *q;
    if (c->p >= c->end) {
        dasf_mp_short = 1;
        return -1;
    }
    uint8_t b = *c->p++;
    if (b <= 0x7f) return set_int(o, b);
    if (b >= 0xe0) {
        o->type = DASF_VAL_INT;
        o->v.i = (int8_t)b;
        return 0;
    }
    if (b >= 0xa0 && b <= 0xbf) {
        size_t len = b & 0x1f;
        if (take(c, len, &q)) return -1;
        o->type = DASF_VAL_STR;
        o->v.s.ptr = q;
        o->v.s.len = (uint32_t)len;
        return 0;
    }
    if (b >= 0x80 && b <= 0x8f) {
        o->type = DASF_VAL_MAP;
        o->v.n = b & 0x0f;
        return 0;
    }
    if (b >= 0x90 && b <= 0x9f) {
        o->type = DASF_VAL_ARRAY;
        o->v.n = b & 0x0f;
        return 0;
    }
    switch (b) {
    case 0xc0:
        o->type = DASF_VAL_NIL;
        return 0;
    case 0xc2:
    case 0xc3:
        o->type = DASF_VAL_BOOL;
        o->v.b = b == 0xc3;
        return 0;
    case 0xc4: return set_span(c, o, DASF_VAL_BIN, 1);
    case 0xc5: return set_span(c, o, DASF_VAL_BIN, 2);
    case 0xc6: return set_span(c, o, DASF_VAL_BIN, 4);
    case 0xc7: return set_ext(c, o, 0, 1);
    case 0xc8: return set_ext(c, o, 0, 2);
    case 0xc9: return set_ext(c, o, 0, 4);
    case 0xca: {
        if (take(c, 4, &q)) return -1;
        uint32_t u = (uint32_t)dasf_load_be(q, 4);
        float f;
        memcpy(&f, &u, 4);
        o->type = DASF_VAL_FLOAT;
        o->v.f = f;
        return 0;
    }
    case 0xcb: {
        if (take(c, 8, &q)) return -1;
        uint64_t u = dasf_load_be(q, 8);
        o->type = DASF_VAL_FLOAT;
        memcpy(&o->v.f, &u, 8);
        return 0;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        size_t n = (size_t)1 << (b - 0xcc);
        if (take(c, n, &q)) return -1;
        return set_int(o, dasf_load_be(q, n));
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        size_t n = (size_t)1 << (b - 0xd0);
        if (take(c, n, &q)) return -1;
        uint64_t u = dasf_load_be(q, n);
        int64_t v;
        if (n == 1)
            v = (int8_t)u;
        else if (n == 2)
            v = (int16_t)u;
        else if (n == 4)
            v = (int32_t)u;
        else
            v = (int64_t)u;
        o->type = DASF_VAL_INT;
        o->v.i = v;
        return 0;
    }
    case 0xd4: return set_ext(c, o, 1, 0);
    case 0xd5: return set_ext(c, o, 2, 0);
    case 0xd6: return set_ext(c, o, 4, 0);
    case 0xd7: return set_ext(c, o, 8, 0);
    case 0xd8: return set_ext(c, o, 16, 0);
    case 0xd9: return set_span(c, o, DASF_VAL_STR, 1);
    case 0xda: return set_span(c, o, DASF_VAL_STR, 2);
    case 0xdb: return set_span(c, o, DASF_VAL_STR, 4);
    case 0xdc: return set_count(c, o, DASF_VAL_ARRAY, 2);
    case 0xdd: return set_count(c, o, DASF_VAL_ARRAY, 4);
    case 0xde: return set_count(c, o, DASF_VAL_MAP, 2);
    case 0xdf: return set_count(c, o, DASF_VAL_MAP, 4);
    default: return -1; /* 0xc1: never used */
    }
}

int dasf_mp_skip(dasf_mp *c) {
    uint64_t pending = 1;
    while (pending) {
        dasf_mp_obj o;
        if (dasf_mp_read(c, &o)) return -1;
        pending--;
        if (o.type == DASF_VAL_ARRAY)
            pending += o.v.n;
        else if (o.type == DASF_VAL_MAP)
            pending += 2 * (uint64_t)o.v.n;
        /* Every element needs at least one byte: reject counts that cannot
         * fit early rather than loop over billions of phantom items. */
        if (pending > (uint64_t)(c->end - c->p)) {
            dasf_mp_short = 1;
            return -1;
        }
    }
    return 0;
}
