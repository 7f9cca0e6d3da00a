/* test_clock.c — time never runs backwards: the tick → ns function is one
 * continuous monotone function over the run, across recalibrations, in
 * every thread and in a forked child (docs/RUNTIME.md "Clock"). */
#include "clock.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* ---- the segment table as a pure function ---------------------------------- */

/* Reference: the segment of t found by a linear scan. */
static int64_t ref_ns(const dasf_clock_table *tb, uint64_t t) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < tb->n; i++)
        if (t >= tb->seg[i].tick0) k = i;
    const dasf_clock_seg *s = &tb->seg[k];
    return s->ns0 + dasf_round_i64((double)(int64_t)(t - s->tick0) * s->slope);
}

Test(clock, table_is_continuous_and_monotone_tick_by_tick_across_switches) {
    static dasf_clock_table tb;
    dasf_clock_table_init(&tb, 1000000000000ull, 5000000000000000ll, 0.37);
    static const double factor[] = {1.3, 0.5, 1.0000001, 0.9999999, 2.0, 0.7, 1.0, 1.6};
    uint64_t sw[8];
    uint64_t t = 1000000000000ull;
    for (int k = 0; k < 8; k++) {
        t += 1000003 + (uint64_t)k * 7919;
        sw[k] = t;
        int64_t before = dasf_clock_table_ns(&tb, t); /* the old segment at the switch */
        cr_assert_eq(dasf_clock_table_add(&tb, t, tb.seg[tb.n - 1].slope * factor[k]), 0);
        /* continuity: only the slope changes at the switch tick */
        cr_assert_eq(dasf_clock_table_ns(&tb, t), before, "switch %d", k);
    }
    cr_assert_eq(tb.n, 9);
    for (int k = 0; k < 8; k++) {
        int64_t prev = dasf_clock_table_ns(&tb, sw[k] - 20001);
        for (uint64_t x = sw[k] - 20000; x <= sw[k] + 20000; x++) {
            int64_t v = dasf_clock_table_ns(&tb, x);
            cr_assert_geq(v, prev, "switch %d: ns(%llu) = %lld < ns(prev) = %lld", k,
                          (unsigned long long)x, (long long)v, (long long)prev);
            cr_assert_eq(v, ref_ns(&tb, x), "switch %d tick %llu: not its own segment", k,
                         (unsigned long long)x);
            prev = v;
        }
    }
    /* Far before the first segment and far after the last: still monotone. */
    cr_assert_lt(dasf_clock_table_ns(&tb, 0), dasf_clock_table_ns(&tb, 1000000000000ull));
    cr_assert_lt(dasf_clock_table_ns(&tb, t + 1), dasf_clock_table_ns(&tb, t + 1000000000000ull));
    /* A switch must come after the last one, with a positive slope. */
    cr_assert_eq(dasf_clock_table_add(&tb, t, 0.3), DASF_EINVAL);
    cr_assert_eq(dasf_clock_table_add(&tb, t + 5, 0.0), DASF_EINVAL);
    cr_assert_eq(dasf_clock_table_add(&tb, t + 5, -1.0), DASF_EINVAL);
}

Test(clock, table_full_keeps_its_last_segment) {
    static dasf_clock_table tb;
    dasf_clock_table_init(&tb, 0, 0, 1.0);
    for (uint32_t i = 1; i < DASF_CLOCK_SEGS; i++)
        cr_assert_eq(dasf_clock_table_add(&tb, (uint64_t)i * 10, i % 2 ? 1.5 : 0.75), 0);
    cr_assert_eq(dasf_clock_table_add(&tb, (uint64_t)DASF_CLOCK_SEGS * 10, 1.0), DASF_EINVAL);
    int64_t prev = INT64_MIN;
    for (uint64_t x = 0; x < (uint64_t)DASF_CLOCK_SEGS * 10 + 100; x++) {
        int64_t v = dasf_clock_table_ns(&tb, x);
        cr_assert_geq(v, prev);
        cr_assert_eq(v, ref_ns(&tb, x));
        prev = v;
    }
}

/* ---- the process's clock ---------------------------------------------------- */

