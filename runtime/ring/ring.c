/*
 * ring.c — the cold side of the per-thread SPSC rings.
 *
 * Runs on app threads, outside the fast path: the first record of a thread
 * into a database (ring creation and registration), the rare record that
 * finds its ring full or due to wake the flusher, and thread exit.
 * Invariants: only the owning thread writes head/limit/cached_tail/wake_at
 * and the record bytes before head; only the flusher writes tail — except
 * under DASF_OVERFLOW_OVERWRITE (flight recorder), where nothing drains the
 * ring and the owning thread moves tail itself, always to a record
 * boundary, publishing tail before it overwrites the bytes tail left
 * behind (make_room_overwrite).  A ring is freed only when both its thread
 * and its database are done with it.
 */
#include "hooks.h"
#include "futex.h"
#include "ring.h"
#include "shm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread dasf_tls_cache dasf_tls __attribute__((tls_model("initial-exec"))) = {DASF_TLS_NO_KEY,
                                                                               NULL};

typedef struct tls_entry {
    uint64_t key;
    dasf_ring *ring;
} tls_entry;

typedef struct tls_rings {
    size_t n, cap;
    tls_entry *v;
} tls_rings;

static __thread tls_rings *t_rings;
dasf_first_record_hook dasf_on_first_record;
static pthread_key_t g_exit_key;
static pthread_once_t g_exit_once = PTHREAD_ONCE_INIT;

/* dasf_set_wait_hooks(): called around the one place a producer sleeps. */
static dasf_wait_hook g_before_wait, g_after_wait;

void dasf_set_wait_hooks(dasf_wait_hook before_wait, dasf_wait_hook after_wait) {
    __atomic_store_n(&g_before_wait, before_wait, __ATOMIC_RELEASE);
    __atomic_store_n(&g_after_wait, after_wait, __ATOMIC_RELEASE);
}

static void ring_free(dasf_ring *r) {
    if (r->shm_index) {
        /* Freed once drained and written (or closed without commit, or a
         * failed registration): nothing in the file is needed any more. */
        dasf_shm_ring_free(r, 1);
        return;
    }
    munmap(r->buf, r->cap);
    free(r);
}

void dasf_ring_forget_after_fork(dasf_ring *r) {
    if (r->shm_index) {
        dasf_shm_ring_free(r, 0); /* the parent's file: leave it */
        return;
    }
    munmap(r->buf, r->cap);
    free(r);
}

void dasf_ring_unref(dasf_ring *r) {
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) ring_free(r);
}

#ifdef DASF_TSAN
char dasf_rcu_hb_token;
#endif

void dasf_ring_free_rcu(struct rcu_head *h) {
    dasf_ring *r = caa_container_of(h, dasf_ring, rcu);
    dasf_rcu_callback_begin(r);
    dasf_ring_unref(r);
}

/* Thread exit: mark each ring dead so the flusher drains and unlinks it;
 * nothing recorded before this point is lost. */
static void thread_exit(void *arg) {
    tls_rings *t = arg;
    for (size_t i = 0; i < t->n; i++) {
        __atomic_store_n(&t->v[i].ring->dead, 1, __ATOMIC_RELEASE);
        dasf_ring_unref(t->v[i].ring);
    }
    free(t->v);
    free(t);
    t_rings = NULL;
    dasf_tls.key = DASF_TLS_NO_KEY;
    dasf_tls.ring = NULL;
}

static void exit_key_init(void) {
    pthread_key_create(&g_exit_key, thread_exit);
}

void dasf_ring_tls_reset_after_fork(void) {
    /* The child's copy of the forking thread's rings belongs to the
     * parent's (now unreachable) databases; the databases free the
     * buffers, we only forget them. */
    if (t_rings) {
        free(t_rings->v);
        free(t_rings);
        t_rings = NULL;
        pthread_setspecific(g_exit_key, NULL);
    }
    dasf_tls.key = DASF_TLS_NO_KEY;
    dasf_tls.ring = NULL;
}

/* Drops entries whose database has closed (it unlinked the ring already). */
static void tls_prune(tls_rings *t) {
    size_t j = 0;
    for (size_t i = 0; i < t->n; i++) {
        dasf_ring *r = t->v[i].ring;
        if (__atomic_load_n(&r->linked, __ATOMIC_ACQUIRE) == 2)
            dasf_ring_unref(r); /* 2 = orphaned by a closed database */
        else
            t->v[j++] = t->v[i];
    }
    t->n = j;
}

