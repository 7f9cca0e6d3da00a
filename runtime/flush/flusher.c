/*
 * flusher.c — one background thread per FileDatabase: drain, encode, append
 * (the drain itself, rings → pending chunks, is drain.c).
 *
 * Woken by a ring crossing commit_threshold, by commit()/close, or by the
 * flush interval.  A cycle: retry unwritten chunks, drain every ring (RCU
 * walk of the registry) into the chunk encoder, release the ring space,
 * append the chunk under the file lock, reap rings of exited threads.
 * Invariants: ring space is released only after its records are encoded
 * into a chunk held in memory (pending list), and a chunk leaves memory
 * only once appended — nothing is lost between the two.  The lock is only
 * ever tried without waiting from here; waiting is done by looping, so
 * recording never blocks on another process holding the file lock (until
 * max_pending_bytes of unwritten chunks pile up).
 * With compression workers (workers.c) a cycle hands ring ranges to them
 * instead of encoding, and takes their chunks back in hand-off order into
 * the pending list before appending; an anonymous ring's space is then
 * released when the chunk is taken back (the same invariant, one step
 * later), a shared ring's after the append, as inline.
 */
#include "flusher.h"
#include "append.h"
#include "clock.h"
#include "ring.h"
#include "workers.h"
#include "drain.h"
#include "shm.h"
#include "futex.h"
#include "libthread.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the cycle --------------------------------------------------------------- */

typedef struct flusher_state {
    dasf_drain_state ds; /* drain.h */
    int barrier; /* a commit or the close waits: hand-offs to workers complete in this cycle */
    int snap;    /* a snapshot is asked for (flight recorder: flight.c) */
    uint64_t snap_served; /* highest snapshot request a cycle took */
    double lock_wait_since; /* 0: not waiting for the file lock */
    double block_since; /* 0: not blocked (BLOCK policy, unwritable file) */
} flusher_state;

/* Appends pending chunks in order; stops at the first failure (the chunk
 * stays for the next try). */
static int write_pending(dasf_filedb *db) {
    while (db->pending_head) {
        dasf_pending *pc = db->pending_head;
        int rc = dasf_file_append(&db->out, db->path, db->layout, pc->bytes.data, pc->bytes.len,
                                  0.0, db->opts.flush, db->opts.follow_symlinks);
        if (rc) {
            __atomic_store_n(&db->st_last_error, rc, __ATOMIC_RELAXED);
            return rc;
        }
        __atomic_add_fetch(&db->st_written, pc->events, __ATOMIC_RELAXED);
        __atomic_add_fetch(&db->st_chunks, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&db->st_bytes, pc->bytes.len, __ATOMIC_RELAXED);
        __atomic_store_n(&db->pending_bytes, db->pending_bytes - pc->bytes.len, __ATOMIC_RELAXED);
        db->pending_head = pc->next;
        if (!db->pending_head) db->pending_tail = NULL;
        dasf_buf_free(&pc->bytes);
        free(pc);
    }
    return DASF_OK;
}

/* Unlinks rings whose thread exited and that are fully drained. */
static void reap_dead(dasf_filedb *db) {
    dasf_ring *r;
    pthread_mutex_lock(&db->reg_lock);
    DASF_LIST_EACH_SAFE(dasf_ring, r, &db->rings, node) {
        int done = db->overflow == DASF_OVERFLOW_OVERWRITE
                       ? dasf_flight_ring_done(r) /* its window is written */
                       : __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == r->tail &&
                             __atomic_load_n(&r->dropped, __ATOMIC_RELAXED) == r->dropped_seen;
        if (__atomic_load_n(&r->dead, __ATOMIC_ACQUIRE) && done) {
            dasf_rcu_list_del(&r->node);
            __atomic_store_n(&r->linked, 0, __ATOMIC_RELEASE);
            dasf_call_rcu(&r->rcu, dasf_ring_free_rcu, r);
        }
    }
    pthread_mutex_unlock(&db->reg_lock);
}

/* BLOCK policy, max_pending_bytes of chunks that cannot be written: the
 * flusher stops draining, so recording threads wait once their ring is
 * full.  Said once per episode on stderr (docs/RUNTIME.md: why it blocks
 * rather than drops), and again when writing works again. */
static void block_notice(dasf_filedb *db, flusher_state *fs, int blocked, int wrc) {
    if (blocked && wrc != DASF_OK && !fs->block_since) {
        fs->block_since = mono_s();
        fprintf(stderr,
                "dasf-profiler: %s: %llu bytes of events could not be written (%s); "
                "max_pending_bytes reached, so recording threads now wait (overflow policy "
                "BLOCK) until the file can be written\n",
                db->path, (unsigned long long)db->pending_bytes, dasf_strerror(wrc));
    } else if (fs->block_since && wrc == DASF_OK) {
        fprintf(stderr, "dasf-profiler: %s: written again after %.1f s; recording goes on\n",
                db->path, mono_s() - fs->block_since);
        fs->block_since = 0;
    }
}

