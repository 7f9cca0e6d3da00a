/*
 * preload_hooks.c — the -finstrument-functions hooks of libdasf-preload.so:
 * __cyg_profile_func_enter/exit record one X event per call, named by the
 * function's address ("0x55d0c0de1234"; dasf-trace turns addresses into
 * names at read time), and close_open_frames ends the calls still open at
 * exit or exec.  Nothing here touches symbols.
 *
 * Threads: the hooks run on every instrumented thread and are the hot path:
 * a TLS shadow-stack push at entry; at exit one TLS address→name cache
 * probe and one 32-byte ring record (ring.h), no lock, no syscall.  Only a
 * cache miss takes g_names_lock (name_lookup_slow).  Before the constructor
 * has set g_fdb/g_max_depth they record nothing.  Invariant: nothing here
 * is instrumented itself (NOINSTR).
 */
#include "preload_int.h"

#define CACHE_SLOTS 1024u

typedef struct frame {
    void *fn;
    uint64_t t0;
} frame;

typedef struct name_slot {
    uintptr_t fn;
    dasf_name h;
} name_slot;

typedef struct cyg_tls {
    uint32_t depth;
    frame st[STACK_MAX];
    name_slot cache[CACHE_SLOTS];
} cyg_tls;

static __thread cyg_tls t_cyg __attribute__((tls_model("initial-exec")));

/* Process-wide address → interned "0x..." name (the cache's backing). */
static pthread_mutex_t g_names_lock = PTHREAD_MUTEX_INITIALIZER;
static name_slot *g_names;
static size_t g_names_cap, g_names_len;

static size_t addr_hash(uintptr_t a) {
    return (size_t)((a >> 4) ^ (a >> 14) ^ (a >> 24));
}

static NOINSTR dasf_name name_lookup_slow(uintptr_t fn) {
    pthread_mutex_lock(&g_names_lock);
    dasf_name h = 0;
    if (g_names_len * 2 >= g_names_cap) { /* grow (and rehash) */
        size_t cap = g_names_cap ? g_names_cap * 2 : 4096;
        name_slot *n = calloc(cap, sizeof *n);
        if (!n) goto out;
        for (size_t i = 0; i < g_names_cap; i++) {
            if (!g_names[i].fn) continue;
            size_t j = addr_hash(g_names[i].fn) & (cap - 1);
            while (n[j].fn) j = (j + 1) & (cap - 1);
            n[j] = g_names[i];
        }
        free(g_names);
        g_names = n;
        g_names_cap = cap;
    }
    size_t j = addr_hash(fn) & (g_names_cap - 1);
    while (g_names[j].fn && g_names[j].fn != fn) j = (j + 1) & (g_names_cap - 1);
    if (!g_names[j].fn) {
        char b[32];
        snprintf(b, sizeof b, "0x%lx", (unsigned long)fn);
        g_names[j].h = dasf_intern(b);
        if (!g_names[j].h) goto out;
        g_names[j].fn = fn;
        g_names_len++;
    }
    h = g_names[j].h;
out:
    pthread_mutex_unlock(&g_names_lock);
    return h;
}

static inline NOINSTR dasf_name name_of(cyg_tls *t, void *fn) {
    uintptr_t a = (uintptr_t)fn;
    name_slot *s = &t->cache[addr_hash(a) & (CACHE_SLOTS - 1)];
    if (DASF_LIKELY(s->fn == a)) return s->h;
    dasf_name h = name_lookup_slow(a);
    if (h) {
        s->fn = a;
        s->h = h;
    }
    return h;
}

void __cyg_profile_func_enter(void *fn, void *site);
void __cyg_profile_func_exit(void *fn, void *site);

EXPORT NOINSTR void __cyg_profile_func_enter(void *fn, void *site) {
    (void)site;
    cyg_tls *t = &t_cyg;
    uint32_t d = t->depth++;
    if (DASF_LIKELY(d < g_max_depth)) {
        t->st[d].fn = fn;
        t->st[d].t0 = dasf_ticks_inline();
    }
}

EXPORT NOINSTR void __cyg_profile_func_exit(void *fn, void *site) {
    (void)site;
    cyg_tls *t = &t_cyg;
    uint32_t d = t->depth;
    if (DASF_UNLIKELY(d == 0)) return; /* entered before the hooks were on */
    t->depth = --d;
    if (d >= g_max_depth) return;
    uint64_t t1 = dasf_ticks_inline();
    frame *f = &t->st[d];
    if (DASF_UNLIKELY(f->fn != fn)) {
        /* A longjmp skipped exits: find the frame this exit closes. */
        uint32_t k = d;
        while (k > 0 && t->st[k].fn != fn) k--;
        if (t->st[k].fn != fn) return;
        t->depth = d = k;
        f = &t->st[k];
    }
    uint64_t dur = t1 - f->t0;
    if (dur < g_min_ticks) return;
    dasf_filedb *db = g_fdb;
    if (DASF_UNLIKELY(!db)) return;
    dasf_name h = name_of(t, fn);
    if (DASF_UNLIKELY(!h)) return;
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    dasf_ring_push_plain(db, key, dasf_rec_word(h, DASF_PHASE_COMPLETE, DASF_TS_TICKS, 0), f->t0,
                         dur);
}

/* At exit: the calls still open on the exiting thread (exit() called below
 * main, or main itself when exit runs from it) end now. */
NOINSTR void close_open_frames(void) {
    cyg_tls *t = &t_cyg;
    dasf_filedb *db = g_fdb;
    if (!db) return;
    uint64_t now = dasf_ticks_inline();
    uint32_t top = t->depth < g_max_depth ? t->depth : g_max_depth;
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_RELAXED);
    for (uint32_t d = top; d-- > 0;) {
        frame *f = &t->st[d];
        dasf_name h = name_of(t, f->fn);
        if (h && now - f->t0 >= g_min_ticks)
            dasf_ring_push_plain(db, key, dasf_rec_word(h, DASF_PHASE_COMPLETE, DASF_TS_TICKS, 0),
                                 f->t0, now - f->t0);
    }
    t->depth = 0;
}
