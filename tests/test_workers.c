/*
 * test_workers.c — compression workers (option compression_workers,
 * runtime/flush/workers.c): the file they help write holds the same events
 * in the same per-thread order as the flusher alone writes, and every
 * guarantee holds with them: the commit barrier, no loss under BLOCK with a
 * tiny pending budget, DROP's exact accounting, close with work queued,
 * append errors reported as without workers, fork while they are busy,
 * and the inline fallback when they cannot be started.
 */
#include "dasf/profiler.h"
#include "helpers.h"
#include "workers.h" /* dasf_pool_test_fail_start */

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- a deterministic multi-threaded workload ---------------------------------- */

/* Every event carries its thread number w and sequence i in its time:
 * ts_ns = (w + 1) * 1e12 + i * 1000 (exact as a double in seconds too). */
#define TS_NS(w, i) ((int64_t)((w) + 1) * 1000000000000LL + (int64_t)(i)*1000)

typedef struct load {
    dasf_profiler *p;
    int w;
    long n;
    int commits; /* this thread commits now and then */
    long bad;    /* record calls that failed */
} load;

static uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *run_load(void *arg) {
    load *l = arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(l->w + 1);
    char name[32], big[400];
    dasf_name h[4] = {dasf_intern("alpha"), dasf_intern("beta"), dasf_intern("gamma"),
                      dasf_intern("delta")};
    for (long i = 0; i < l->n; i++) {
        uint64_t r = next_rand(&s);
        int64_t ts = TS_NS(l->w, i);
        double tsd = (double)ts * 1e-9;
        int rc;
        switch (r % 6) {
        case 0:
            rc = dasf_record_complete_ns(l->p, h[r >> 8 & 3], ts, (int64_t)(r >> 20 & 0xffff));
            break;
        case 1:
            rc = dasf_record_complete_h(l->p, h[r >> 8 & 3], tsd, 0.25);
            break;
        case 2: {
            snprintf(name, sizeof name, "copied%u", (unsigned)(r >> 8 & 15));
            dasf_arg a[2] = {DASF_ARG_I64("step", (int64_t)(r >> 16 & 0xffffff)),
                             DASF_ARG_STR("tag", (r >> 40) & 1 ? "odd" : "even")};
            rc = dasf_record_complete_args(l->p, name, tsd, 1e-6, a, 2);
            break;
        }
        case 3: {
            /* a long payload: records of varied sizes, pads at the ring's end */
            size_t len = 50 + (size_t)(r >> 8 & 255);
            memset(big, 'a' + (int)(r >> 16 & 15), len);
            big[len] = 0;
            dasf_arg a = DASF_ARG_STR("blob", big);
            rc = dasf_record_complete_args(l->p, "big", tsd, 0, &a, 1);
            break;
        }
        case 4:
            rc = dasf_profiler_record_instant_event(l->p, "inst", tsd, NULL);
            break;
        default: {
            dasf_arg c = DASF_ARG_I64("v", (int64_t)(r >> 12 & 0xfff));
            rc = dasf_record_counter(l->p, "ctr", tsd, &c, 1);
            break;
        }
        }
        if (rc) l->bad++;
        if (l->commits && r % 2000 == 7 && dasf_profiler_commit(l->p)) l->bad++;
    }
    return NULL;
}

/* Records nthreads x n events of the workload into p, in parallel. */
static void record_load(dasf_profiler *p, int nthreads, long n) {
    pthread_t th[8];
    load l[8];
    for (int w = 0; w < nthreads; w++) {
        l[w] = (load){.p = p, .w = w, .n = n, .commits = w == 0};
        cr_assert_eq(pthread_create(&th[w], NULL, run_load, &l[w]), 0);
    }
    for (int w = 0; w < nthreads; w++) {
        pthread_join(th[w], NULL);
        cr_assert_eq(l[w].bad, 0, "thread %d: every record and commit succeeded", w);
    }
}

/* ---- reading back --------------------------------------------------------------- */

typedef struct ev_line {
    int w;
    long i;
    int64_t tid;
    char *text; /* everything the event says except its thread id */
} ev_line;

typedef struct readback {
    ev_line *v;
    size_t n, cap;
    long dropped_markers;
    uint64_t damaged;
} readback;