/* A tick converts to the same ns before and after a recalibration. */
static void same_tick_same_ns(void) {
    dasf_clock_ticks();
    sleep_ms(60); /* let a first refit be due */
    uint64_t ticks[64];
    int64_t ns[64];
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 64; i++) {
            ticks[i] = dasf_clock_ticks();
            ns[i] = dasf_clock_ticks_to_ns(ticks[i]);
        }
        if (round % 2)
            dasf_clock_test_switch(round % 4 == 1 ? 1.2 : 0.8);
        else
            dasf_clock_recalibrate();
        sleep_ms(5); /* past the new switch tick */
        uint64_t now = dasf_clock_ticks();
        for (int i = 0; i < 64; i++) {
            cr_assert_eq(dasf_clock_ticks_to_ns(ticks[i]), ns[i], "round %d: tick %d moved",
                         round, i);
            cr_assert_leq(ns[i], dasf_clock_ticks_to_ns(now));
        }
    }
    /* Tick by tick across every switch of the run. */
    const dasf_clock_table *tb = dasf_clock_get_table();
    cr_assert_geq(tb->n, 4);
    for (uint32_t k = 1; k < tb->n; k++) {
        uint64_t sw = tb->seg[k].tick0;
        int64_t prev = dasf_clock_ticks_to_ns(sw - 5001);
        for (uint64_t x = sw - 5000; x <= sw + 5000; x++) {
            int64_t v = dasf_clock_ticks_to_ns(x);
            cr_assert_geq(v, prev, "switch %u", k);
            prev = v;
        }
        cr_assert_eq(dasf_clock_ticks_to_ns(sw),
                     tb->seg[k - 1].ns0 + dasf_round_i64((double)(int64_t)(sw - tb->seg[k - 1].tick0) *
                                                         tb->seg[k - 1].slope));
    }
}

Test(clock, a_tick_keeps_its_ns_across_recalibrations) { same_tick_same_ns(); }

static void no_tsc(void) { setenv("DASF_CLOCK_NO_TSC", "1", 1); }

Test(clock, a_tick_keeps_its_ns_across_switches_without_tsc, .init = no_tsc) {
    cr_assert_str_eq(dasf_clock_source(), "clock_gettime");
    same_tick_same_ns();
}

/* A forked child converts every tick of the parent's run as the parent does. */
Test(clock, forked_child_converts_like_the_parent) {
    enum { N = 200 };
    static uint64_t ticks[N];
    static int64_t ns[N];
    for (int i = 0; i < N; i++) {
        ticks[i] = dasf_clock_ticks();
        if (i % 40 == 39) {
            dasf_clock_test_switch(i % 80 == 39 ? 1.1 : 0.9);
            sleep_ms(3);
        }
    }
    sleep_ms(3);
    for (int i = 0; i < N; i++) ns[i] = dasf_clock_ticks_to_ns(ticks[i]);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dasf_clock_test_switch(1.5); /* the child's own future only */
        sleep_ms(3);
        int64_t mine[N];
        for (int i = 0; i < N; i++) mine[i] = dasf_clock_ticks_to_ns(ticks[i]);
        ssize_t w = write(fd[1], mine, sizeof mine);
        _exit(w == (ssize_t)sizeof mine ? 0 : 1);
    }
    close(fd[1]);
    int64_t got[N];
    size_t have = 0;
    while (have < sizeof got) {
        ssize_t r = read(fd[0], (char *)got + have, sizeof got - have);
        cr_assert_gt(r, 0);
        have += (size_t)r;
    }
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < N; i++) cr_assert_eq(got[i], ns[i], "tick %d", i);
}

/* ---- nested zones from 4 threads across forced recalibrations ----------------- */

typedef struct zjob {
    dasf_profiler *p;
    volatile int *stop;
} zjob;

static dasf_name g_be;

static void spin(int n) {
    for (volatile int i = 0; i < n; i++) {
    }
}

/* Three siblings per level, back to back: zones (X from ticks) and
 * begin/end pairs (B/E from ticks), nested four deep. */
static void nest(dasf_profiler *p, int depth) {
    for (int i = 0; i < 3; i++) {
        if ((i + depth) % 2 == 0) {
            DASF_ZONE(p, "zone");
            spin(50);
            if (depth < 3) nest(p, depth + 1);
        } else {
            dasf_record_begin_now(p, g_be);
            spin(50);
            if (depth < 3) nest(p, depth + 1);
            dasf_record_end_now(p, g_be);
        }
    }
}

