/*
 * workers.c — compression workers: encode + compress chunks in parallel,
 * append in order (option compression_workers, docs/RUNTIME.md).
 *
 * Threads: the flusher (dispatch, collect) and N workers (run_job).  The
 * flusher cuts what is new in the rings into jobs — lists of ring ranges
 * [from, to) on record boundaries, up to job_bytes of ring each — numbered
 * in hand-off order, and queues them.  A worker decodes, encodes and
 * compresses a job's records into finished chunks with its own encoder
 * (its own ZSTD_CCtx), exactly as the flusher would inline
 * (dasf_drain_span, dasf.dropped markers included).  The flusher takes
 * finished jobs back strictly in hand-off order into its pending list, and
 * only then gives their ring space back; the one appender (write_pending)
 * writes the pending list in order.
 *
 * Invariants:
 *  - a ring's space is released only after every job holding its records
 *    is back in the flusher with its chunks in the pending list (in order:
 *    a ring's tail only moves forward over collected ranges), so nothing
 *    is lost, and a ring with records in a job is never reaped (its head
 *    is past its tail); a shared ring's (shm) space only after the append
 *    of those chunks too (collect queues it, dasf_pool_release_shared
 *    releases it after write_pending), as the inline drain does, and the
 *    chunks name their shared ranges ("src"/"rings", workers_job.c): a
 *    recoverer finds each record in the file or in the ring, never both;
 *  - per thread, events reach the file in recording order (a ring's
 *    ranges are handed off in order, jobs come back in order);
 *  - finished chunks held here count against max_pending_bytes
 *    (dasf_pool_held_bytes), so BLOCK stops dispatching as it stops
 *    draining; DROP's cap is applied when the chunk is collected;
 *  - a commit (barrier) waits until every job handed off so far is back;
 *  - fork: prepare waits until no worker is inside a job and keeps them
 *    out until the parent continues; the child has no workers and frees
 *    the pool with what it held (the parent's events, like its pending
 *    chunks).
 */
#include "workers.h"
#include "workers_pool.h"
#include "futex.h"
#include "libthread.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ring bytes per job: 4 MiB (128 Ki plain records; chunks stay well inside
 * DASF_CHUNK_*), and at most a quarter of a ring, so a ring whose thread
 * outruns the workers has several jobs in flight and gets space back one
 * job at a time.  A job with less than a quarter of it left is closed
 * rather than given a small piece of a long range. */
#define JOB_BYTES_MAX ((uint64_t)4 << 20)

int dasf_pool_test_fail_start;


static void *worker_main(void *arg) {
    pool_worker *w = arg;
    struct dasf_pool *p = w->pool;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* app signals are not ours */
    dasf_thread_name("dasf-worker"); /* top, perf, the bench */
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && (p->paused || !p->todo_head)) pthread_cond_wait(&p->work, &p->lock);
        if (p->stop) break;
        pool_job *j = p->todo_head;
        p->todo_head = j->next_todo;
        if (!p->todo_head) p->todo_tail = NULL;
        p->busy++;
        pthread_mutex_unlock(&p->lock);
        dasf_pool_run_job(w, j);
        pthread_mutex_lock(&p->lock);
        j->done = 1;
        p->undone--;
        p->busy--;
        __atomic_store_n(&p->held, p->held + j->held, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&p->done);
        pthread_mutex_unlock(&p->lock);
        dasf_flusher_wake(p->db); /* collect it */
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---- the pool -------------------------------------------------------------------- */

static void pool_free(struct dasf_pool *p) {
    free(p->rel);
    for (pool_job *j = p->jobs_head, *next; j; j = next) {
        next = j->next;
        dasf_pool_job_free(j);
    }
    for (int i = 0; i < p->n; i++) {
        if (p->w[i].enc) dasf_chunk_enc_destroy(p->w[i].enc);
        dasf_drain_state_free(p->w[i].ds);
    }
    free(p->w);
    free(p);
}

static void join_workers(struct dasf_pool *p, int started) {
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < started; i++) pthread_join(p->w[i].thread, NULL);
}

