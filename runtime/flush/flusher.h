/*
 * flusher.h — the FileDatabase's background thread (flusher.c; not
 * installed).
 *
 * Started, woken, committed and stopped from app threads (db.c,
 * profiler.c, ring.c, registry.c); everything else runs on the flusher.
 */
#ifndef DASF_FLUSHER_H
#define DASF_FLUSHER_H

#include "rt.h"

/* ---- flusher.c ----------------------------------------------------------- */
DASF_HIDDEN int dasf_flusher_start(dasf_filedb *db);
DASF_HIDDEN void dasf_flusher_wake(dasf_filedb *db);
/* Synchronous barrier (see dasf_profiler_commit). */
DASF_HIDDEN int dasf_flusher_commit(dasf_filedb *db);
/* One request of a kind (commits: commit_req/done/status; snapshots,
 * flight.c: snap_*): counted under commit_lock, the flusher started and
 * woken, answered once a cycle covered it (commit_cond).  @return its status. */
DASF_HIDDEN int dasf_flusher_request(dasf_filedb *db, uint64_t *req, const uint64_t *done,
                                     const int *status);
/* Stops the flusher; commit_on_close → final drain + append. */
DASF_HIDDEN int dasf_flusher_stop(dasf_filedb *db, int commit);
/* Child side of fork: forget the parent's flusher-private state. */
DASF_HIDDEN void dasf_flusher_reset_after_fork(dasf_filedb *db);
/* Frees the flusher's private state (encoder, chunk buffer, unwritten
 * chunks, file descriptor); the flusher must not be running. */
DASF_HIDDEN void dasf_flusher_free_state(dasf_filedb *db);

/* Names the calling library thread (top, perf, the bench) without going
 * through anything a preload wraps. */
DASF_HIDDEN void dasf_thread_name(const char *name);

/* futex helpers (the flusher sleeps on db->wake_seq, blocked producers on
 * db->drain_seq) */
DASF_HIDDEN void dasf_futex_wake(uint32_t *addr, int n);
DASF_HIDDEN void dasf_futex_wait(uint32_t *addr, uint32_t val, double timeout_s);

#endif
