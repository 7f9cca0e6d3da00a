/*
 * flight.h — the flight recorder's snapshots (flight.c; not installed).
 *
 * DASF_OVERFLOW_OVERWRITE: each producer keeps its newest ring_capacity
 * bytes (ring.c make_room_overwrite) and nothing drains; a snapshot writes
 * each ring's window once.  Requested from app threads and the committer
 * (dasf_flusher_snapshot), taken on the flusher thread (dasf_flight_take,
 * inside its cycle).
 */
#ifndef DASF_FLIGHT_H
#define DASF_FLIGHT_H

#include "rt.h"

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
