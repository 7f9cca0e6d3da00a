/*
 * drain.c — rings → chunks in the pending list (flusher thread; the drain
 * state and dasf_drain_span are shared with the compression workers).
 *
 * A drain walks the registry (RCU), encodes each ring's published records
 * [consumed, head) straight into the flusher's chunk encoder, turns drop
 * counts into "dasf.dropped" markers, and finishes full chunks into the
 * pending list (the DROP cap applied there).  Invariants: an anonymous
 * ring's space is released only once its records are encoded into a chunk
 * that is pushed before anything can fail; a shared-memory ring's space
 * only after the append (flusher.c, release_shared), so a recoverer finds
 * every record that is not yet in the file.  Nothing here touches the file.
 */
#include "drain.h"
#include "clock.h"
#include "futex.h"
#include "ring.h"
#include "shm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static dasf_enc_memo *memo_for(dasf_ring_memo *tab, const dasf_ring *r) {
    dasf_ring_memo *rm = &tab[((uintptr_t)r >> 6 ^ (uintptr_t)r >> 12) % DASF_DRAIN_MEMOS];
    if (rm->ring != r) {
        memset(&rm->m, 0, sizeof rm->m);
        rm->ring = r;
    }
    return &rm->m;
}


dasf_drain_state *dasf_drain_state_new(void) {
    return calloc(1, sizeof(dasf_drain_state));
}

void dasf_drain_state_free(dasf_drain_state *ds) {
    free(ds);
}

/* A "dasf.dropped" instant event (args {count: n}) in the chunk being
 * built: where the loss happened, in the file. */
int dasf_enc_add_dropped(dasf_chunk_enc *enc, int64_t pid, int64_t tid, uint64_t n) {
    dasf_arg a = DASF_ARG_U64("count", n);
    dasf_enc_event e;
    memset(&e, 0, sizeof e);
    e.name = "dasf.dropped";
    e.name_len = strlen(e.name);
    e.phase = DASF_PHASE_INSTANT;
    e.scope = DASF_SCOPE_THREAD;
    e.ts_ns = dasf_now_ns();
    e.ns_exact = 1;
    e.pid = dasf_id_int(pid);
    e.tid = dasf_id_int(tid);
    e.args = &a;
    e.n_args = 1;
    return dasf_chunk_enc_add(enc, &e);
}

static void add_dropped_event(dasf_filedb *db, int64_t pid, int64_t tid, uint64_t n) {
    if (dasf_enc_add_dropped(db->enc, pid, tid, n) == 0)
        db->enc_markers++;
    else
        db->drop_carry += n; /* no memory for the marker: carried to the next chunk */
}

/* Finishes the chunk being built into the pending list.  `dropped` is
 * the sum of the dasf.dropped markers already in it.  Drops not yet in
 * any file (drop_carry: markers of chunks thrown away below) go into this
 * chunk first, even one without events, so a loss reaches the file as
 * soon as any chunk does: the file's events (markers aside) plus its drop
 * counts equal what was recorded. */
static int push_chunk(dasf_filedb *db, uint64_t dropped) {
    if (db->drop_carry) {
        uint64_t carry = db->drop_carry;
        db->drop_carry = 0;
        uint64_t before = db->enc_markers;
        add_dropped_event(db, getpid(), 0, carry);
        if (db->enc_markers != before) dropped += carry;
    }
    size_t n = dasf_chunk_enc_count(db->enc);
    if (n == 0) return DASF_OK;
    uint64_t markers = db->enc_markers;
    dasf_pending *pc = calloc(1, sizeof *pc);
    if (!pc) return DASF_ENOMEM;
    dasf_chunk_origin o = {.pid = getpid(),
                           .host = dasf_hostname(),
                           .clock = "monotonic",
                           .realtime_offset_ns = dasf_realtime_offset_ns(),
                           .dropped = dropped};
    if (db->n_ranges) {
        o.src = dasf_shm_src();
        o.ranges = db->ranges;
        o.n_ranges = db->n_ranges;
    }
    o.shm_fallback = db->n_fallback;
    int rc = dasf_chunk_enc_finish(db->enc, &o, &pc->bytes);
    if (rc) {
        free(pc);
        return rc;
    }
    db->enc_markers = 0;
    db->n_ranges = 0;
    db->n_fallback = 0;
    pc->events = n;
    return dasf_flusher_keep_chunk(db, pc, markers, dropped);
}

int dasf_flusher_keep_chunk(dasf_filedb *db, dasf_pending *pc, uint64_t markers, uint64_t dropped) {
    uint64_t n = pc->events;
    __atomic_store_n(&db->st_recorded, db->st_recorded + (n - markers), __ATOMIC_RELAXED);
    if (db->overflow != DASF_OVERFLOW_BLOCK && /* DROP, and OVERWRITE's snapshots */
        db->pending_bytes + pc->bytes.len > db->opts.max_pending_bytes) {
        /* Past the cap of unwritten data: the DROP policy applies.  Its
         * events are dropped now; they and the drops its markers carried
         * go to the next chunk that is kept. */
        uint64_t lost = n - markers;
        __atomic_add_fetch(&db->st_dropped, lost, __ATOMIC_RELAXED);
        db->drop_carry += lost + dropped;
        dasf_buf_free(&pc->bytes);
        free(pc);
        return DASF_OK;
    }
    if (db->pending_tail)
        db->pending_tail->next = pc;
    else
        db->pending_head = pc;
    db->pending_tail = pc;
    __atomic_store_n(&db->pending_bytes, db->pending_bytes + pc->bytes.len, __ATOMIC_RELAXED);
    return DASF_OK;
}

