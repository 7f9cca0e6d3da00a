/*
 * strmap.c — a small open-addressing hash map from strings to indexes,
 * used to group events by name, thread or process and to cache JSON
 * encodings.  Keys are copied; values are indexes into the caller's arrays,
 * so growing the map never moves the caller's data.  Load factor <= 1/2.
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t dt_hash(const void *p, size_t n) {
    /* FNV-1a over 8-byte words, then a final mix: names are short, and this
     * is several times faster than byte-at-a-time FNV on them.  Not the
     * runtime's dasf_hash_bytes (runtime/common/hash.h), on purpose: these
     * values are part of the output (timeline colours, timeline_svg.c;
     * Perfetto track uuids and flow ids, perfetto_packets.c, perfetto.c), so
     * they stay as they are and are mixed in every bit; the runtime's only
     * indexes in-process tables by its low bits and may change with the
     * encoder. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int rehash(dt_strmap *m, size_t cap) {
    dt_strent *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        dt_strent *e = &m->slots[i];
        if (!e->key) continue;
        size_t j = e->hash & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = *e;
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

dt_strent *dt_strmap_find(const dt_strmap *m, const char *key, size_t klen) {
    if (!m->cap) return NULL;
    uint64_t h = dt_hash(key, klen);
    for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        dt_strent *e = &m->slots[j];
        if (!e->key) return NULL;
        if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen)) return e;
    }
}

dt_strent *dt_strmap_get(dt_strmap *m, const char *key, size_t klen, bool *created) {
    if ((m->len + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 64)) return NULL;
    uint64_t h = dt_hash(key, klen);
    size_t j = h & (m->cap - 1);
    for (;; j = (j + 1) & (m->cap - 1)) {
        dt_strent *e = &m->slots[j];
        if (!e->key) break;
        if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen)) {
            if (created) *created = false;
            return e;
        }
    }
    dt_strent *e = &m->slots[j];
    e->key = malloc(klen + 1);
    if (!e->key) return NULL;
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->klen = klen;
    e->hash = h;
    e->val = SIZE_MAX;
    m->len++;
    if (created) *created = true;
    return e;
}

void dt_strmap_free(dt_strmap *m) {
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}