/* Rings → chunks in the pending list: inline (drain_all), or handed to
 * the compression workers and their finished chunks taken back in order
 * (workers.c; with a barrier, every hand-off of this cycle completes). */
static int drain_step(dasf_filedb *db, flusher_state *fs) {
    if (!db->pool) return dasf_drain_all(db, &fs->ds);
    int rc = dasf_pool_dispatch(db, fs->barrier);
    int crc = dasf_pool_collect(db, fs->barrier);
    return rc ? rc : crc;
}

/* After an append attempt: shared rings give their encoded space back.
 * When the chunks were written, the file now has every record below the
 * new tail, so a recoverer starts exactly there.  When they could not be
 * written (lock held, disk full) the space is released all the same, so
 * recording goes on as with anonymous rings: those events then live only
 * in the pending chunks (lost if the process is killed before they are
 * written; docs/RUNTIME.md). */
static void release_shared(dasf_filedb *db) {
    /* With compression workers: the ranges of the chunks collected so far
     * (workers.c), which were just appended too. */
    if (db->pool) {
        dasf_pool_release_shared(db);
        return;
    }
    dasf_rcu_read_lock();
    dasf_ring *r;
    DASF_LIST_EACH_RCU(dasf_ring, r, &db->rings, node) {
        if (r->shm_index && r->tail != r->consumed)
            __atomic_store_n(&r->tail, r->consumed, __ATOMIC_RELEASE);
    }
    dasf_rcu_read_unlock();
    __atomic_add_fetch(&db->drain_seq, 1, __ATOMIC_RELEASE);
    dasf_futex_wake(&db->drain_seq, INT32_MAX);
}

static int cycle(dasf_filedb *db, flusher_state *fs) {
    if (db->overflow == DASF_OVERFLOW_OVERWRITE) {
        /* The flight recorder drains nothing and never moves a tail: a
         * cycle takes the snapshot asked for (flight.c) and writes. */
        int rc = fs->snap ? dasf_flight_take(db) : DASF_OK;
        int wrc = write_pending(db);
        __atomic_store_n(&db->st_flushes, db->st_flushes + 1, __ATOMIC_RELAXED);
        reap_dead(db);
        return rc ? rc : wrc;
    }
    int rc = DASF_OK;
    /* Finished chunks a worker holds until the ones before them are back
     * count as unwritten too (dasf_pool_held_bytes). */
    int blocked = db->overflow == DASF_OVERFLOW_BLOCK &&
                  db->pending_bytes + dasf_pool_held_bytes(db) >= db->opts.max_pending_bytes;
    if (!blocked) rc = drain_step(db, fs);
    int wrc = write_pending(db);
    release_shared(db);
    __atomic_store_n(&db->st_flushes, db->st_flushes + 1, __ATOMIC_RELAXED);
    block_notice(db, fs, blocked, wrc);
    if (blocked && wrc == DASF_OK) {
        rc = drain_step(db, fs), wrc = write_pending(db);
        release_shared(db);
    }
    reap_dead(db);
    return rc ? rc : wrc;
}

/* Closing (stopping == 1, key already 0): a thread that read the key
 * before it went to 0 may publish its record after the cycle that answered
 * the close.  The call returned 0 — the event was accepted — so it must be
 * written, or the exit leaves an undetectable gap.  Each other live thread
 * has at most one such record in flight: drain until none is unread and
 * CLOSE_GRACE has passed since the close began (no wait at all when no
 * other live thread owns a ring, the common close after joining them). */
#define CLOSE_GRACE 0.05