static void *zone_thread(void *arg) {
    zjob *j = arg;
    while (!__atomic_load_n(j->stop, __ATOMIC_ACQUIRE)) {
        nest(j->p, 0);
        sleep_ms(1);
    }
    return NULL;
}

typedef struct span {
    int64_t s, e;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return x->e > y->e ? -1 : x->e < y->e; /* the parent first */
}

typedef struct thread_spans {
    int64_t tid;
    span *v;
    size_t n, cap;
    int64_t open[16]; /* open B starts */
    int depth;
} thread_spans;

static void push_span(thread_spans *t, int64_t s, int64_t e) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (span){s, e};
}

/* forced: 24 forced switches 8 ms apart (slopes ±10-30 %); else a 1.3 s
 * run through the natural recalibrations (the 1 s one of issue 16). */
static void nested_zones(int forced) {
    const char *path = th_tmp_file("zones.zst");
    unlink(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = 1;
    o.flush = false;
    o.commit_threshold = 40; /* the flusher drains (converts) mid-burst */
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    g_be = dasf_intern("be");
    uint32_t n0 = dasf_clock_get_table()->n;
    volatile int stop = 0;
    zjob j = {p, &stop};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&th[i], NULL, zone_thread, &j), 0);
    static const double factor[] = {1.25, 0.8, 1.1, 0.9, 1.3, 0.75};
    for (int k = 0; k < (forced ? 24 : 130); k++) {
        sleep_ms(forced ? 8 : 10);
        if (forced) dasf_clock_test_switch(factor[k % 6]);
        dasf_clock_recalibrate();
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    if (dasf_clock_use_tsc || forced)
        cr_assert_geq(dasf_clock_get_table()->n, n0 + (forced ? 24 : 3), "no recalibration");

    thread_spans ts[8];
    int nts = 0;
    memset(ts, 0, sizeof ts);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    int rc;
    size_t events = 0;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        cr_assert_eq(ev->thread_id.type, DASF_VAL_INT);
        thread_spans *t = NULL;
        for (int i = 0; i < nts; i++)
            if (ts[i].tid == ev->thread_id.v.i) t = &ts[i];
        if (!t) {
            cr_assert_lt(nts, 8);
            t = &ts[nts++];
            t->tid = ev->thread_id.v.i;
        }
        events++;
        if (ev->phase == DASF_PHASE_COMPLETE) {
            cr_assert_geq(ev->duration_ns, 0);
            push_span(t, ev->timestamp_ns, ev->timestamp_ns + ev->duration_ns);
        } else if (ev->phase == DASF_PHASE_DURATION_BEGIN) {
            cr_assert_lt(t->depth, 16);
            t->open[t->depth++] = ev->timestamp_ns;
        } else {
            cr_assert_eq(ev->phase, DASF_PHASE_DURATION_END);
            cr_assert_gt(t->depth, 0);
            int64_t s = t->open[--t->depth];
            cr_assert_geq(ev->timestamp_ns, s, "an end before its begin");
            push_span(t, s, ev->timestamp_ns);
        }
    }
    cr_assert_eq(rc, 0);
    dasf_trace_close(r);
    cr_assert_eq(nts, 4);
    cr_assert_gt(events, 1000);
    for (int i = 0; i < nts; i++) {
        thread_spans *t = &ts[i];
        cr_assert_eq(t->depth, 0);
        qsort(t->v, t->n, sizeof *t->v, span_cmp);
        span stack[16];
        int d = 0;
        for (size_t k = 0; k < t->n; k++) {
            span c = t->v[k];
            while (d > 0 && stack[d - 1].e <= c.s) d--; /* siblings may touch */
            cr_assert(d == 0 || c.e <= stack[d - 1].e,
                      "thread %d: span [%lld, %lld] leaves its parent [%lld, %lld] or overlaps a "
                      "sibling",
                      i, (long long)c.s, (long long)c.e, (long long)stack[d - 1].s,
                      (long long)stack[d - 1].e);
            cr_assert_lt(d, 16);
            stack[d++] = c;
        }
        free(t->v);
    }
}

Test(clock, nested_zones_from_4_threads_across_switches, .timeout = 300) { nested_zones(1); }

Test(clock, nested_zones_from_4_threads_across_switches_without_tsc, .init = no_tsc,
     .timeout = 300) {
    nested_zones(1);
}

Test(clock, nested_zones_from_4_threads_across_the_natural_recalibrations, .timeout = 300) {
    nested_zones(0);
}