static int collect_event(const dasf_trace_event *ev, readback *rb) {
    if (strcmp(ev->name, "dasf.dropped") == 0) {
        const dasf_value *c = dasf_value_map_get(&ev->args, "count");
        cr_assert(c && (c->type == DASF_VAL_INT || c->type == DASF_VAL_UINT));
        rb->dropped_markers += (long)c->v.i;
        return 0;
    }
    char b[1024];
    snprintf(b, sizeof b, "%s|%c|%lld|%lld|%a|", ev->name, (char)ev->phase,
             (long long)ev->timestamp_ns, (long long)ev->duration_ns, ev->timestamp);
    th_dump_value(b, sizeof b, &ev->args);
    if (rb->n == rb->cap) {
        rb->cap = rb->cap ? rb->cap * 2 : 1024;
        rb->v = realloc(rb->v, rb->cap * sizeof *rb->v);
        cr_assert_not_null(rb->v);
    }
    ev_line *e = &rb->v[rb->n++];
    e->w = (int)(ev->timestamp_ns / 1000000000000LL) - 1;
    e->i = (long)(ev->timestamp_ns % 1000000000000LL / 1000);
    cr_assert_eq(ev->thread_id.type, DASF_VAL_INT);
    e->tid = ev->thread_id.v.i;
    e->text = strdup(b);
    return 0;
}

static readback read_back(const char *path) {
    readback rb;
    memset(&rb, 0, sizeof rb);
    dasf_trace *r;
    int rc = dasf_trace_open(&r, path);
    cr_assert_eq(rc, 0, "open %s: %s", path, dasf_strerror(rc));
    const dasf_trace_event *ev;
    while ((rc = dasf_trace_next(r, &ev)) == 1) collect_event(ev, &rb);
    cr_assert_eq(rc, 0, "read %s: %s", path, dasf_strerror(rc));
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    rb.damaged = st.chunks_damaged;
    dasf_trace_close(r);
    return rb;
}

static void readback_free(readback *rb) {
    for (size_t k = 0; k < rb->n; k++) free(rb->v[k].text);
    free(rb->v);
}

static int cmp_line(const void *a, const void *b) {
    const ev_line *x = a, *y = b;
    if (x->w != y->w) return x->w < y->w ? -1 : 1;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Per recording thread, events in recording order, each exactly once:
 * thread w's events are i = 0..n-1 in file order, all from one thread id. */
static void check_per_thread_order(const readback *rb, int nthreads, long n) {
    long next[8] = {0};
    int64_t tid[8] = {0};
    for (size_t k = 0; k < rb->n; k++) {
        const ev_line *e = &rb->v[k];
        cr_assert(e->w >= 0 && e->w < nthreads, "event of an unknown thread: %s", e->text);
        cr_assert_eq(e->i, next[e->w], "thread %d: event %ld where %ld was next (file order)",
                     e->w, e->i, next[e->w]);
        if (next[e->w] == 0) tid[e->w] = e->tid;
        cr_assert_eq(e->tid, tid[e->w], "one thread id per recording thread");
        next[e->w]++;
    }
    for (int w = 0; w < nthreads; w++) cr_assert_eq(next[w], n, "thread %d: all its events", w);
}

/* The file at path holds exactly nthreads x n events, whole, nothing
 * dropped, each thread's in order. */
static readback read_whole(const char *path, int nthreads, long n) {
    readback rb = read_back(path);
    cr_assert_eq(rb.damaged, 0);
    cr_assert_eq(rb.dropped_markers, 0);
    cr_assert_eq(rb.n, (size_t)nthreads * (size_t)n);
    check_per_thread_order(&rb, nthreads, n);
    return rb;
}

static void check_whole(const char *path, int nthreads, long n) {
    readback rb = read_whole(path, nthreads, n);
    readback_free(&rb);
}

static dasf_file_db_options small_opts(int workers, int level) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = level;
    o.compression_workers = workers;
    o.ring_capacity = 1 << 16; /* wraps often: pads, partial drains */
    o.commit_threshold = 300;  /* many small hand-offs */
    o.flush_interval = 0.01;
    return o;
}

