/*
 * flight.c — the flight recorder (DASF_OVERFLOW_OVERWRITE): snapshots.
 *
 * Threads: dasf_flusher_snapshot runs on app threads and on the committer
 * thread (snapshot and commit signals, the crash handler: all through
 * dasf_registry_commit_all); everything else on the flusher, inside its
 * cycle (cycle_lock held).
 *
 * Nothing drains the rings: each producer overwrites its oldest records
 * (ring.c make_room_overwrite) and moves tail itself.  A snapshot copies a
 * ring's window [max(tail, snap_pos), head) while its producer goes on,
 * then re-reads tail: the producer publishes a new tail before it
 * overwrites what the old one kept, so the copy's records from the re-read
 * tail on are intact, and those before it are dropped — they were
 * overwritten, and ow_events (read with tail as one pair) counts them.
 *
 * Invariants:
 *  - a record is written by at most one snapshot (snap_pos), never torn;
 *  - a chunk holds one ring's records, marked "snapshot" (the n-th of the
 *    process) with "overwritten"/"overwritten_bytes" (lost since that
 *    ring's previous snapshot, on the window's first chunk), so per thread
 *    the records in the file plus the overwritten counts equal what it
 *    recorded;
 *  - the flusher never moves a flight ring's tail (the producer owns it);
 *    a snapshot chunk of a shared ring names its range (src, rings), so a
 *    recoverer of a killed process (recover/recover.c) starts after what
 *    the snapshots wrote and writes the rest of the window, never twice;
 *  - rings of exited threads stay until a snapshot has written their
 *    window (dasf_flight_ring_done).
 * Its interface is in flusher.h (a part of the flusher: the cycle calls it).
 */
#include "flusher.h"
#include "shm.h"
#include "drain.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- requests (app threads, committer) -------------------------------------------- */

int dasf_flusher_snapshot(dasf_filedb *db) {
    if (db->overflow != DASF_OVERFLOW_OVERWRITE) return dasf_flusher_commit(db);
    return dasf_flusher_request(db, &db->snap_req, &db->snap_done, &db->snap_status);
}

void dasf_flight_answer(dasf_filedb *db, uint64_t req, int rc) {
    pthread_mutex_lock(&db->commit_lock);
    if (req > db->snap_done) db->snap_done = req;
    db->snap_status = rc;
    pthread_cond_broadcast(&db->commit_cond);
    pthread_mutex_unlock(&db->commit_lock);
}

void dasf_flight_answer_rest(dasf_filedb *db) {
    pthread_mutex_lock(&db->commit_lock);
    if (db->snap_done < db->snap_req) {
        db->snap_done = db->snap_req;
        db->snap_status = DASF_ECLOSED;
    }
    pthread_cond_broadcast(&db->commit_cond);
    pthread_mutex_unlock(&db->commit_lock);
}

/* ---- reading a window while its producer overwrites it ------------------------------ */

/* tail and ow_events as one consistent pair (the producer's seqlock).  A
 * producer stopped for good inside its update (it crashed there) would
 * keep ow_seq odd: after ~100k tries take the values as they are. */