static dasf_ring *ring_create(dasf_filedb *db) {
    /* In shared memory when we can (the struct too: the hot path's stores
     * are the same, they just land in a file a recoverer can read). */
    dasf_ring *r = dasf_shm_ring_create(db);
    if (!r) {
        r = aligned_alloc(DASF_CACHELINE, sizeof *r);
        if (!r) return NULL;
        memset(r, 0, sizeof *r);
        /* Pre-fault the buffer: first-touch page faults would otherwise land
         * on the recording thread's hot path. */
        void *buf = mmap(NULL, db->ring_cap, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (buf == MAP_FAILED) {
            free(r);
            return NULL;
        }
        r->buf = buf;
        r->shm_fallback = db->shm_base != NULL; /* wanted, not had (shm.c warned) */
    }
    r->cap = db->ring_cap;
    r->mask = db->ring_cap - 1;
    r->db = db;
    r->wake_at = db->overflow == DASF_OVERFLOW_OVERWRITE ? UINT64_MAX : db->thresh_bytes;
    r->limit = r->wake_at < r->cap ? r->wake_at : r->cap;
    r->refs = 2;
    r->pid = getpid();
    r->tid = (int64_t)syscall(SYS_gettid);
    if (r->shm_index) ((dasf_shm_ring_hdr *)((uint8_t *)r - DASF_SHM_RING_OFF))->tid = r->tid;
    return r;
}

dasf_ring *dasf_ring_get_slow(dasf_filedb *db, int *rc) {
    uint64_t key = __atomic_load_n(&db->key, __ATOMIC_ACQUIRE);
    if (!key) {
        *rc = DASF_ECLOSED;
        return NULL;
    }
    pthread_once(&g_exit_once, exit_key_init);
    tls_rings *t = t_rings;
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) goto nomem;
        t_rings = t;
        pthread_setspecific(g_exit_key, t);
    }
    tls_prune(t);
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].key == key) {
            dasf_tls.key = key;
            dasf_tls.ring = t->v[i].ring;
            return t->v[i].ring;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        tls_entry *v = realloc(t->v, cap * sizeof *v);
        if (!v) goto nomem;
        t->v = v;
        t->cap = cap;
    }
    dasf_ring *r = ring_create(db);
    if (!r) goto nomem;

    pthread_mutex_lock(&db->reg_lock);
    if (__atomic_load_n(&db->key, __ATOMIC_ACQUIRE) != key) { /* closed meanwhile */
        pthread_mutex_unlock(&db->reg_lock);
        ring_free(r);
        *rc = DASF_ECLOSED;
        return NULL;
    }
    /* The flusher (flush/, above this stage), through the pointer db.c set:
     * a no-op when it runs in this process. */
    int frc = db->start_flusher(db);
    if (frc) {
        pthread_mutex_unlock(&db->reg_lock);
        ring_free(r);
        *rc = frc;
        return NULL;
    }
    r->linked = 1;
    dasf_rcu_list_add_tail(&r->node, &db->rings);
    pthread_mutex_unlock(&db->reg_lock);

    t->v[t->n].key = key;
    t->v[t->n].ring = r;
    t->n++;
    dasf_tls.key = key;
    dasf_tls.ring = r;
    /* The caller reserves its slot after this returns, so the hook's own
     * records (a thread name) come first in the ring. */
    dasf_first_record_hook hook = __atomic_load_n(&dasf_on_first_record, __ATOMIC_ACQUIRE);
    if (hook) hook(db);
    return r;
nomem:
    *rc = DASF_ENOMEM;
    return NULL;
}

static void write_pad(dasf_ring *r, uint64_t h, uint64_t pad) {
    dasf_rec *rec = (dasf_rec *)(r->buf + (h & r->mask));
    rec->ts = 0;
    rec->dur = 0;
    rec->word = dasf_rec_word(0, 0, DASF_RF_PAD, 0);
    rec->size = pad;
    __atomic_store_n(&r->head, h + pad, __ATOMIC_RELEASE);
}

/* DASF_OVERFLOW_OVERWRITE: the oldest records from t on are given up, up
 * to at least `goal` (< head h, by more than cap/4): returns the new tail
 * (a record boundary) and adds the records given up to *n (PADs not
 * counted).  Runs of plain records go four at a time: the next address
 * never waits for a load (no data dependency through the sizes), so the
 * loads overlap — the walk costs ~0.3 ns per record instead of a chain of
 * cache hits.  A PAD fills the ring to its end, so a block of four that
 * stops short of the last slot holds none. */
static uint64_t give_up_oldest(const dasf_ring *r, uint64_t t, uint64_t goal, uint64_t h,
                               uint64_t *n) {
    const uint64_t R = DASF_REC_SIZE;
    while (t < goal) {
        while (t < goal && (t & r->mask) + 4 * R < r->cap) {
            const dasf_rec *q = (const dasf_rec *)(r->buf + (t & r->mask));
            if ((q[0].size ^ R) | (q[1].size ^ R) | (q[2].size ^ R) | (q[3].size ^ R)) break;
            t += 4 * R;
            *n += 4;
        }
        if (t >= goal) break;
        const dasf_rec *rec = (const dasf_rec *)(r->buf + (t & r->mask));
        uint64_t sz = rec->size;
        if (sz < R || (sz & (R - 1)) || sz > h - t) {
            /* Garbled by a signal handler that recorded on top of its own
             * thread's record: no boundary to trust below head. */
            *n += (h - t) / R;
            return h;
        }
        if (!((rec->word >> 40) & DASF_RF_PAD)) (*n)++;
        t += sz;
    }
    return t;
}

