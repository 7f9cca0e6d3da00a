/*
 * workers_job.c — what a compression worker does with a job: decode,
 * encode and compress its ring ranges into finished chunks, exactly as the
 * flusher's drain does inline (dasf_drain_span, dasf.dropped markers).
 *
 * Runs on a worker thread, outside the pool lock: the job is the worker's
 * until it sets done (workers.c).  Invariants: reads the rings' records in
 * [from, to) only (the flusher does not release them before the job is
 * collected); writes only the job and the worker's own encoder.
 */
#include "workers_pool.h"

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
    if (n == 0) return;
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
    /* No "src"/"rings" here: with workers a shared ring's space is released
     * when its chunk comes back, before the append (docs/RUNTIME.md). */
    dasf_chunk_origin o = {.pid = getpid(),
                           .host = dasf_hostname(),
                           .clock = "monotonic",
                           .realtime_offset_ns = dasf_realtime_offset_ns(),
                           .dropped = w->dropped};
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
            t = dasf_drain_span(w->enc, w->ds, g->ring, t, g->to, &bad, &full);
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

