/*
 * ring.h — the record hot path (static inline, included by the record paths).
 *
 * Runs on app threads.  Promise 2: no lock, no syscall, no allocation, no
 * atomic read-modify-write.  The path is: one TLS compare to find this
 * thread's ring for the database, one compare against the producer-local
 * `limit` (ring full or flusher wake-up due → cold path in ring.c), plain
 * stores of the 32-byte record straight into the slot (no stack copy: that
 * costs a store-forwarding stall), one release store of head.
 */
#ifndef DASF_RING_H
#define DASF_RING_H

#include "rt.h"

/* ---- ring.c: the cold side -------------------------------------------------------------- */
/* This thread's ring for db (creates and registers it on first use).
 * NULL with *rc set on failure (closed db, out of memory). */
DASF_HIDDEN dasf_ring *dasf_ring_get_slow(dasf_filedb *db, int *rc);
/* Makes room for `size` bytes (wakes the flusher, applies the overflow
 * policy).  @return 0 (room made; r->limit updated) or DASF_EDROPPED /
 * DASF_ECLOSED. */
DASF_HIDDEN int dasf_ring_make_room(dasf_ring *r, uint64_t size);
/* Drops one reference; frees the ring on the last one. */
DASF_HIDDEN void dasf_ring_unref(dasf_ring *r);
DASF_HIDDEN void dasf_ring_free_rcu(struct rcu_head *h);
/* Forgets the calling thread's rings (fork child). */
DASF_HIDDEN void dasf_ring_tls_reset_after_fork(void);
/* Fork child: releases the memory of a parent's ring, leaving its file. */
DASF_HIDDEN void dasf_ring_forget_after_fork(dasf_ring *r);

/* ---- the hot path (inline) -------------------------------------------- */
typedef struct dasf_tls_cache {
    uint64_t key;
    dasf_ring *ring;
} dasf_tls_cache;

/* dasf_tls.key when this thread has no cached ring.  Open keys start at 1
 * and a closed database's key is 0, so neither ever equals it: the fast
 * path needs one compare to know the cached ring is this open database's. */
#define DASF_TLS_NO_KEY UINT64_MAX

extern __thread dasf_tls_cache dasf_tls __attribute__((tls_model("initial-exec")));

/* This thread's ring for the database whose open key is `key`. */
static inline dasf_ring *dasf_ring_for(dasf_filedb *db, uint64_t key, int *rc) {
    if (DASF_LIKELY(dasf_tls.key == key)) return dasf_tls.ring;
    if (DASF_UNLIKELY(key == 0)) { /* closed: db may be gone, don't touch it */
        *rc = DASF_ECLOSED;
        return NULL;
    }
    return dasf_ring_get_slow(db, rc);
}

/* Reserves `size` bytes (a multiple of 32) contiguous at the head: when the
 * record would straddle the end of the ring, make_room pads to the end.
 * Returns the slot or NULL (*rc set). */
static inline dasf_rec *dasf_ring_reserve(dasf_ring *r, uint64_t size, int *rc) {
    uint64_t h = r->head;
    if (DASF_UNLIKELY(h + size > r->limit || (h & r->mask) + size > r->cap)) {
        *rc = dasf_ring_make_room(r, size);
        if (*rc) return NULL;
        h = r->head; /* make_room may have written a PAD record */
    }
    return (dasf_rec *)(r->buf + (h & r->mask));
}

static inline void dasf_ring_publish(dasf_ring *r, uint64_t size) {
    __atomic_store_n(&r->head, r->head + size, __ATOMIC_RELEASE);
}

/* Writes a 32-byte record without payload at head h (space checked by the
 * caller) and publishes it. */
static inline void dasf_ring_write_plain(dasf_ring *r, uint64_t h, uint64_t word, uint64_t ts,
                                         uint64_t dur) {
    dasf_rec *rec = (dasf_rec *)(r->buf + (h & r->mask));
    rec->ts = ts;
    rec->dur = dur;
    rec->word = word;
    rec->size = DASF_REC_SIZE;
    __atomic_store_n(&r->head, h + DASF_REC_SIZE, __ATOMIC_RELEASE);
}

/* Cold half of dasf_ring_push_plain: finds/creates the ring, makes room,
 * then writes the record.  Out of line so the fast path needs no stack
 * frame and tail-calls here. */
DASF_HIDDEN int dasf_ring_push_plain_slow(dasf_filedb *db, uint64_t key, uint64_t word,
                                          uint64_t ts, uint64_t dur);

/* The whole fast path for a record without payload. */
static inline int dasf_ring_push_plain(dasf_filedb *db, uint64_t key, uint64_t word,
                                       uint64_t ts, uint64_t dur) {
    dasf_ring *r = dasf_tls.ring;
    if (DASF_UNLIKELY(dasf_tls.key != key))
        return dasf_ring_push_plain_slow(db, key, word, ts, dur);
    /* A 32-byte record never straddles the end (every record is a multiple
     * of 32 bytes and so is the ring), so only space is checked. */
    uint64_t h = r->head;
    if (DASF_UNLIKELY(h + DASF_REC_SIZE > r->limit))
        return dasf_ring_push_plain_slow(db, key, word, ts, dur);
    dasf_ring_write_plain(r, h, word, ts, dur);
    return 0;
}

#endif