/* One run of the workload; returns what the file holds, sorted by (w, i). */
static readback run_once(const char *dir, const char *name, int workers, int level, int nthreads,
                         long n) {
    char *path = th_path(dir, name);
    dasf_file_db_options o = small_opts(workers, level);
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    record_load(p, nthreads, n);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_eq(st.dropped, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    readback rb = read_whole(path, nthreads, n);
    qsort(rb.v, rb.n, sizeof *rb.v, cmp_line);
    return rb;
}

static void assert_same_events(const readback *a, const readback *b, const char *what) {
    cr_assert_eq(a->n, b->n, "%s: same number of events", what);
    for (size_t k = 0; k < a->n; k++)
        cr_assert_str_eq(a->v[k].text, b->v[k].text, "%s: event %zu (thread %d, #%ld) differs",
                         what, k, a->v[k].w, a->v[k].i);
}

/* ---- the file ------------------------------------------------------------------- */

Test(workers, same_events_and_order_as_without_workers) {
    char *dir = th_tmpdir();
    enum { T = 4, N = 20000 };
    readback ref = run_once(dir, "w0.zst", 0, 1, T, N);
    int counts[] = {1, 2, 4};
    for (int c = 0; c < 3; c++) {
        char name[32], what[32];
        snprintf(name, sizeof name, "w%d.zst", counts[c]);
        snprintf(what, sizeof what, "%d workers", counts[c]);
        readback rb = run_once(dir, name, counts[c], 1, T, N);
        assert_same_events(&ref, &rb, what);
        readback_free(&rb);
    }
    readback_free(&ref);
}

Test(workers, legacy_layout_same_events_and_order) {
    char *dir = th_tmpdir();
    enum { T = 3, N = 8000 };
    readback ref = run_once(dir, "l0.msgpack", 0, 0, T, N);
    readback rb = run_once(dir, "l2.msgpack", 2, 0, T, N);
    assert_same_events(&ref, &rb, "legacy layout, 2 workers");
    readback_free(&rb);
    readback_free(&ref);
}

/* ---- the commit barrier ------------------------------------------------------------ */

typedef struct hammer {
    dasf_profiler *p;
    int stop;
    long n;
} hammer;

/* Keeps the workers busy: batches of 1000 events, 1 ms apart, at most 400 000. */
static void *run_hammer(void *arg) {
    hammer *hm = arg;
    dasf_name h = dasf_intern("busy");
    while (!__atomic_load_n(&hm->stop, __ATOMIC_ACQUIRE) && hm->n < 400000) {
        for (int k = 0; k < 1000; k++)
            if (dasf_record_complete_ns(hm->p, h, TS_NS(7, hm->n), 1) == 0) hm->n++;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Events of thread w in the file. */
static long count_of(const char *path, int w) {
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    long n = 0;
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) n += ev->timestamp_ns / 1000000000000LL - 1 == w;
    cr_assert_eq(rc, 0);
    dasf_trace_close(r);
    return n;
}

Test(workers, commit_returns_after_its_events_are_in_the_file) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "barrier.zst");
    dasf_file_db_options o = small_opts(2, 1);
    o.ring_capacity = 1 << 20;
    o.commit_threshold = 2000;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    hammer hm = {.p = p};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, run_hammer, &hm), 0);
    dasf_name mine = dasf_intern("mine");
    long total = 0;
    for (int round = 0; round < 20; round++) {
        int k = 1 + round * 997 % 5000;
        for (int i = 0; i < k; i++)
            cr_assert_eq(dasf_record_complete_ns(p, mine, TS_NS(0, total + i), 1), 0);
        total += k;
        cr_assert_eq(dasf_profiler_commit(p), 0);
        /* The workers are busy with the other thread's stream: the commit
         * must still have waited for every chunk holding ours. */
        long have = count_of(path, 0);
        cr_assert_eq(have, total, "round %d: %ld of my %ld events in the file after commit",
                     round, have, total);
    }
    __atomic_store_n(&hm.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    cr_assert_gt(hm.n, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(count_of(path, 0), total);
    cr_assert_eq(count_of(path, 7), hm.n);
}

/* ---- budgets and policies ------------------------------------------------------------ */

/* Holds path's file lock as another process would (flock is per open file). */
static int hold_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    return fd;
}

Test(workers, block_with_a_tiny_pending_budget_loses_nothing) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "tiny.zst");
    dasf_file_db_options o = small_opts(2, 1);
    o.max_pending_bytes = 1; /* any finished chunk is over budget */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    enum { T = 3, N = 30000 };
    record_load(p, T, N);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_eq(st.dropped, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    check_whole(path, T, N);
}

