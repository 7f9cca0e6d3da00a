/*
 * evcopy.c — owned copies of events read back (evcopy.h says what and why).
 */
#include "evcopy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64u * 1024u)

struct dt_arena_block {
    dt_arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

void *dt_evstore_alloc(dt_evstore *s, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    dt_arena_block *b = s->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
        dt_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        s->bytes += sizeof *nb + cap;
        if (b && cap != BLOCK_SIZE) { /* a big value: keep the current block in front */
            nb->next = b->next;
            b->next = nb;
            nb->used = n;
            return nb->data;
        }
        nb->next = b;
        s->blocks = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static const char *copy_bytes(dt_evstore *s, const char *src, size_t len) {
    char *d = dt_evstore_alloc(s, len + 1);
    if (!d) return NULL;
    memcpy(d, src, len);
    d[len] = 0;
    return d;
}

/* A NUL-terminated name or cat, stored once while it repeats. */
static const char *copy_name(dt_evstore *s, const char *src) {
    size_t len = strlen(src);
    size_t slot = (size_t)(((uintptr_t)src >> 3) * 0x9E3779B97F4A7C15ull >> 58) % DT_EVCOPY_CACHE;
    if (s->cache[slot].copy && s->cache[slot].len == len && !memcmp(s->cache[slot].copy, src, len))
        return s->cache[slot].copy;
    const char *d = copy_bytes(s, src, len);
    if (d) {
        s->cache[slot].copy = d;
        s->cache[slot].len = len;
    }
    return d;
}

static int copy_value(dt_evstore *s, dasf_value *dst, const dasf_value *src) {
    *dst = *src;
    switch (src->type) {
    case DASF_VAL_STR:
    case DASF_VAL_BIN:
        if (!src->v.str.ptr) return 0;
        dst->v.str.ptr = copy_bytes(s, src->v.str.ptr, src->v.str.len);
        return dst->v.str.ptr ? 0 : -1;
    case DASF_VAL_ARRAY: {
        if (!src->v.array.n) {
            dst->v.array.items = NULL;
            return 0;
        }
        dasf_value *items = dt_evstore_alloc(s, (size_t)src->v.array.n * sizeof *items);
        if (!items) return -1;
        for (uint32_t i = 0; i < src->v.array.n; i++)
            if (copy_value(s, &items[i], &src->v.array.items[i])) return -1;
        dst->v.array.items = items;
        return 0;
    }
    case DASF_VAL_MAP: {
        if (!src->v.map.n) {
            dst->v.map.items = NULL;
            return 0;
        }
        dasf_kv *items = dt_evstore_alloc(s, (size_t)src->v.map.n * sizeof *items);
        if (!items) return -1;
        for (uint32_t i = 0; i < src->v.map.n; i++)
            if (copy_value(s, &items[i].key, &src->v.map.items[i].key) ||
                copy_value(s, &items[i].val, &src->v.map.items[i].val))
                return -1;
        dst->v.map.items = items;
        return 0;
    }
    default: return 0;
    }
}

int dt_evstore_copy(dt_evstore *s, dasf_trace_event *dst, const dasf_trace_event *src) {
    *dst = *src;
    if (src->name && !(dst->name = copy_name(s, src->name))) return -1;
    if (src->cat && !(dst->cat = copy_name(s, src->cat))) return -1;
    if (copy_value(s, &dst->process_id, &src->process_id)) return -1;
    if (copy_value(s, &dst->thread_id, &src->thread_id)) return -1;
    if (copy_value(s, &dst->id, &src->id)) return -1;
    return copy_value(s, &dst->args, &src->args);
}

void dt_evstore_free(dt_evstore *s) {
    dt_arena_block *b = s->blocks;
    while (b) {
        dt_arena_block *next = b->next;
        free(b);
        b = next;
    }
    memset(s, 0, sizeof *s);
}