/* DASF_OVERFLOW_OVERWRITE: never waits, never wakes the flusher.  When
 * the record does not fit, the oldest records are given up in a batch of
 * at least cap/32 bytes (so the fast path runs cap/32 bytes of records
 * between two visits here, and the ring always keeps 31/32 of its
 * capacity of the newest records).  Publication, for a snapshot copying
 * the ring meanwhile (flush/flight.c snapshot_ring): ow_seq goes odd, tail
 * and ow_events change, ow_seq goes even (release), then a release fence
 * orders all of it before the stores that overwrite the given-up bytes —
 * a copy that saw one of those stores sees the new tail afterwards.  A
 * recoverer of a killed process reads [tail, head) (recover/recover.c):
 * whole records at every instant, for the same reason. */
static int make_room_overwrite(dasf_ring *r, uint64_t size) {
    uint64_t h = r->head;
    uint64_t off = h & r->mask;
    uint64_t pad = off + size > r->cap ? r->cap - off : 0;
    uint64_t need = pad + size; /* < cap/2: a record is at most cap/4 */
    uint64_t t = r->tail;
    if (h + need > t + r->cap) {
        uint64_t goal = h + need + (r->cap >> 5) - r->cap; /* <= h - cap/2 + cap/32 */
        uint64_t n = 0;
        t = give_up_oldest(r, t, goal, h, &n);
        uint32_t seq = r->ow_seq;
        __atomic_store_n(&r->ow_seq, seq + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&r->ow_events, r->ow_events + n, __ATOMIC_RELAXED);
        __atomic_store_n(&r->tail, t, __ATOMIC_RELAXED);
        __atomic_store_n(&r->ow_seq, seq + 2, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    if (pad) write_pad(r, h, pad);
    r->limit = t + r->cap;
    return DASF_OK;
}

int dasf_ring_make_room(dasf_ring *r, uint64_t size) {
    dasf_filedb *db = r->db;
    if (db->overflow == DASF_OVERFLOW_OVERWRITE) {
        if (!__atomic_load_n(&db->key, __ATOMIC_ACQUIRE)) return DASF_ECLOSED;
        return make_room_overwrite(r, size);
    }
    uint64_t h = r->head;
    for (;;) {
        uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        r->cached_tail = tail;
        uint64_t off = h & r->mask;
        uint64_t pad = off + size > r->cap ? r->cap - off : 0;
        uint64_t need = pad + size;
        if (h + need > r->wake_at) {
            /* One wake-up per commit_threshold of pending records. */
            if (h + need - tail >= db->thresh_bytes) {
                dasf_flusher_wake(db);
                r->wake_at = h + need + db->thresh_bytes;
            } else {
                r->wake_at = tail + db->thresh_bytes;
            }
        }
        if (h + need <= tail + r->cap) {
            if (pad) write_pad(r, h, pad);
            uint64_t lim = tail + r->cap;
            r->limit = r->wake_at < lim ? r->wake_at : lim;
            return DASF_OK;
        }
        /* Full. */
        if (!__atomic_load_n(&db->key, __ATOMIC_ACQUIRE)) return DASF_ECLOSED;
        dasf_flusher_wake(db);
        if (db->overflow == DASF_OVERFLOW_DROP) {
            __atomic_store_n(&r->dropped, r->dropped + 1, __ATOMIC_RELAXED);
            return DASF_EDROPPED;
        }
        uint32_t seq = __atomic_load_n(&db->drain_seq, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == tail) {
            dasf_wait_hook before = __atomic_load_n(&g_before_wait, __ATOMIC_ACQUIRE);
            dasf_wait_hook after = __atomic_load_n(&g_after_wait, __ATOMIC_ACQUIRE);
            if (before) before();
            dasf_futex_wait(&db->drain_seq, seq, 0.01);
            if (after) after();
        }
    }
}

DASF_COLD int dasf_ring_push_plain_slow(dasf_filedb *db, uint64_t key, uint64_t word,
                                        uint64_t ts, uint64_t dur) {
    int rc = 0;
    dasf_ring *r = dasf_ring_for(db, key, &rc);
    if (!r) return rc;
    uint64_t h = r->head;
    if (h + DASF_REC_SIZE > r->limit) {
        rc = dasf_ring_make_room(r, DASF_REC_SIZE);
        if (rc) return rc;
        h = r->head;
    }
    dasf_ring_write_plain(r, h, word, ts, dur);
    return 0;
}
