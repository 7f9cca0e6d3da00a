/*
 * intern.c — the process-wide table of interned names.
 *
 * Any thread may intern (a mutex guards inserts: interning is once per name
 * or per DASF_ZONE call site, never per event); the flusher looks handles
 * up without a lock.  Invariants: entries are never moved or freed (they
 * live in segments that double in size), a handle is published with a
 * release store of the count after its entry is complete, so a reader that
 * sees handle h (through a record published after it) sees its string.
 */
#include "rt.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>

#define SEG_BASE_BITS 8 /* segment k holds 2^(k+8) entries */
#define NSEGS 24

typedef struct name_entry {
    const char *s;
    uint32_t len;
} name_entry;

static name_entry *g_segs[NSEGS];
static uint32_t g_count; /* handles 1..g_count are valid */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* Open-addressing hash of handles, for dedupe on insert (under g_lock). */
static uint32_t *g_hash;
static uint32_t g_hash_cap;
/* shm.c's copy of the table for a recoverer (called under g_lock). */
static void (*g_mirror)(uint32_t h, const char *s, uint32_t len);
static name_entry *entry_at(uint32_t idx);

void dasf_intern_set_mirror(void (*fn)(uint32_t h, const char *s, uint32_t len)) {
    pthread_mutex_lock(&g_lock);
    g_mirror = fn;
    for (uint32_t h = 1; fn && h <= g_count; h++) {
        name_entry *e = entry_at(h - 1);
        fn(h, e->s, e->len);
    }
    pthread_mutex_unlock(&g_lock);
}

void dasf_intern_forget_mirror(void) {
    g_mirror = NULL; /* fork child, single-threaded */
}

static name_entry *entry_at(uint32_t idx) { /* idx = handle - 1 */
    uint32_t v = (idx >> SEG_BASE_BITS) + 1;
    int seg = 31 - __builtin_clz(v);
    uint32_t off = idx - (((1u << seg) - 1) << SEG_BASE_BITS);
    return &g_segs[seg][off];
}

static int hash_grow(void) {
    uint32_t cap = g_hash_cap ? g_hash_cap * 2 : 1024;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t) return DASF_ENOMEM;
    for (uint32_t h = 1; h <= g_count; h++) {
        name_entry *e = entry_at(h - 1);
        uint32_t i = (uint32_t)dasf_hash_bytes(e->s, e->len) & (cap - 1);
        while (t[i]) i = (i + 1) & (cap - 1);
        t[i] = h;
    }
    free(g_hash);
    g_hash = t;
    g_hash_cap = cap;
    return 0;
}

dasf_name dasf_intern(const char *name) {
    if (!name) return 0;
    size_t len = strlen(name);
    if (len > UINT32_MAX / 2) return 0;
    pthread_mutex_lock(&g_lock);
    dasf_name found = 0;
    if (g_hash_cap) {
        uint32_t i = (uint32_t)dasf_hash_bytes(name, len) & (g_hash_cap - 1);
        for (; g_hash[i]; i = (i + 1) & (g_hash_cap - 1)) {
            name_entry *e = entry_at(g_hash[i] - 1);
            if (e->len == len && memcmp(e->s, name, len) == 0) {
                found = g_hash[i];
                break;
            }
        }
    }
    if (found) goto out;
    if ((g_count + 1) * 2 > g_hash_cap && hash_grow() != 0) goto out;
    uint32_t idx = g_count;
    uint32_t v = (idx >> SEG_BASE_BITS) + 1;
    int seg = 31 - __builtin_clz(v);
    if (seg >= NSEGS) goto out;
    if (!g_segs[seg]) {
        g_segs[seg] = calloc((size_t)1 << (seg + SEG_BASE_BITS), sizeof(name_entry));
        if (!g_segs[seg]) goto out;
    }
    char *copy = malloc(len + 1);
    if (!copy) goto out;
    memcpy(copy, name, len + 1);
    name_entry *e = entry_at(idx);
    e->s = copy;
    e->len = (uint32_t)len;
    found = idx + 1;
    uint32_t i = (uint32_t)dasf_hash_bytes(name, len) & (g_hash_cap - 1);
    while (g_hash[i]) i = (i + 1) & (g_hash_cap - 1);
    g_hash[i] = found;
    /* Mirrored before the handle is published: a record using it (which
     * comes after) finds the name in shared memory too. */
    if (g_mirror) g_mirror(found, copy, (uint32_t)len);
    __atomic_store_n(&g_count, found, __ATOMIC_RELEASE);
out:
    pthread_mutex_unlock(&g_lock);
    return found;
}

dasf_name dasf_profiler_intern(dasf_profiler *p, const char *name) {
    (void)p;
    return dasf_intern(name);
}

const char *dasf_intern_lookup(dasf_name h, uint32_t *len) {
    if (h == 0 || h > __atomic_load_n(&g_count, __ATOMIC_ACQUIRE)) return NULL;
    name_entry *e = entry_at(h - 1);
    if (len) *len = e->len;
    return e->s;
}

const char *dasf_name_str(dasf_name h) {
    return dasf_intern_lookup(h, NULL);
}
