/*
 * workers_job.c — what a compression worker does with a job: decode,
 * encode and compress its ring ranges into finished chunks, exactly as the
 * flusher's drain does inline (dasf_drain_span, dasf.dropped markers).
 *
 * Runs on a worker thread, outside the pool lock: the job is the worker's
 * until it sets done (workers.c).  Invariants: reads the rings' records in
 * [from, to) only (the flusher does not release them before the job is
 * collected); writes only the job and the worker's own encoder; each
 * chunk names the shared-ring ranges [from, to) whose records it holds
 * (metadata "src"/"rings", at most DASF_CHUNK_MAX_RANGES), as the
 * flusher's own chunks do, so a recoverer never writes them again.
 */
#include "workers_pool.h"
#include "drain.h"
#include "shm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dasf_pool_job_free(pool_job *j) {
    for (size_t i = 0; i < j->n_chunks; i++) {
        if (!j->chunks[i].pc) continue;
        dasf_buf_free(&j->chunks[i].pc->bytes);
        free(j->chunks[i].pc);
    }
    free(j->chunks);
    free(j->ranges);
    free(j);
}

/* The chunk the worker is building goes into the job's results. */
static void finish_chunk(pool_worker *w, pool_job *j) {
    size_t n = dasf_chunk_enc_count(w->enc);
    if (n == 0) { /* its ranges held pads only: nothing to name */
        w->n_ranges = 0;
        w->n_fallback = 0;
        return;
    }
    if (j->n_chunks == j->cap_chunks) {
        size_t cap = j->cap_chunks ? j->cap_chunks * 2 : 2;
        pool_chunk *c = realloc(j->chunks, cap * sizeof *c);
        if (!c) {
            j->rc = DASF_ENOMEM; /* the events stay in the encoder: its next chunk */
            return;
        }
        j->chunks = c;
        j->cap_chunks = cap;
    }
    dasf_pending *pc = calloc(1, sizeof *pc);
    if (!pc) {
        j->rc = DASF_ENOMEM;
        return;
    }
    dasf_chunk_origin o = {.pid = getpid(),
                           .host = dasf_hostname(),
                           .clock = "monotonic",
                           .realtime_offset_ns = dasf_realtime_offset_ns(),
                           .dropped = w->dropped,
                           .shm_fallback = w->n_fallback};
    if (w->n_ranges) { /* a shared ring's space goes back after the append (workers.c) */
        o.src = dasf_shm_src();
        o.ranges = w->ranges;
        o.n_ranges = w->n_ranges;
    }
    int rc = dasf_chunk_enc_finish(w->enc, &o, &pc->bytes);
    if (rc) { /* as the flusher's push_chunk: the events stay in the encoder */
        free(pc);
        j->rc = rc;
        return;
    }
    pc->events = n;
    j->chunks[j->n_chunks++] = (pool_chunk){pc, w->markers, w->dropped};
    j->held += pc->bytes.len;
    w->markers = w->dropped = 0;
    w->n_ranges = 0;
    w->n_fallback = 0;
}

/* Ring r's records [from, to) just went into the chunk being built: a
 * shared ring's range into its metadata (merged with the chunk's last
 * range when it continues it), a fallen-back ring counted. */
static void note_range(pool_worker *w, const dasf_ring *r, uint64_t from, uint64_t to) {
    if (to == from) return;
    if (r->shm_fallback) w->n_fallback++;
    if (!r->shm_index) return;
    dasf_ring_range *last = w->n_ranges ? &w->ranges[w->n_ranges - 1] : NULL;
    if (last && last->index == r->shm_index && last->to == from)
        last->to = to;
    else
        w->ranges[w->n_ranges++] = (dasf_ring_range){r->shm_index, from, to};
}

static void add_marker(pool_worker *w, pool_job *j, int64_t pid, int64_t tid, uint64_t n) {
    if (dasf_chunk_enc_full(w->enc)) finish_chunk(w, j);
    if (dasf_enc_add_dropped(w->enc, pid, tid, n) == 0) {
        w->markers++;
        w->dropped += n;
    } else {
        j->carry += n; /* carried to the next chunk the flusher keeps */
    }
}

/* How many records r holds in [t, h) (a garbled one ends the count). */
static uint64_t records_in(const dasf_ring *r, uint64_t t, uint64_t h) {
    uint64_t n = 0;
    while (t < h) {
        uint64_t size = ((const dasf_rec *)(r->buf + (t & r->mask)))->size;
        n++;
        if (size < DASF_REC_SIZE || size > h - t) break;
        t += size;
    }
    return n;
}

/* What the flusher's drain_all does for these ranges, into w's encoder. */
void dasf_pool_run_job(pool_worker *w, pool_job *j) {
    uint64_t bad = 0;
    for (size_t i = 0; i < j->n_ranges; i++) {
        const pool_range *g = &j->ranges[i];
        uint64_t t = g->from;
        while (t < g->to) {
            int full;
            if (g->ring->shm_index && w->n_ranges == DASF_CHUNK_MAX_RANGES) {
                finish_chunk(w, j); /* a chunk names at most that many shared ranges */
                if (w->n_ranges == DASF_CHUNK_MAX_RANGES) { /* no memory: lost, counted */
                    bad += records_in(g->ring, t, g->to);
                    break;
                }
            }
            uint64_t from = t;
            t = dasf_drain_span(w->enc, w->ds, g->ring, t, g->to, &bad, &full);
            note_range(w, g->ring, from, t);
            if (full) finish_chunk(w, j);
            if (full && j->rc) { /* no memory: the rest of the range is lost, counted */
                bad += records_in(g->ring, t, g->to);
                break;
            }
        }
        if (g->drops) add_marker(w, j, g->pid, g->tid, g->drops);
    }
    if (bad) {
        __atomic_add_fetch(&w->pool->db->st_dropped, bad, __ATOMIC_RELAXED);
        add_marker(w, j, getpid(), 0, bad);
    }
    finish_chunk(w, j);
}

