/*
 * test_runtime.c — the recording runtime as a user relies on it: every event
 * recorded by any thread lands exactly once and in order, commit() is a
 * barrier, overflow policies do what they say, fork and thread exit lose
 * nothing and duplicate nothing, a held file lock never stops recording.
 */
#include "helpers.h"

#include "dasf/profiler.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- reading back ------------------------------------------------------------- */

#define MAX_STREAMS 64

typedef struct seen {
    long total;
    long dropped_reported; /* sum of dasf.dropped counts */
    long per_name[MAX_STREAMS];
    long last_seq[MAX_STREAMS]; /* order check per stream */
    int order_ok;
    long pid_count[4];
    int64_t pids[4];
} seen;

static const dasf_value *arg(const dasf_trace_event *ev, const char *k) {
    return dasf_value_map_get(&ev->args, k);
}

static int64_t ival(const dasf_value *v) {
    if (!v) return -1;
    if (v->type == DASF_VAL_INT) return v->v.i;
    if (v->type == DASF_VAL_UINT) return (int64_t)v->v.u;
    return -1;
}

static int collect(const dasf_trace_event *ev, void *user) {
    seen *s = user;
    if (strcmp(ev->name, "dasf.dropped") == 0) {
        s->dropped_reported += ival(arg(ev, "count"));
        return 0;
    }
    s->total++;
    int k = -1;
    if (sscanf(ev->name, "t%d", &k) == 1 && k >= 0 && k < MAX_STREAMS) {
        s->per_name[k]++;
        int64_t seq = ival(arg(ev, "seq"));
        if (seq <= s->last_seq[k]) s->order_ok = 0;
        s->last_seq[k] = seq;
    }
    if (ev->process_id.type == DASF_VAL_INT) {
        for (int i = 0; i < 4; i++) {
            if (s->pid_count[i] == 0 || s->pids[i] == ev->process_id.v.i) {
                s->pids[i] = ev->process_id.v.i;
                s->pid_count[i]++;
                break;
            }
        }
    }
    return 0;
}

static seen read_all(const char *path) {
    seen s;
    memset(&s, 0, sizeof s);
    s.order_ok = 1;
    for (int i = 0; i < MAX_STREAMS; i++) s.last_seq[i] = -1;
    int rc = dasf_trace_read_file(path, collect, &s);
    cr_assert_eq(rc, 0, "reading %s: %s", path, dasf_strerror(rc));
    return s;
}

static long pid_events(const seen *s, int64_t pid) {
    for (int i = 0; i < 4; i++)
        if (s->pid_count[i] && s->pids[i] == pid) return s->pid_count[i];
    return 0;
}

/* ---- recording threads ------------------------------------------------------- */

typedef th_job job;

static void *record_thread(void *arg) {
    job *j = arg;
    th_record_job(j);
    cr_assert_eq(j->other, 0, "record: %s", dasf_strerror(j->last_error));
    return NULL;
}

static dasf_file_db_options opts_small(void) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false; /* fsync is the disk's business, not this test's */
    o.commit_threshold = 5000;
    return o;
}

Test(runtime, threads_start_and_exit_mid_run_every_event_once_in_order) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "t.msgpack.zst");
    dasf_file_db_options o = opts_small();
    o.ring_capacity = 1 << 16; /* small: wraps many times, forces blocking */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    enum { WAVES = 3, PER_WAVE = 4, M = 20000 };
    job jobs[WAVES * PER_WAVE];
    for (int w = 0; w < WAVES; w++) {
        pthread_t th[PER_WAVE];
        for (int i = 0; i < PER_WAVE; i++) {
            job *j = &jobs[w * PER_WAVE + i];
            *j = (job){.p = p, .k = w * PER_WAVE + i, .n = M};
            pthread_create(&th[i], NULL, record_thread, j);
        }
        for (int i = 0; i < PER_WAVE; i++) pthread_join(th[i], NULL);
        /* threads of this wave exited without any commit */
    }
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    seen s = read_all(path);
    cr_assert_eq(s.total, (long)WAVES * PER_WAVE * M);
    for (int k = 0; k < WAVES * PER_WAVE; k++) cr_assert_eq(s.per_name[k], M, "stream %d", k);
    cr_assert(s.order_ok, "per-thread order preserved");
    cr_assert_eq(s.dropped_reported, 0);
}

Test(runtime, commit_is_a_barrier) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "c.msgpack.zst");
    dasf_file_db_options o = opts_small();
    o.commit_threshold = 1000000; /* never by threshold */
    o.flush_interval = 3600;      /* never by timer */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    job j = {.p = p, .k = 0, .n = 1234};
    pthread_t th;
    pthread_create(&th, NULL, record_thread, &j);
    pthread_join(th, NULL);
    for (long i = 0; i < 100; i++) {
        dasf_arg a = DASF_ARG_I64("seq", i);
        cr_assert_eq(dasf_record_complete_args(p, "t1", 2.0 + (double)i, 0.5, &a, 1), 0);
    }
    cr_assert_eq(dasf_profiler_commit(p), 0);
    seen s = read_all(path);
    cr_assert_eq(s.total, 1334, "all events recorded before commit are in the file");
    cr_assert_eq(dasf_profiler_commit(p), 0); /* nothing new: still fine */
    cr_assert_eq(read_all(path).total, 1334, "an empty commit writes nothing");
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    cr_assert_eq(read_all(path).total, 1334);
}

