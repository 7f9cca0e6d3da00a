/*
 * workers_pool.h — the compression workers' pool, its jobs and workers
 * (workers.c: threads, hand-off, collect, fork; workers_job.c: what a
 * worker does with a job).  Private to those two files.
 */
#ifndef DASF_WORKERS_POOL_H
#define DASF_WORKERS_POOL_H

/* Only leaf headers here: flusher.c includes workers.h, so a flusher
 * header here would be an include cycle (test_modules_runtime). */
#include "encode.h"
#include "rt.h"

#include <pthread.h>

typedef struct dasf_drain_state dasf_drain_state; /* drain.h */

typedef struct pool_range {
    dasf_ring *ring;
    uint64_t from, to; /* ring positions; from == to: only drops to report */
    int64_t pid, tid;  /* the ring's, for its dasf.dropped marker */
    uint64_t drops;    /* the ring's drops seen at hand-off: a marker after its records */
} pool_range;

typedef struct pool_chunk {
    dasf_pending *pc;
    uint64_t markers, dropped; /* dasf.dropped markers in it and the drops they carry */
} pool_chunk;

typedef struct pool_job {
    struct pool_job *next;      /* hand-off order (the jobs list) */
    struct pool_job *next_todo; /* not started yet */
    uint64_t seq;
    pool_range *ranges;
    size_t n_ranges, cap_ranges;
    uint64_t bytes; /* ring bytes in the ranges */
    /* Results (the worker's until done is set under the pool lock). */
    pool_chunk *chunks;
    size_t n_chunks, cap_chunks;
    uint64_t held;  /* bytes of those chunks */
    uint64_t carry; /* drops whose marker could not be encoded (no memory) */
    int rc;
    int done;
} pool_job;

typedef struct pool_worker {
    struct dasf_pool *pool;
    pthread_t thread;
    dasf_chunk_enc *enc;
    dasf_drain_state *ds;
    uint64_t markers, dropped; /* in the chunk being built */
    dasf_ring_range ranges[DASF_CHUNK_MAX_RANGES]; /* its shared-ring ranges ("rings") */
    size_t n_ranges;
    uint32_t n_fallback; /* its ranges of fallen-back rings ("shm_fallback") */
} pool_worker;

/* A shared ring's space that goes back once the chunks holding its
 * records were appended (dasf_pool_release_shared). */
typedef struct pool_release {
    dasf_ring *ring;
    uint64_t to;
} pool_release;

struct dasf_pool {
    dasf_filedb *db;
    int n;
    pool_worker *w;
    pthread_mutex_t lock;
    pthread_cond_t work; /* workers: a job queued, stop, or the fork pause over */
    pthread_cond_t done; /* the flusher and fork_prepare: a job finished */
    /* Under lock. */
    pool_job *jobs_head, *jobs_tail; /* handed off, not collected, in order */
    pool_job *todo_head, *todo_tail; /* not started */
    size_t undone;                   /* handed off, not finished */
    int busy;                        /* workers inside a job */
    int paused, stop;
    uint64_t held; /* bytes of chunks in finished, uncollected jobs (also read relaxed) */
    /* Flusher-private. */
    uint64_t job_bytes;
    uint64_t next_seq;
    size_t open; /* handed off, not collected */
    size_t max_open;
    pool_release *rel; /* collected shared ranges, in order, not yet released */
    size_t n_rel, cap_rel;
};

/* ---- workers_job.c ------------------------------------------------------- */
/* Frees a job with the chunks it still holds. */
DASF_HIDDEN void dasf_pool_job_free(pool_job *j);
/* What the flusher's drain does for the job's ranges, into w's encoder:
 * its finished chunks into j->chunks (worker thread, outside the lock). */
DASF_HIDDEN void dasf_pool_run_job(pool_worker *w, pool_job *j);

#endif
