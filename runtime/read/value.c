/*
 * value.c — msgpack bytes → dasf_value trees.
 *
 * Used by the reader (tools, get_traces) on whatever thread reads.  The
 * cursor (mp_cursor.c) never reads past its end pointer and the tree
 * decoder limits depth, so a damaged or hostile file yields an error,
 * never a crash.  Trees are allocated from an arena (arena.c) that the
 * reader resets per event, so a tree costs no free() and its memory is
 * reused by the next event.
 */
#include "value.h"

#include <string.h>

/* ---- trees ---------------------------------------------------------------- */

static int decode_rec(dasf_mp *c, dasf_arena *a, dasf_value *out, int depth) {
    dasf_mp_obj o;
    if (depth > 256 || dasf_mp_read(c, &o)) return DASF_PARSE_BAD;
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
        if (!s) return DASF_PARSE_NOMEM;
        out->v.str.ptr = s;
        out->v.str.len = o.v.s.len;
        return 0;
    }
    case DASF_VAL_ARRAY: {
        uint32_t n = o.v.n;
        if (n > (uint64_t)(c->end - c->p)) {
            dasf_mp_short = 1;
            return DASF_PARSE_BAD;
        }
        dasf_value *items = dasf_arena_alloc(a, (size_t)n * sizeof *items);
        if (!items) return DASF_PARSE_NOMEM;
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
            return DASF_PARSE_BAD;
        }
        dasf_kv *items = dasf_arena_alloc(a, (size_t)n * sizeof *items);
        if (!items) return DASF_PARSE_NOMEM;
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
    return DASF_PARSE_BAD;
}

/* @return 0, DASF_PARSE_BAD or DASF_PARSE_NOMEM (value.h). */
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
