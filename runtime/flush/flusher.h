/*
 * flusher.h — the FileDatabase's background thread (flusher.c; not
 * installed).
 *
 * Started, committed and stopped from app threads (db.c, registry.c;
 * ring.c starts it through db->start_flusher); everything else runs on the
 * flusher.  Waking it (dasf_flusher_wake) and the futex helpers are in
 * common/futex.h, so the stages below the flusher need not include this.
 */
#ifndef DASF_FLUSHER_H
#define DASF_FLUSHER_H

#include "rt.h"

/* ---- flusher.c ----------------------------------------------------------- */
DASF_HIDDEN int dasf_flusher_start(dasf_filedb *db);
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

/* ---- flight.c: the flight recorder's snapshots (DASF_OVERFLOW_OVERWRITE) ----
 * check_modules: implemented by flight.c — a part of the flusher, declared
 * here so the cycle calls it without flusher.c depending on another module.
 * Each producer keeps its newest ring_capacity bytes (ring.c
 * make_room_overwrite) and nothing drains; a snapshot writes each ring's
 * window once.  Requested from app threads and the committer
 * (dasf_flusher_snapshot), taken on the flusher thread (dasf_flight_take,
 * inside its cycle). */
/* dasf_profiler_snapshot: OVERWRITE → ask the flusher for a snapshot and
 * wait for it (synchronous, like commit); other policies → a commit.
 * @return 0 or the commit/append status (DASF_ECLOSED when the database
 * closed before the snapshot was taken). */
DASF_HIDDEN int dasf_flusher_snapshot(dasf_filedb *db);

/* Flusher thread, inside a cycle (cycle_lock held): copies every ring's
 * window into chunks marked as snapshot db->snap_count + 1, in the
 * pending list (written by the cycle's append).  @return 0 or the
 * encoder's error (ENOMEM). */
DASF_HIDDEN int dasf_flight_take(dasf_filedb *db);
/* Flusher thread, after the cycle that served snapshot requests up to
 * `req`: answers their callers with rc. */
DASF_HIDDEN void dasf_flight_answer(dasf_filedb *db, uint64_t req, int rc);
/* Flusher thread, on its way out: requests not served get DASF_ECLOSED. */
DASF_HIDDEN void dasf_flight_answer_rest(dasf_filedb *db);
/* A flight ring of an exited thread may go: its window is written. */
DASF_HIDDEN int dasf_flight_ring_done(const dasf_ring *r);
/* Frees the copy buffer (flusher not running); fork child: also forgets
 * the parent's requests. */
DASF_HIDDEN void dasf_flight_free(dasf_filedb *db);
DASF_HIDDEN void dasf_flight_reset_after_fork(dasf_filedb *db);

#endif