Test(runtime, block_policy_never_loses) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "b.msgpack.zst");
    dasf_file_db_options o = opts_small();
    o.ring_capacity = 1 << 16;
    o.overflow = DASF_OVERFLOW_BLOCK;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    job j = {.p = p, .k = 0, .n = 300000};
    record_thread(&j);
    cr_assert_eq(j.drop, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    seen s = read_all(path);
    cr_assert_eq(s.total, 300000);
    cr_assert(s.order_ok);
}

Test(runtime, drop_policy_reports_an_exact_count) {
    char *dir = th_tmpdir();
    long total_drop = 0;
    for (int attempt = 0; attempt < 5 && total_drop == 0; attempt++) {
        char name[32];
        snprintf(name, sizeof name, "d%d.msgpack.zst", attempt);
        char *path = th_path(dir, name);
        dasf_file_db_options o = opts_small();
        o.ring_capacity = 1 << 16; /* 2048 records */
        o.overflow = DASF_OVERFLOW_DROP;
        dasf_profiler *p;
        cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
        job j = {.p = p, .k = 0, .n = 400000};
        record_thread(&j);
        dasf_db_stats st;
        cr_assert_eq(dasf_db_get_stats(dasf_profiler_database(p), &st), 0);
        cr_assert_eq((long)st.dropped, j.drop, "stats count every dropped event");
        cr_assert_eq(dasf_profiler_destroy(p), 0);
        seen s = read_all(path);
        cr_assert_eq(s.total, j.ok, "every accepted event is in the file");
        cr_assert_eq(s.dropped_reported, j.drop, "the file says how many were dropped");
        cr_assert_eq(j.ok + j.drop, 400000);
        cr_assert(s.order_ok);
        total_drop += j.drop;
    }
    cr_assert_gt(total_drop, 0, "a 2048-record ring overflowed at least once in 5 bursts");
}

/* The scenario runs in a separate program (tests/writer_proc.c "fork"),
 * so the Criterion runner's threads are not in the process at fork time.
 * ThreadSanitizer does not support a child of a multi-threaded process
 * starting threads ("starting new threads after multi-threaded fork is not
 * supported"), which is what this test is about (the child's own flusher):
 * it runs in the debug and ASan+UBSan builds, not under TSan. */
#if defined(__SANITIZE_THREAD__)
#define UNLESS_TSAN .disabled = true
#else
#define UNLESS_TSAN .disabled = false
#endif

Test(runtime, fork_mid_recording_each_event_exactly_once, UNLESS_TSAN) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "f.msgpack.zst");
    const char *exe = getenv("DASF_TEST_WRITER");
    cr_assert_not_null(exe, "DASF_TEST_WRITER is not set");
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' fork '%s'", exe, path);
    int rc = th_run(cmd, &out);
    cr_assert_eq(rc, 0, "the forking program failed (exit %d)", rc);
    long parent = 0, child = 0;
    cr_assert_eq(sscanf(out, "%ld %ld", &parent, &child), 2, "pids: %s", out);
    free(out);
    seen s = read_all(path);
    cr_assert_eq(s.per_name[0], 5000, "pre-fork events written once (by the parent)");
    cr_assert_eq(s.per_name[1], 7000, "child events written once");
    cr_assert_eq(s.per_name[2], 3000);
    cr_assert_eq(s.per_name[3], 20000, "the thread recording across fork lost nothing");
    cr_assert(s.order_ok, "per-thread order kept");
    cr_assert_eq(pid_events(&s, parent), 28000);
    cr_assert_eq(pid_events(&s, child), 7000);
}

Test(runtime, held_lock_does_not_stop_recording_and_nothing_is_lost) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "l.msgpack.zst");
    dasf_file_db_options o = opts_small();
    o.lock_timeout = 0.3;
    o.commit_threshold = 1000;
    o.ring_capacity = 1 << 16; /* would block quickly if the flusher stalled */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    /* Another open file description: flock conflicts with it as with
     * another process. */
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    job j = {.p = p, .k = 0, .n = 200000}; /* ~100 rings' worth: must keep draining */
    record_thread(&j);
    cr_assert_eq(j.ok, 200000);
    cr_assert_eq(dasf_profiler_commit(p), DASF_ELOCK_TIMEOUT, "commit reports the timeout");
    dasf_db_stats st;
    dasf_db_get_stats(dasf_profiler_database(p), &st);
    cr_assert_eq(st.written, 0);
    cr_assert_eq(st.last_error, DASF_ELOCK_TIMEOUT);
    cr_assert_eq(flock(fd, LOCK_UN), 0);
    close(fd);
    cr_assert_eq(dasf_profiler_commit(p), 0, "after release everything lands");
    seen s = read_all(path);
    cr_assert_eq(s.total, 200000);
    cr_assert(s.order_ok);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
}