Test(workers, drop_policy_accounts_for_every_event) {
    /* A held lock and a 4 KiB cap: chunks the workers finish are thrown
     * away (DROP); every loss must reach the file once it can be written. */
    char *dir = th_tmpdir();
    char *path = th_path(dir, "drop.zst");
    int fd = hold_lock(path);
    dasf_file_db_options o = small_opts(2, 1);
    o.overflow = DASF_OVERFLOW_DROP;
    o.max_pending_bytes = 4 << 10;
    o.lock_timeout = 0.01;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    dasf_name h = dasf_intern("d");
    long ok = 0, dropped = 0;
    enum { N = 60000 };
    for (long i = 0; i < N; i++) {
        int rc = dasf_record_complete_ns(p, h, TS_NS(0, i), 1);
        if (rc == 0) {
            ok++;
        } else {
            cr_assert_eq(rc, DASF_EDROPPED);
            dropped++;
        }
        if (i % 10000 == 9999) {
            rc = dasf_profiler_commit(p);
            cr_assert(rc == 0 || rc == DASF_ELOCK_TIMEOUT, "commit: %s", dasf_strerror(rc));
        }
    }
    close(fd);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_gt(st.dropped, (uint64_t)dropped, "whole chunks were thrown away");
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    readback rb = read_back(path);
    cr_assert_eq((long)rb.n + rb.dropped_markers, N,
                 "events in the file (%zu) + the drops it reports (%ld) = recorded (%d)", rb.n,
                 rb.dropped_markers, N);
    cr_assert_eq((uint64_t)rb.dropped_markers, st.dropped);
    readback_free(&rb);
}

/* ---- close ------------------------------------------------------------------------------ */

Test(workers, close_writes_what_is_still_queued) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "close.zst");
    dasf_file_db_options o = small_opts(3, 1);
    o.ring_capacity = 4 << 20;
    o.commit_threshold = 100; /* hand-offs all the time, still queued at close */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    enum { T = 3, N = 40000 };
    pthread_t th[T];
    load l[T];
    for (int w = 0; w < T; w++) {
        l[w] = (load){.p = p, .w = w, .n = N};
        cr_assert_eq(pthread_create(&th[w], NULL, run_load, &l[w]), 0);
    }
    for (int w = 0; w < T; w++) {
        pthread_join(th[w], NULL);
        cr_assert_eq(l[w].bad, 0);
    }
    cr_assert_eq(dasf_profiler_destroy(p), 0, "destroy right after recording, no commit");
    check_whole(path, T, N);
}

Test(workers, close_without_commit_on_close_discards_cleanly) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "nocommit.zst");
    dasf_file_db_options o = small_opts(2, 1);
    o.commit_on_close = false;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    dasf_name h = dasf_intern("x");
    for (long i = 0; i < 5000; i++) cr_assert_eq(dasf_record_complete_ns(p, h, TS_NS(0, i), 1), 0);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    for (long i = 5000; i < 50000; i++)
        cr_assert_eq(dasf_record_complete_ns(p, h, TS_NS(0, i), 1), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    readback rb = read_back(path);
    cr_assert_geq(rb.n, 5000, "what was committed is there");
    cr_assert_leq(rb.n, 50000);
    cr_assert_eq(rb.damaged, 0, "whatever else landed is whole");
    readback_free(&rb);
}

/* ---- append errors ------------------------------------------------------------------------ */

static int commit_status_for(const char *path, int workers, int *destroy_rc) {
    dasf_file_db_options o = small_opts(workers, 1);
    o.lock_timeout = 0.05;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    dasf_name h = dasf_intern("e");
    for (long i = 0; i < 20000; i++) cr_assert_eq(dasf_record_complete_ns(p, h, TS_NS(0, i), 1), 0);
    int rc = dasf_profiler_commit(p);
    *destroy_rc = dasf_profiler_destroy(p);
    return rc;
}

static void same_error_both_ways(const char *path, const char *what) {
    int d0, d2;
    int r0 = commit_status_for(path, 0, &d0);
    int r2 = commit_status_for(path, 2, &d2);
    cr_assert_neq(r0, 0, "%s: the commit fails", what);
    cr_assert_eq(r2, r0, "%s: same status with workers (%s vs %s)", what, dasf_strerror(r2),
                 dasf_strerror(r0));
    cr_assert_eq(d2, d0, "%s: destroy reports the same", what);
}