static void ow_read(const dasf_ring *r, uint64_t *tail, uint64_t *events) {
    for (unsigned i = 0;; i++) {
        uint32_t s1 = __atomic_load_n(&r->ow_seq, __ATOMIC_ACQUIRE);
        uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
        uint64_t n = __atomic_load_n(&r->ow_events, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint32_t s2 = __atomic_load_n(&r->ow_seq, __ATOMIC_RELAXED);
        if ((s1 == s2 && !(s1 & 1)) || i >= 100000) {
            *tail = t;
            *events = n;
            return;
        }
        if (i >= 64) sched_yield();
    }
}

/* Copies ring bytes [from, to) (logical positions, to - from <= cap) to
 * out.  The producer may be overwriting some of them meanwhile: a
 * deliberate race whose result is checked against tail afterwards (only
 * bytes the re-read tail still covers are used).  Word by word with
 * volatile loads, so the compiler can neither split nor repeat a load, and
 * not seen by ThreadSanitizer (it would report the race the check makes
 * harmless; the order that matters is the fences around it). */
__attribute__((no_sanitize("thread"))) static void copy_window(const dasf_ring *r, uint64_t from,
                                                               uint64_t to, uint8_t *out) {
    while (from < to) {
        uint64_t off = from & r->mask;
        uint64_t n = to - from < r->cap - off ? to - from : r->cap - off;
        const volatile uint64_t *src = (const volatile uint64_t *)(r->buf + off);
        uint64_t *dst = (uint64_t *)out;
        for (uint64_t i = 0; i < n / 8; i++) dst[i] = src[i];
        out += n;
        from += n;
    }
}

/* ---- one ring's window into chunks ----------------------------------------------- */

/* Drops the encoder's events (a chunk that could not be finished): they
 * are still in the ring below the snapshot's new start, so the next
 * snapshot takes them again, or counts them as overwritten. */
static void enc_discard(dasf_filedb *db) {
    dasf_chunk_enc *e;
    if (dasf_chunk_enc_create(&e, db->opts.compression_level, db->opts.default_byte_size))
        return; /* no memory even for that: they go with the next chunk */
    dasf_chunk_enc_destroy(db->enc);
    db->enc = e;
    db->enc_markers = 0;
}

/* Finishes the chunk being built — ring r's records [from, to) — into the
 * pending list, marked as this snapshot with ow/ow_bytes overwritten;
 * `dropped` is what its dasf.dropped markers carry.  Drops carried from
 * chunks thrown away at max_pending_bytes go into it first. */
static int snap_push(dasf_filedb *db, const dasf_ring *r, uint64_t from, uint64_t to,
                     uint64_t ow, uint64_t ow_bytes, uint64_t dropped) {
    if (db->drop_carry && dasf_enc_add_dropped(db->enc, getpid(), 0, db->drop_carry) == 0) {
        db->enc_markers++;
        dropped += db->drop_carry;
        db->drop_carry = 0;
    }
    size_t n = dasf_chunk_enc_count(db->enc);
    if (n == 0) return DASF_OK;
    dasf_pending *pc = calloc(1, sizeof *pc);
    if (!pc) return DASF_ENOMEM;
    dasf_ring_range rg = {r->shm_index, from, to};
    dasf_chunk_origin o = {.pid = getpid(),
                           .host = dasf_hostname(),
                           .clock = "monotonic",
                           .realtime_offset_ns = dasf_realtime_offset_ns(),
                           .dropped = dropped,
                           .shm_fallback = r->shm_fallback ? 1 : 0,
                           .snapshot = db->snap_count,
                           .overwritten = ow,
                           .overwritten_bytes = ow_bytes};
    if (r->shm_index) { /* what a recoverer of this process must not write again */
        o.src = dasf_shm_src();
        o.ranges = &rg;
        o.n_ranges = 1;
    }
    int rc = dasf_chunk_enc_finish(db->enc, &o, &pc->bytes);
    if (rc) {
        free(pc);
        return rc;
    }
    uint64_t markers = db->enc_markers;
    db->enc_markers = 0;
    pc->events = n;
    return dasf_flusher_keep_chunk(db, pc, markers, dropped);
}

static int snapshot_ring(dasf_filedb *db, dasf_ring *r) {
    uint64_t t0, n0, t1, n1;
    ow_read(r, &t0, &n0);
    uint64_t h0 = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t from = t0 > r->snap_pos ? t0 : r->snap_pos;
    if (from >= h0) return DASF_OK; /* nothing new since the last snapshot */
    copy_window(r, from, h0, db->snap_buf);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ow_read(r, &t1, &n1);
    /* All of the copy overwritten meanwhile (t1 >= h0): nothing to write
     * now; snap_pos stays, so the next snapshot counts the loss. */
    if (t1 >= h0) return DASF_OK;
    /* Records lost since the previous snapshot: those before t1 it had not
     * written.  start = max(t1, from). */
    int lost = t1 > r->snap_pos;
    uint64_t start = lost ? t1 : r->snap_pos;
    uint64_t before = lost ? n1 : r->snap_recs; /* records before start */
    uint64_t ow = lost ? n1 - r->snap_recs : 0, ow_bytes = lost ? t1 - r->snap_pos : 0;
    uint64_t p = start, cfrom = start, recs = 0, cfrom_recs = 0, bad = 0;
    int rc = DASF_OK, pushed = 0;
    while (p < h0) {
        if (dasf_chunk_enc_full(db->enc)) { /* chunks stay within the reader's bounds */
            rc = snap_push(db, r, cfrom, p, ow, ow_bytes, 0);
            if (rc) break;
            pushed = 1;
            ow = ow_bytes = 0;
            cfrom = p;
            cfrom_recs = recs;
        }
        const dasf_rec *rec = (const dasf_rec *)(db->snap_buf + (p - from));
        uint64_t size = rec->size;
        if (size < DASF_REC_SIZE || (size & (DASF_REC_SIZE - 1)) || size > h0 - p) {
            /* Garbled by a signal handler that recorded on top of its own
             * thread's record (as in dasf_drain_span): no boundary to trust
             * below head; lost, counted. */
            recs += (h0 - p) / DASF_REC_SIZE;
            bad++;
            p = h0;
            break;
        }
        if (!((rec->word >> 40) & DASF_RF_PAD)) {
            recs++;
            if (dasf_chunk_enc_add_rec(db->enc, r, rec, NULL) != 0) bad++;
        }
        p += size;
    }
    uint64_t dropped = 0;
    if (rc == DASF_OK && bad) {
        __atomic_add_fetch(&db->st_dropped, bad, __ATOMIC_RELAXED);
        if (dasf_enc_add_dropped(db->enc, r->pid, r->tid, bad) == 0) {
            db->enc_markers++;
            dropped = bad;
        } else {
            db->drop_carry += bad;
        }
    }
    if (rc == DASF_OK) {
        uint64_t n = dasf_chunk_enc_count(db->enc);
        rc = snap_push(db, r, cfrom, p, ow, ow_bytes, dropped);
        if (rc == DASF_OK) pushed |= n > 0;
    }
    if (rc) { /* [cfrom, p) stays in the ring for the next snapshot */
        enc_discard(db);
        p = cfrom;
        recs = cfrom_recs;
        if (!pushed) return rc;
    } else if (!pushed && lost) {
        return DASF_OK; /* nothing written (a PAD only): keep the loss for the next one */
    }
    r->snap_pos = p;
    r->snap_recs = before + recs;
    return rc;
}

int dasf_flight_take(dasf_filedb *db) {
    if (!db->snap_buf) {
        /* Address space only until a snapshot touches it. */
        void *m = mmap(NULL, db->ring_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (m == MAP_FAILED) return DASF_ENOMEM;
        db->snap_buf = m;
    }
    db->snap_count++;
    int rc = DASF_OK;
    dasf_rcu_read_lock();
    dasf_ring *r;
    DASF_LIST_EACH_RCU(dasf_ring, r, &db->rings, node) {
        int r_rc = snapshot_ring(db, r);
        if (r_rc && !rc) rc = r_rc; /* the other rings are still written */
    }
    dasf_rcu_read_unlock();
    return rc;
}

int dasf_flight_ring_done(const dasf_ring *r) {
    return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) <= r->snap_pos;
}

void dasf_flight_free(dasf_filedb *db) {
    if (db->snap_buf) munmap(db->snap_buf, db->ring_cap);
    db->snap_buf = NULL;
}

void dasf_flight_reset_after_fork(dasf_filedb *db) {
    db->snap_req = db->snap_done = db->snap_count = 0;
    db->snap_status = 0;
}
