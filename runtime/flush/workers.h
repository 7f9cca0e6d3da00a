/*
 * workers.h — compression workers of a FileDatabase (workers.c) and the
 * pieces of the flusher they share (flusher.c).  Not installed.
 *
 * The flusher hands ring ranges to the workers (dispatch), each worker
 * decodes, encodes and compresses them into finished chunks with its own
 * encoder (its own ZSTD_CCtx), and the flusher takes the chunks back in
 * hand-off order (collect) into its pending list, the one appender.  So the
 * file holds the same chunks, in the same order per thread, as when the
 * flusher does all of it.
 */
#ifndef DASF_WORKERS_H
#define DASF_WORKERS_H

#include "flusher.h"
#include "encode.h"

/* ---- flusher.c, shared with the workers -------------------------------- */
typedef struct dasf_drain_state dasf_drain_state; /* decode scratch + per-ring memos */
DASF_HIDDEN dasf_drain_state *dasf_drain_state_new(void);
DASF_HIDDEN void dasf_drain_state_free(dasf_drain_state *ds);
/* Encodes ring r's records [t, h) into enc, or until the chunk is full
 * (*full set); returns where it stopped.  Undecodable records are counted
 * in *bad.  Releases nothing. */
DASF_HIDDEN uint64_t dasf_drain_span(dasf_chunk_enc *enc, dasf_drain_state *ds,
                                     const dasf_ring *r, uint64_t t, uint64_t h, uint64_t *bad,
                                     int *full);
/* A "dasf.dropped" marker (args {count: n}) into enc.  @return 0 or the encoder's error. */
DASF_HIDDEN int dasf_enc_add_dropped(dasf_chunk_enc *enc, int64_t pid, int64_t tid, uint64_t n);
/* Flusher thread: a finished chunk (pc->bytes, pc->events; `markers` of
 * them dasf.dropped markers carrying `dropped`) into the pending list, the
 * DROP cap applied as for the flusher's own chunks.  Takes pc. */
DASF_HIDDEN int dasf_flusher_keep_chunk(dasf_filedb *db, dasf_pending *pc, uint64_t markers,
                                        uint64_t dropped);
/* Flusher thread: drops carried from chunks thrown away (DROP cap) go into
 * a chunk of their own now, ahead of the next chunk that is kept. */
DASF_HIDDEN int dasf_flusher_carry_drops(dasf_filedb *db);

/* Names the calling library thread (top, perf, the bench) without going
 * through anything a preload wraps. */
DASF_HIDDEN void dasf_thread_name(const char *name);

/* ---- workers.c --------------------------------------------------------- */
/* Starts n workers for db (flusher thread not running yet).  On failure
 * (a thread that cannot be created, no memory) db->pool stays NULL and the
 * flusher works inline.  @return 0 or DASF_ENOMEM. */
DASF_HIDDEN int dasf_pool_start(dasf_filedb *db, int n);
/* Hands everything new in the rings to the workers (flusher thread, in a
 * cycle).  barrier: no bound on the queue, so a commit's records all go. */
DASF_HIDDEN int dasf_pool_dispatch(dasf_filedb *db, int barrier);
/* Takes finished chunks back in hand-off order into the pending list and
 * gives their ring space back (flusher thread).  wait: first waits until
 * every hand-off so far is finished. */
DASF_HIDDEN int dasf_pool_collect(dasf_filedb *db, int wait);
/* Bytes of finished chunks the workers hold (not yet collected): they count
 * against max_pending_bytes. */
DASF_HIDDEN uint64_t dasf_pool_held_bytes(dasf_filedb *db);
/* Joins the workers and frees what they hold (after the flusher's last
 * cycle: a commit left nothing; without commit it is thrown away). */
DASF_HIDDEN void dasf_pool_stop(dasf_filedb *db);
/* fork: prepare waits until no worker is inside a job and keeps them out
 * (with the flusher's cycle_lock held); parent lets them go on; the child
 * has no workers: it frees the pool and what it held (the parent's). */
DASF_HIDDEN void dasf_pool_fork_prepare(dasf_filedb *db);
DASF_HIDDEN void dasf_pool_fork_parent(dasf_filedb *db);
DASF_HIDDEN void dasf_pool_forget_after_fork(dasf_filedb *db);
/* Tests: the next dasf_pool_start fails as if a thread could not be created. */
DASF_HIDDEN extern int dasf_pool_test_fail_start;

#endif