Test(workers, append_errors_are_reported_as_without_workers) {
    char *dir = th_tmpdir();
    same_error_both_ways(th_path(dir, "missing/dir/t.zst"), "a directory that does not exist");
    /* A full file: writes past 1 KiB fail (EFBIG; SIGXFSZ ignored).  This
     * test runs in a process of its own, so the limit stays here. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {1024, 1024};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    same_error_both_ways(th_path(dir, "full0.zst"), "a file that cannot grow");
    same_error_both_ways(th_path(dir, "full1.zst"), "a file that cannot grow");
    readback rb = read_back(th_path(dir, "full0.zst"));
    cr_assert_eq(rb.damaged, 0, "partial appends were truncated back: the file reads whole");
    readback_free(&rb);
}

Test(workers, held_lock_then_released_everything_lands) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "lock.zst");
    int fd = hold_lock(path);
    dasf_file_db_options o = small_opts(2, 1);
    o.lock_timeout = 0.05;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    dasf_name h = dasf_intern("l");
    for (long i = 0; i < 100000; i++)
        cr_assert_eq(dasf_record_complete_ns(p, h, TS_NS(0, i), 1), 0);
    cr_assert_eq(dasf_profiler_commit(p), DASF_ELOCK_TIMEOUT);
    dasf_db_stats st;
    cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
    cr_assert_eq(st.written, 0);
    cr_assert_gt(st.pending_bytes, 0);
    close(fd);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    check_whole(path, 1, 100000);
}

/* ---- options and fallback -------------------------------------------------------------------- */

Test(workers, option_range_is_checked) {
    dasf_file_db_options o = dasf_file_db_options_default();
    cr_assert_eq(o.compression_workers, DASF_COMPRESSION_WORKERS_DEFAULT);
    dasf_db *db;
    const char *path = th_tmp_file("opt.zst");
    o.compression_workers = DASF_COMPRESSION_WORKERS_AUTO - 1;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), DASF_EINVAL);
    o.compression_workers = DASF_MAX_COMPRESSION_WORKERS + 1;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), DASF_EINVAL);
    o.compression_workers = DASF_MAX_COMPRESSION_WORKERS;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    o.compression_workers = DASF_COMPRESSION_WORKERS_AUTO;
    cr_assert_eq(dasf_file_db_open(&db, path, &o), 0);
    cr_assert_eq(dasf_db_close(db), 0);
    /* The rule: one per 8 CPUs of the affinity mask, at most 8. */
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int want = CPU_COUNT(&set) / 8;
    cr_assert_eq(dasf_compression_workers(DASF_COMPRESSION_WORKERS_AUTO), want > 8 ? 8 : want);
    cr_assert_eq(dasf_compression_workers(3), 3);
    cr_assert_eq(dasf_compression_workers(0), 0);
}

Test(workers, threads_that_cannot_start_fall_back_to_the_flusher) {
    char *dir = th_tmpdir();
    dasf_pool_test_fail_start = 1;
    readback rb = run_once(dir, "fallback.zst", 4, 1, 2, 10000);
    cr_assert_eq(dasf_pool_test_fail_start, 0, "the failure was taken");
    readback_free(&rb);
}

/* ---- fork ------------------------------------------------------------------------------------- */

/* In a separate program (tests/writer_proc.c "fork-workers"), for the
 * reasons test_runtime.c gives; not under ThreadSanitizer (a child of a
 * multi-threaded process starting threads). */
#if defined(__SANITIZE_THREAD__)
#define UNLESS_TSAN .disabled = true
#else
#define UNLESS_TSAN .disabled = false
#endif

Test(workers, fork_while_workers_are_busy, UNLESS_TSAN) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "fork.zst");
    const char *exe = getenv("DASF_TEST_WRITER");
    cr_assert_not_null(exe, "DASF_TEST_WRITER is not set");
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' fork-workers '%s' 2", exe, path);
    int rc = th_run(cmd, &out);
    cr_assert_eq(rc, 0, "the forking program failed (exit %d)", rc);
    /* writer_proc prints the parent's pid, then each child's pid. */
    long pids[8];
    int np = 0, off = 0, used;
    while (np < 8 && sscanf(out + off, "%ld%n", &pids[np], &used) == 1) np++, off += used;
    free(out);
    cr_assert_eq(np, 5, "parent + 4 children");
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    long per_pid[5] = {0}, bg_next = 0, child_next[4] = {0};
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        cr_assert_eq(ev->process_id.type, DASF_VAL_INT);
        int who = -1;
        for (int k = 0; k < np; k++)
            if (ev->process_id.v.i == pids[k]) who = k;
        cr_assert_geq(who, 0, "event of a process we know");
        per_pid[who]++;
        int w = (int)(ev->timestamp_ns / 1000000000000LL) - 1;
        long i = (long)(ev->timestamp_ns % 1000000000000LL / 1000);
        if (who == 0) {
            cr_assert_eq(w, 0);
            cr_assert_eq(i, bg_next, "parent's stream in order, once");
            bg_next++;
        } else {
            cr_assert_eq(w, who);
            cr_assert_eq(i, child_next[who - 1], "child %d's stream in order, once", who);
            child_next[who - 1]++;
        }
    }
    cr_assert_eq(rc, 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    dasf_trace_close(r);
    cr_assert_eq(st.chunks_damaged, 0);
    cr_assert_eq(per_pid[0], 200000, "the parent's events recorded across the forks, once");
    for (int k = 1; k < 5; k++) cr_assert_eq(per_pid[k], 5000, "child %d's events, once", k);
}