Test(runtime, two_profilers_on_one_thread_get_their_own_rings) {
    char *dir = th_tmpdir();
    char *a = th_path(dir, "a.msgpack.zst"), *b = th_path(dir, "b.msgpack.zst");
    dasf_profiler *pa, *pb;
    dasf_file_db_options o = opts_small();
    cr_assert_eq(dasf_profiler_create(&pa, a, &o, NULL), 0);
    cr_assert_eq(dasf_profiler_create(&pb, b, &o, NULL), 0);
    dasf_name n = dasf_intern("t0");
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(dasf_record_complete_h(pa, n, i, 1), 0);
        if (i % 2 == 0) cr_assert_eq(dasf_record_complete_h(pb, n, i, 1), 0);
    }
    cr_assert_eq(dasf_profiler_destroy(pa), 0);
    cr_assert_eq(dasf_profiler_destroy(pb), 0);
    cr_assert_eq(th_count_events(a), 1000);
    cr_assert_eq(th_count_events(b), 500);
}

Test(runtime, use_after_destroy_is_an_error_not_a_crash) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "u.msgpack.zst");
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, NULL, NULL), 0);
    dasf_name n = dasf_intern("x");
    cr_assert_eq(dasf_record_complete_h(p, n, 1, 1), 0);
    int rc = dasf_profiler_destroy(p);
    cr_assert_eq(rc, 0, "destroy: %s", dasf_strerror(rc));
    cr_assert_eq(dasf_record_complete_h(p, n, 2, 1), DASF_ECLOSED);
    cr_assert_eq(dasf_profiler_record_complete_event(p, "x", 2, 1, NULL), DASF_ECLOSED);
    cr_assert_eq(dasf_profiler_commit(p), DASF_ECLOSED);
    cr_assert_eq(dasf_profiler_destroy(p), DASF_ECLOSED);
    cr_assert_eq(th_count_events(path), 1);
}

Test(runtime, zone_records_a_complete_event_on_the_monotonic_clock) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "z.msgpack.zst");
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, NULL, NULL), 0);
    double t0 = dasf_now();
    for (int i = 0; i < 3; i++) {
        DASF_ZONE(p, "outer");
        {
            DASF_ZONE(p, "inner");
            usleep(2000);
        }
    }
    double t1 = dasf_now();
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    int n = 0, inner = 0;
    while (dasf_trace_next(r, &ev) == 1) {
        n++;
        cr_assert_eq(ev->phase, DASF_PHASE_COMPLETE);
        cr_assert(ev->timestamp >= t0 - 1e-3 && ev->timestamp + ev->duration <= t1 + 1e-3,
                  "zone [%f, +%f] within [%f, %f]", ev->timestamp, ev->duration, t0, t1);
        if (strcmp(ev->name, "inner") == 0) {
            inner++;
            cr_assert_geq(ev->duration, 1.9e-3);
        }
    }
    dasf_trace_close(r);
    cr_assert_eq(n, 6);
    cr_assert_eq(inner, 3);
}

Test(runtime, default_profiler_from_environment) {
    char *dir = th_tmpdir();
    char *path = th_path(dir, "env.msgpack");
    setenv("DASF_TRACE_FILE", path, 1);
    setenv("DASF_COMPRESSION", "0", 1);
    setenv("DASF_COMMIT_THRESHOLD", "10", 1);
    /* a fresh program: 25 instants into the default profiler, committed at exit */
    pid_t c = th_spawn_writer((const char *const[]){"default", "25", NULL});
    unsetenv("DASF_TRACE_FILE");
    unsetenv("DASF_COMPRESSION");
    unsetenv("DASF_COMMIT_THRESHOLD");
    cr_assert_gt(c, 0);
    int st;
    cr_assert_eq(waitpid(c, &st, 0), c);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer exit status %d", st);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    dasf_trace_stats ts;
    const dasf_trace_event *ev;
    long n = 0;
    while (dasf_trace_next(r, &ev) == 1) n++;
    dasf_trace_get_stats(r, &ts);
    dasf_trace_close(r);
    cr_assert_eq(ts.layout, DASF_LAYOUT_LEGACY, "DASF_COMPRESSION=0 gives the Python layout");
    cr_assert_eq(n, 25);
}

Test(runtime, default_profiler_is_off_without_environment) {
    fflush(NULL);
    pid_t c = fork();
    if (c == 0) {
        unsetenv("DASF_TRACE_FILE");
        _exit(dasf_default_profiler() == NULL ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(runtime, clock_is_monotonic_time) {
    (void)dasf_now(); /* the first call calibrates */
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double before = (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
    double now = dasf_now();
    clock_gettime(CLOCK_MONOTONIC, &t);
    double after = (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
    cr_assert(now > before - 1e-4 && now < after + 1e-4,
              "dasf_now %.9f outside monotonic [%.9f, %.9f]", now, before, after);
    double prev = dasf_now();
    for (int i = 0; i < 100000; i++) {
        double x = dasf_now();
        cr_assert_geq(x, prev - 1e-6);
        prev = x;
    }
    const char *src = dasf_clock_source();
    cr_assert(strcmp(src, "tsc") == 0 || strcmp(src, "clock_gettime") == 0);
}