int dasf_pool_start(dasf_filedb *db, int n) {
    if (dasf_pool_test_fail_start) {
        dasf_pool_test_fail_start = 0;
        return DASF_ENOMEM;
    }
    struct dasf_pool *p = calloc(1, sizeof *p);
    if (!p) return DASF_ENOMEM;
    p->w = calloc((size_t)n, sizeof *p->w);
    if (!p->w) {
        free(p);
        return DASF_ENOMEM;
    }
    p->db = db;
    p->n = n;
    p->max_open = 4 * (size_t)n + 4;
    p->job_bytes = db->ring_cap / 4 < JOB_BYTES_MAX ? db->ring_cap / 4 : JOB_BYTES_MAX;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    int rc = DASF_OK;
    for (int i = 0; i < n && rc == DASF_OK; i++) {
        p->w[i].pool = p;
        rc = dasf_chunk_enc_create(&p->w[i].enc, db->opts.compression_level,
                                   db->opts.default_byte_size);
        if (rc == DASF_OK && !(p->w[i].ds = dasf_drain_state_new())) rc = DASF_ENOMEM;
    }
    int started = 0;
    while (rc == DASF_OK && started < n) {
        if (pthread_create(&p->w[started].thread, NULL, worker_main, &p->w[started]) != 0)
            rc = DASF_ENOMEM;
        else
            started++;
    }
    if (rc) {
        join_workers(p, started);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pool_free(p);
        return rc;
    }
    db->pool = p;
    return DASF_OK;
}

void dasf_pool_stop(dasf_filedb *db) {
    struct dasf_pool *p = db->pool;
    if (!p) return;
    join_workers(p, p->n);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    db->pool = NULL;
    pool_free(p); /* after a commit nothing is left; without one it is thrown away */
}

uint64_t dasf_pool_held_bytes(dasf_filedb *db) {
    return db->pool ? __atomic_load_n(&db->pool->held, __ATOMIC_RELAXED) : 0;
}

/* ---- hand-off (flusher) ----------------------------------------------------------- */

