/*
 * value.c — msgpack bytes → dasf_value trees, and the arena they live in.
 *
 * Used by the reader (tools, get_traces) on whatever thread reads.  The
 * cursor never reads past its end pointer and the tree decoder limits depth,
 * so a damaged or hostile file yields an error, never a crash.  Integers
 * that fit int64 read as DASF_VAL_INT (msgpack does not distinguish a
 * signed 5 from an unsigned 5); only values above INT64_MAX read as UINT.
 * Trees are allocated from an arena that the reader resets per event, so a
 * tree costs no free() and its memory is reused by the next event.  An
 * arena can carry a limit on the memory it holds (the reader's bound,
 * docs/FORMAT.md section 6): passing it fails the allocation with
 * arena->over set, which the reader reports as damage, not as ENOMEM.
 */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */

struct dasf_arena_block {
    dasf_arena_block *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
};

/* Frees the blocks after b (unused since the last reset), or all when b
 * is NULL. */
static void free_after(dasf_arena *a, dasf_arena_block *b) {
    dasf_arena_block *x = b ? b->next : a->head;
    while (x) {
        dasf_arena_block *n = x->next;
        a->held -= x->cap;
        free(x);
        x = n;
    }
    if (b)
        b->next = NULL;
    else
        a->head = NULL;
}

static void free_big(dasf_arena *a) {
    while (a->big) {
        dasf_arena_block *n = a->big->next;
        a->held -= a->big->cap;
        free(a->big);
        a->big = n;
    }
}

static int within_limit(dasf_arena *a, size_t cap) {
    if (!a->limit || (cap <= a->limit && a->held + cap <= a->limit)) return 1;
    a->over = 1;
    return 0;
}

#define BIG ((size_t)64 << 10)
#define BLOCK_MAX ((size_t)1 << 20)

/* n bytes at the given alignment (1 or 16).  Requests of BIG or more get
 * a block of their own size; smaller ones are cut from blocks that double
 * up to BLOCK_MAX, so a block wastes less than BIG at its end and the
 * memory held stays within a few percent of what is used (the reader's
 * limits count held memory). */
static void *arena_take(dasf_arena *a, size_t n, size_t align) {
    if (n >= BIG) {
        size_t cap = (n + 15) & ~(size_t)15;
        if (cap < n || !within_limit(a, cap)) return NULL;
        dasf_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->cap = nb->used = cap;
        nb->next = a->big;
        a->big = nb;
        a->held += cap;
        return nb->data;
    }
    for (;;) {
        dasf_arena_block *b = a->cur;
        if (b) {
            size_t at = (b->used + align - 1) & ~(align - 1);
            if (at <= b->cap && b->cap - at >= n) {
                b->used = at + n;
                return b->data + at;
            }
        }
        if (b && b->next) { /* reuse a block kept from before the reset */
            a->cur = b->next;
            a->cur->used = 0;
            continue;
        }
        size_t cap = b ? (b->cap < BLOCK_MAX ? b->cap * 2 : BLOCK_MAX) : 4096;
        if (!within_limit(a, cap)) return NULL;
        dasf_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = NULL;
        nb->used = 0;
        nb->cap = cap;
        a->held += cap;
        if (b)
            b->next = nb;
        else
            a->head = nb;
        a->cur = nb;
    }
}

void *dasf_arena_alloc(dasf_arena *a, size_t n) {
    return arena_take(a, n ? n : 1, 16);
}

/* Strings are byte-aligned: a table of short strings costs its bytes, not
 * 16 per string. */
char *dasf_arena_strdup(dasf_arena *a, const void *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *s = arena_take(a, n + 1, 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

void dasf_arena_reset(dasf_arena *a) {
    free_big(a);
    a->cur = a->head;
    if (a->head) a->head->used = 0;
    a->over = 0;
    /* Under a limit, blocks kept from a big chunk or event must not count
     * against the next one: keep the first block only (the common small
     * event never gets past it). */
    if (a->limit && a->held > BLOCK_MAX && a->head) free_after(a, a->head);
}

void dasf_arena_free(dasf_arena *a) {
    free_big(a);
    free_after(a, NULL);
    a->cur = NULL;
    a->held = 0;
}

/* ---- cursor --------------------------------------------------------------- */

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

/* ---- trees ---------------------------------------------------------------- */

static int decode_rec(dasf_mp *c, dasf_arena *a, dasf_value *out, int depth) {
    dasf_mp_obj o;
    if (depth > 256 || dasf_mp_read(c, &o)) return -1;
    out->type = o.type;
    switch (o.type) {
    case DASF_VAL_NIL: return 0;
    case DASF_VAL_BOOL: out->v.b = o.v.b; return 0;
    case DASF_VAL_INT: out->v.i = o.v.i; return 0;
    case DASF_VAL_UINT: out->v.u = o.v.u; return 0;
    case DASF_VAL_FLOAT: out->v.f = o.v.f; return 0;
    case DASF_VAL_STR:
    case DASF_VAL_BIN: {
        char *s = dasf_arena_strdup(a, o.v.s.ptr, o.v.s.len);
        if (!s) return -2;
        out->v.str.ptr = s;
        out->v.str.len = o.v.s.len;
        return 0;
    }
    case DASF_VAL_ARRAY: {
        uint32_t n = o.v.n;
        if (n > (uint64_t)(c->end - c->p)) {
            dasf_mp_short = 1;
            return -1;
        }
        dasf_value *items = dasf_arena_alloc(a, (size_t)n * sizeof *items);
        if (!items) return -2;
        for (uint32_t i = 0; i < n; i++) {
            int rc = decode_rec(c, a, &items[i], depth + 1);
            if (rc) return rc;
        }
        out->v.array.items = items;
        out->v.array.n = n;
        return 0;
    }
    case DASF_VAL_MAP: {
        uint32_t n = o.v.n;
        if (2 * (uint64_t)n > (uint64_t)(c->end - c->p)) {
            dasf_mp_short = 1;
            return -1;
        }
        dasf_kv *items = dasf_arena_alloc(a, (size_t)n * sizeof *items);
        if (!items) return -2;
        for (uint32_t i = 0; i < n; i++) {
            int rc = decode_rec(c, a, &items[i].key, depth + 1);
            if (!rc) rc = decode_rec(c, a, &items[i].val, depth + 1);
            if (rc) return rc;
        }
        out->v.map.items = items;
        out->v.map.n = n;
        return 0;
    }
    }
    return -1;
}

/* @return 0, -1 malformed, -2 out of memory. */
int dasf_value_decode(dasf_mp *c, dasf_arena *a, dasf_value *out) {
    return decode_rec(c, a, out, 0);
}

const dasf_value *dasf_value_map_get(const dasf_value *map, const char *key) {
    if (!map || !key || map->type != DASF_VAL_MAP) return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->v.map.n; i++) {
        const dasf_value *k = &map->v.map.items[i].key;
        if (k->type == DASF_VAL_STR && k->v.str.len == kl && memcmp(k->v.str.ptr, key, kl) == 0)
            return &map->v.map.items[i].val;
    }
    return NULL;
}