int dasf_flusher_carry_drops(dasf_filedb *db) {
    return db->drop_carry ? push_chunk(db, 0) : DASF_OK;
}

/* Encodes ring r's records [t, h) into enc, or until the chunk is full
 * (*full set); returns where it stopped.  Records it cannot decode are
 * counted in *bad.  Nothing is released here. */
uint64_t dasf_drain_span(dasf_chunk_enc *enc, dasf_drain_state *ds, const dasf_ring *r,
                         uint64_t t, uint64_t h, uint64_t *bad, int *full) {
    *full = 0;
    dasf_enc_memo *memo = memo_for(ds->memos, r);
    while (t < h) {
        if (dasf_chunk_enc_full(enc)) {
            *full = 1;
            break;
        }
        const dasf_rec *rec = (const dasf_rec *)(r->buf + (t & r->mask));
        uint64_t size = rec->size;
        if (size < DASF_REC_SIZE || (size & (DASF_REC_SIZE - 1)) || (t & r->mask) + size > r->cap ||
            size > h - t) {
            /* Only a record garbled by a signal handler can look like this:
             * skip what is published and count it as lost. */
            (*bad)++;
            t = h;
            break;
        }
        /* Straight into the chunk (encode/ring_enc.c).  Validated at
         * record time, so a failure here is ENOMEM or an unknown name
         * handle: counted as dropped, never silent. */
        if (!((rec->word >> 40) & DASF_RF_PAD) && dasf_chunk_enc_add_rec(enc, r, rec, memo) != 0)
            (*bad)++;
        t += size;
    }
    return t;
}

/* Drains one ring into the flusher's encoder up to its current head, or
 * until the chunk is full (*full set); returns the new tail (not yet
 * released). */
static uint64_t drain_ring(dasf_filedb *db, dasf_ring *r, dasf_drain_state *ds, int *full) {
    uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    return dasf_drain_span(db->enc, ds, r, r->consumed, h, &db->dropped_unreported, full);
}

int dasf_drain_all(dasf_filedb *db, dasf_drain_state *ds) {
    int rc = DASF_OK;
    uint64_t dropped_total = 0;
    dasf_rcu_read_lock();
    dasf_ring *r;
    DASF_LIST_EACH_RCU(dasf_ring, r, &db->rings, node) {
        int full;
        do {
            /* A chunk names at most DASF_CHUNK_MAX_RANGES shared rings. */
            if (r->shm_index && db->n_ranges == DASF_CHUNK_MAX_RANGES) {
                rc = push_chunk(db, dropped_total);
                dropped_total = 0;
                if (rc) break;
            }
            uint64_t from = r->consumed;
            uint64_t new_tail = drain_ring(db, r, ds, &full);
            if (r->shm_index && new_tail != from)
                db->ranges[db->n_ranges++] = (dasf_ring_range){r->shm_index, from, new_tail};
            if (r->shm_fallback && new_tail != from) db->n_fallback++;
            uint64_t d = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
            if (d != r->dropped_seen) {
                uint64_t before = db->enc_markers;
                add_dropped_event(db, r->pid, r->tid, d - r->dropped_seen);
                __atomic_add_fetch(&db->st_dropped, d - r->dropped_seen, __ATOMIC_RELAXED);
                if (db->enc_markers != before) dropped_total += d - r->dropped_seen;
                __atomic_store_n(&r->dropped_seen, d, __ATOMIC_RELAXED);
            }
            /* Encoded into the chunk: the chunk is pushed before anything
             * can fail, so releasing the ring space now loses nothing —
             * except on ENOMEM in push_chunk, which is reported.  A shared
             * ring keeps its records until the chunk is written
             * (release_shared, after the append). */
            r->consumed = new_tail;
            if (!r->shm_index) __atomic_store_n(&r->tail, new_tail, __ATOMIC_RELEASE);
            if (full || dasf_chunk_enc_full(db->enc)) {
                /* Chunks stay within the reader's bounds (DASF_CHUNK_*). */
                rc = push_chunk(db, dropped_total);
                dropped_total = 0;
            }
        } while (full && rc == DASF_OK);
        if (rc) break;
    }
    dasf_rcu_read_unlock();
    if (db->dropped_unreported) {
        __atomic_add_fetch(&db->st_dropped, db->dropped_unreported, __ATOMIC_RELAXED);
        uint64_t before = db->enc_markers;
        add_dropped_event(db, getpid(), 0, db->dropped_unreported);
        if (db->enc_markers != before) dropped_total += db->dropped_unreported;
        db->dropped_unreported = 0;
    }
    if (rc == DASF_OK) rc = push_chunk(db, dropped_total);
    /* Producers blocked on a full ring can go on. */
    __atomic_add_fetch(&db->drain_seq, 1, __ATOMIC_RELEASE);
    dasf_futex_wake(&db->drain_seq, INT32_MAX);
    return rc;
}
