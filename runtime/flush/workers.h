/*
 * workers.h — compression workers of a FileDatabase (workers.c; what they
 * share with the flusher's drain is in drain.h).  Not installed.
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

#include "drain.h"

/* ---- workers.c --------------------------------------------------------- */
/* Starts n workers for db (flusher thread not running yet).  On failure
 * (a thread that cannot be created, no memory) db->pool stays NULL and the
 * flusher works inline.  @return 0 or DASF_ENOMEM. */
DASF_HIDDEN int dasf_pool_start(dasf_filedb *db, int n);
/* Hands everything new in the rings to the workers (flusher thread, in a
 * cycle).  barrier: no bound on the queue, so a commit's records all go. */
DASF_HIDDEN int dasf_pool_dispatch(dasf_filedb *db, int barrier);
/* Takes finished chunks back in hand-off order into the pending list and
 * gives their anonymous rings' space back; shared rings' space waits for
 * dasf_pool_release_shared (flusher thread).  wait: first waits until
 * every hand-off so far is finished. */
DASF_HIDDEN int dasf_pool_collect(dasf_filedb *db, int wait);
/* After the append attempt of the collected chunks (flusher thread, as
 * the inline drain's release_shared): shared rings' space goes back, and
 * producers waiting for it are woken. */
DASF_HIDDEN void dasf_pool_release_shared(dasf_filedb *db);
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