static int close_quiesce(dasf_filedb *db, flusher_state *fs, int rc) {
    if (db->overflow == DASF_OVERFLOW_OVERWRITE) return rc; /* a close writes no window */
    double t0 = mono_s();
    for (;;) {
        int live = 0, unread = 0;
        dasf_rcu_read_lock();
        dasf_ring *r;
        DASF_LIST_EACH_RCU(dasf_ring, r, &db->rings, node) {
            if (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != r->tail ||
                __atomic_load_n(&r->dropped, __ATOMIC_RELAXED) != r->dropped_seen)
                unread = 1;
            if (!__atomic_load_n(&r->dead, __ATOMIC_ACQUIRE) && r->tid != db->closer_tid) live = 1;
        }
        dasf_rcu_read_unlock();
        double waited = mono_s() - t0;
        if (!unread && (!live || waited >= CLOSE_GRACE)) return rc;
        if (waited >= 20 * CLOSE_GRACE) return rc; /* never hang a close */
        if (unread) {
            pthread_mutex_lock(&db->cycle_lock);
            int c = cycle(db, fs);
            pthread_mutex_unlock(&db->cycle_lock);
            if (c) return c; /* reported by the close like any failed commit */
            continue;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void finish_commits(dasf_filedb *db, uint64_t req, int rc) {
    pthread_mutex_lock(&db->commit_lock);
    if (req > db->commit_done) db->commit_done = req;
    db->commit_status = rc;
    pthread_cond_broadcast(&db->commit_cond);
    pthread_mutex_unlock(&db->commit_lock);
}

static void *flusher_main(void *arg) {
    dasf_filedb *db = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* app signals are not ours */
    dasf_thread_name("dasf-flusher");
    dasf_library_thread(1);                 /* a crash here must not wait for us */
    __atomic_store_n(&db->flusher_ready, 1, __ATOMIC_RELEASE);
    flusher_state fs;
    memset(&fs, 0, sizeof fs);
    for (;;) {
        uint32_t seq = __atomic_load_n(&db->wake_seq, __ATOMIC_ACQUIRE);
        int stopping = __atomic_load_n(&db->stopping, __ATOMIC_ACQUIRE);
        uint64_t req = __atomic_load_n(&db->commit_req, __ATOMIC_ACQUIRE);
        uint64_t sreq = __atomic_load_n(&db->snap_req, __ATOMIC_ACQUIRE);
        if (stopping == 2) break; /* close without commit */
        fs.snap = sreq > fs.snap_served;
        fs.barrier = stopping || req > __atomic_load_n(&db->commit_done, __ATOMIC_ACQUIRE);
        pthread_mutex_lock(&db->cycle_lock);
        int rc = cycle(db, &fs);
        pthread_mutex_unlock(&db->cycle_lock);
        if (fs.snap) fs.snap_served = sreq; /* its chunks are pending: the retries write them */
        int waiting_commit = req > __atomic_load_n(&db->commit_done, __ATOMIC_ACQUIRE);
        int waiting_snap = sreq > __atomic_load_n(&db->snap_done, __ATOMIC_ACQUIRE);
        if (rc == DASF_ELOCK_TIMEOUT && (waiting_commit || waiting_snap || stopping == 1)) {
            /* Someone waits for this data: keep trying (and keep draining,
             * so recording goes on) until lock_timeout has passed. */
            double now = mono_s();
            if (fs.lock_wait_since == 0) fs.lock_wait_since = now;
            if (now - fs.lock_wait_since < db->opts.lock_timeout) {
                dasf_futex_wait(&db->wake_seq, __atomic_load_n(&db->wake_seq, __ATOMIC_ACQUIRE),
                                0.005);
                continue;
            }
        }
        fs.lock_wait_since = 0;
        if (stopping == 1 && rc == DASF_OK) rc = close_quiesce(db, &fs, rc);
        if (waiting_commit || stopping) finish_commits(db, req, rc);
        if (waiting_snap) dasf_flight_answer(db, sreq, rc);
        if (stopping) break;
        dasf_clock_recalibrate(); /* when due (clock.c decides) */
        if (__atomic_load_n(&db->wake_seq, __ATOMIC_ACQUIRE) == seq) {
            /* Unwritten chunks: retry sooner than the flush interval. */
            double wait = db->opts.flush_interval;
            if (db->pending_head && wait > 0.05) wait = 0.05;
            dasf_futex_wait(&db->wake_seq, seq, wait);
        }
    }
    dasf_flight_answer_rest(db); /* snapshots asked for while it closed */
    dasf_library_thread(0);
    return NULL;
}

/* Called with db->reg_lock held (or before the db is shared). */
int dasf_flusher_start(dasf_filedb *db) {
    pid_t me = getpid();
    if (db->flusher_running && db->flusher_pid == me) return DASF_OK;
    if (!db->enc) {
        int rc = dasf_chunk_enc_create(&db->enc, db->opts.compression_level,
                                       db->opts.default_byte_size);
        if (rc) return rc;
    }
    /* Compression workers when asked for; when they cannot be started the
     * flusher does the work inline, as with compression_workers = 0. */
    if (!db->pool && db->opts.compression_workers > 0) dasf_pool_start(db, db->opts.compression_workers);
    __atomic_store_n(&db->flusher_ready, 0, __ATOMIC_RELAXED);
    if (pthread_create(&db->flusher, NULL, flusher_main, db) != 0) {
        dasf_pool_stop(db);
        return DASF_ENOMEM;
    }
    db->flusher_running = 1;
    db->flusher_pid = me;
    return DASF_OK;
}

int dasf_flusher_request(dasf_filedb *db, uint64_t *req, const uint64_t *done,
                         const int *status) {
    pthread_mutex_lock(&db->reg_lock);
    int rc = dasf_flusher_start(db);
    pthread_mutex_unlock(&db->reg_lock);
    if (rc) return rc;
    pthread_mutex_lock(&db->commit_lock);
    uint64_t my = __atomic_add_fetch(req, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&db->commit_lock);
    dasf_flusher_wake(db);
    pthread_mutex_lock(&db->commit_lock);
    while (*done < my) pthread_cond_wait(&db->commit_cond, &db->commit_lock);
    rc = *status;
    pthread_mutex_unlock(&db->commit_lock);
    return rc;
}

int dasf_flusher_commit(dasf_filedb *db) {
    return dasf_flusher_request(db, &db->commit_req, &db->commit_done, &db->commit_status);
}

int dasf_flusher_stop(dasf_filedb *db, int commit) {
    int rc = DASF_OK;
    pthread_mutex_lock(&db->reg_lock);
    int running = db->flusher_running && db->flusher_pid == getpid();
    if (commit && !running && (db->pending_head || !cds_list_empty(&db->rings)))
        running = dasf_flusher_start(db) == DASF_OK;
    pthread_mutex_unlock(&db->reg_lock);
    if (!running) return DASF_OK;
    if (!commit) {
        /* commit_on_close false: like the seed, uncommitted events are not
         * written.  Throw them away before the flusher's last cycle. */
        __atomic_store_n(&db->stopping, 2, __ATOMIC_RELEASE);
    }
    if (commit) {
        db->closer_tid = (int64_t)syscall(SYS_gettid); /* read after `stopping` */
        /* The request first, then `stopping`: a flusher that sees stopping
         * (it loads stopping, then commit_req) sees this request too, so its
         * last cycle answers it. */
        pthread_mutex_lock(&db->commit_lock);
        uint64_t my = __atomic_add_fetch(&db->commit_req, 1, __ATOMIC_ACQ_REL);
        pthread_mutex_unlock(&db->commit_lock);
        __atomic_store_n(&db->stopping, 1, __ATOMIC_RELEASE);
        dasf_flusher_wake(db);
        pthread_join(db->flusher, NULL);
        pthread_mutex_lock(&db->commit_lock);
        rc = db->commit_done >= my ? db->commit_status : DASF_EIO;
        pthread_mutex_unlock(&db->commit_lock);
    } else {
        dasf_flusher_wake(db);
        pthread_join(db->flusher, NULL);
    }
    dasf_pool_stop(db); /* after a commit: nothing left in it */
    db->flusher_running = 0;
    if (rc && db->pending_head) {
        uint64_t lost = 0;
        for (dasf_pending *pc = db->pending_head; pc; pc = pc->next) lost += pc->events;
        fprintf(stderr, "dasf-profiler: %llu events could not be written to %s: %s\n",
                (unsigned long long)lost, db->path, dasf_strerror(rc));
    }
    return rc;
}

void dasf_flusher_free_state(dasf_filedb *db) {
    dasf_pool_stop(db);
    if (db->enc) dasf_chunk_enc_destroy(db->enc);
    db->enc = NULL;
    dasf_buf_free(&db->chunk);
    while (db->pending_head) {
        dasf_pending *pc = db->pending_head;
        db->pending_head = pc->next;
        dasf_buf_free(&pc->bytes);
        free(pc);
    }
    db->pending_tail = NULL;
    __atomic_store_n(&db->pending_bytes, 0, __ATOMIC_RELAXED);
    dasf_flight_free(db);
    if (db->out.fd >= 0) close(db->out.fd);
    db->out.fd = -1;
}

void dasf_flusher_reset_after_fork(dasf_filedb *db) {
    /* The parent's flusher thread does not exist here.  It was between
     * cycles at fork time (fork_prepare held cycle_lock), so its state is
     * consistent: free it; a flusher of the child's own starts on first
     * use.  Its pending chunks are the parent's to write, not ours. */
    db->flusher_running = 0;
    db->flusher_pid = 0;
    dasf_pool_forget_after_fork(db); /* its threads are the parent's */
    dasf_flusher_free_state(db); /* also closes the parent's fd: flock is per open file */
    db->dropped_unreported = 0;
    db->drop_carry = 0;
    db->enc_markers = 0;
    db->n_ranges = 0;
    db->n_fallback = 0;
    db->wake_seq = db->drain_seq = 0;
    db->stopping = 0;
    db->commit_req = db->commit_done = 0;
    db->commit_status = 0;
    dasf_flight_reset_after_fork(db);
    db->st_recorded = db->st_dropped = db->st_written = 0;
    db->st_chunks = db->st_bytes = db->st_flushes = 0;
    db->st_last_error = 0;
}