static void submit(struct dasf_pool *p, pool_job *j) {
    j->seq = p->next_seq++;
    p->open++;
    pthread_mutex_lock(&p->lock);
    if (p->jobs_tail)
        p->jobs_tail->next = j;
    else
        p->jobs_head = j;
    p->jobs_tail = j;
    if (p->todo_tail)
        p->todo_tail->next_todo = j;
    else
        p->todo_head = j;
    p->todo_tail = j;
    p->undone++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

/* *jp exists and has room for one more range. */
static int job_room(pool_job **jp) {
    if (!*jp && !(*jp = calloc(1, sizeof **jp))) return DASF_ENOMEM;
    pool_job *j = *jp;
    if (j->n_ranges < j->cap_ranges) return DASF_OK;
    size_t cap = j->cap_ranges ? j->cap_ranges * 2 : 8;
    pool_range *g = realloc(j->ranges, cap * sizeof *g);
    if (!g) return DASF_ENOMEM;
    j->ranges = g;
    j->cap_ranges = cap;
    return DASF_OK;
}

/* The first record boundary of r at or past c + room, h at most.  A record
 * that looks garbled ends the walk at h: the worker meets it and counts it
 * as dasf_drain_span does. */
static uint64_t split_at(const dasf_ring *r, uint64_t c, uint64_t h, uint64_t room) {
    uint64_t t = c;
    while (t < h && t - c < room) {
        const dasf_rec *rec = (const dasf_rec *)(r->buf + (t & r->mask));
        uint64_t size = rec->size;
        if (size < DASF_REC_SIZE || (size & (DASF_REC_SIZE - 1)) || (t & r->mask) + size > r->cap ||
            size > h - t)
            return h;
        t += size;
    }
    return t;
}

int dasf_pool_dispatch(dasf_filedb *db, int barrier) {
    struct dasf_pool *p = db->pool;
    int rc = DASF_OK;
    pool_job *j = NULL;
    dasf_rcu_read_lock();
    dasf_ring *r;
    DASF_LIST_EACH_RCU(dasf_ring, r, &db->rings, node) {
        if (!barrier && !j && p->open >= p->max_open) break; /* the rest next time */
        if ((rc = job_room(&j))) break;
        uint64_t c = r->consumed;
        uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        uint64_t drops = 0, d = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
        if (d != r->dropped_seen) {
            drops = d - r->dropped_seen;
            __atomic_add_fetch(&db->st_dropped, drops, __ATOMIC_RELAXED);
            __atomic_store_n(&r->dropped_seen, d, __ATOMIC_RELAXED);
        }
        int stop = 0;
        while (c < h || drops) {
            uint64_t room = p->job_bytes - j->bytes;
            if (h - c > room && room < p->job_bytes / 4 && j->n_ranges) {
                submit(p, j);
                j = NULL;
                if ((rc = job_room(&j))) break;
                room = p->job_bytes;
            }
            uint64_t to = h - c > room ? split_at(r, c, h, room) : h;
            j->ranges[j->n_ranges++] = (pool_range){r, c, to, r->pid, r->tid, drops};
            j->bytes += to - c;
            drops = 0;
            c = r->consumed = to;
            if (j->bytes >= p->job_bytes) {
                submit(p, j);
                j = NULL;
                if (!barrier && p->open >= p->max_open) {
                    stop = 1;
                    break;
                }
            }
            if ((rc = job_room(&j))) break;
        }
        if (rc || stop) break;
    }
    dasf_rcu_read_unlock();
    if (j && j->n_ranges)
        submit(p, j);
    else if (j)
        dasf_pool_job_free(j);
    return rc;
}

/* A shared ring's collected range, released after the append.  @return 0,
 * or -1 without memory: then it is released now, as before the append. */
static int queue_release(struct dasf_pool *p, dasf_ring *r, uint64_t to) {
    if (p->n_rel && p->rel[p->n_rel - 1].ring == r) { /* the same ring again: further */
        p->rel[p->n_rel - 1].to = to;
        return 0;
    }
    if (p->n_rel == p->cap_rel) {
        size_t cap = p->cap_rel ? p->cap_rel * 2 : 16;
        pool_release *v = realloc(p->rel, cap * sizeof *v);
        if (!v) return -1;
        p->rel = v;
        p->cap_rel = cap;
    }
    p->rel[p->n_rel++] = (pool_release){r, to};
    return 0;
}

void dasf_pool_release_shared(dasf_filedb *db) {
    struct dasf_pool *p = db->pool;
    if (!p->n_rel) return;
    for (size_t i = 0; i < p->n_rel; i++)
        __atomic_store_n(&p->rel[i].ring->tail, p->rel[i].to, __ATOMIC_RELEASE);
    p->n_rel = 0;
    __atomic_add_fetch(&db->drain_seq, 1, __ATOMIC_RELEASE); /* producers waiting for space */
    dasf_futex_wake(&db->drain_seq, INT32_MAX);
}

int dasf_pool_collect(dasf_filedb *db, int wait) {
    struct dasf_pool *p = db->pool;
    int rc = DASF_OK;
    pthread_mutex_lock(&p->lock);
    while (wait && p->undone) pthread_cond_wait(&p->done, &p->lock);
    /* The finished prefix, in hand-off order. */
    pool_job *first = p->jobs_head, *last = NULL;
    uint64_t held = 0;
    for (pool_job *j = first; j && j->done; j = j->next) {
        last = j;
        held += j->held;
    }
    if (last) {
        p->jobs_head = last->next;
        if (!p->jobs_head) p->jobs_tail = NULL;
        last->next = NULL;
        __atomic_store_n(&p->held, p->held - held, __ATOMIC_RELAXED);
    } else {
        first = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    int released = 0;
    while (first) {
        pool_job *j = first;
        first = j->next;
        p->open--;
        for (size_t i = 0; i < j->n_chunks; i++) {
            pool_chunk *c = &j->chunks[i];
            int krc = dasf_flusher_carry_drops(db);
            if (krc && !rc) rc = krc;
            krc = dasf_flusher_keep_chunk(db, c->pc, c->markers, c->dropped);
            c->pc = NULL; /* taken */
            if (krc && !rc) rc = krc;
        }
        db->drop_carry += j->carry;
        if (j->rc && !rc) rc = j->rc;
        /* Its records are in the pending list now: an anonymous ring's
         * space goes back; a shared ring's after the append. */
        for (size_t i = 0; i < j->n_ranges; i++) {
            const pool_range *g = &j->ranges[i];
            if (g->to == g->from) continue;
            if (g->ring->shm_index && queue_release(p, g->ring, g->to) == 0) continue;
            __atomic_store_n(&g->ring->tail, g->to, __ATOMIC_RELEASE);
            released = 1;
        }
        dasf_pool_job_free(j);
    }
    /* Drops carried from thrown chunks reach the file without waiting for
     * more events (as the flusher's own push_chunk does every cycle). */
    int krc = dasf_flusher_carry_drops(db);
    if (krc && !rc) rc = krc;
    if (released) { /* producers blocked on a full ring can go on */
        __atomic_add_fetch(&db->drain_seq, 1, __ATOMIC_RELEASE);
        dasf_futex_wake(&db->drain_seq, INT32_MAX);
    }
    return rc;
}

/* ---- fork -------------------------------------------------------------------------- */

void dasf_pool_fork_prepare(dasf_filedb *db) {
    struct dasf_pool *p = db->pool;
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->paused = 1;
    while (p->busy) pthread_cond_wait(&p->done, &p->lock);
    /* Held across fork(): no worker starts a job meanwhile. */
}

void dasf_pool_fork_parent(dasf_filedb *db) {
    struct dasf_pool *p = db->pool;
    if (!p) return;
    p->paused = 0;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void dasf_pool_forget_after_fork(dasf_filedb *db) {
    struct dasf_pool *p = db->pool;
    if (!p) return;
    db->pool = NULL;
    /* The workers do not exist here; they were between jobs, so what they
     * own is whole.  The lock is this thread's (fork_prepare).  The
     * condition variables are not destroyed: their parent-side waiters
     * never return in this process. */
    pthread_mutex_unlock(&p->lock);
    pool_free(p);
}
