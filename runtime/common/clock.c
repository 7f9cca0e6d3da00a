/*
 * clock.c — dasf_now(): CLOCK_MONOTONIC's time line, read from the TSC, and
 * the one tick → nanosecond function of the process.
 *
 * Threads: any thread reads the clock and converts ticks (dasf_now,
 * DASF_ZONE, the flusher converting recorded ticks); recalibration runs on
 * flusher threads (and the test hook), serialised by g_recal_lock.
 *
 * The TSC is used only when the kernel itself uses it as its clocksource
 * (so it is invariant and synchronised across CPUs); otherwise a "tick" is
 * a CLOCK_MONOTONIC nanosecond and the function is the identity.
 *
 * Invariants (docs/RUNTIME.md "Clock"):
 *  - ticks → ns is ONE function for the whole run: a table of linear
 *    segments (dasf_clock_table, a plain array: no pointers, so it can be
 *    copied or shared as is).  Segment k covers [tick0_k, tick0_k+1); a new
 *    segment starts where the previous one is at its switch tick (only the
 *    slope changes), so the function is continuous and, slopes being > 0,
 *    monotone: t1 < t2 ⇒ ns(t1) <= ns(t2).
 *  - A published segment is never changed; segments are only appended, and
 *    their switch tick lies DASF_CLOCK_MARGIN_NS in the future when they
 *    are published, so no thread can have converted a tick of the new
 *    segment with the old one.  A tick therefore converts to the same ns in
 *    every thread, whenever it is converted (at record time, or seconds
 *    later on the flusher), and in a forked child (which inherits the table).
 *  - Recalibration never jumps: it measures the offset between the
 *    function and CLOCK_MONOTONIC and chooses the next slope so that the
 *    offset is slewed away over the next interval (at most
 *    DASF_CLOCK_MAX_SLEW relative), like NTP's adjtime.
 */
#include "clock.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* How far ahead of "now" a new segment starts (publication must land
 * before it: a few microseconds in practice). */
#define DASF_CLOCK_MARGIN_NS 2000000
/* Largest slope correction of a recalibration, relative (500 ppm). */
#define DASF_CLOCK_MAX_SLEW 5e-4

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
int dasf_clock_use_tsc; /* set once at init (see rt.h) */
#define g_use_tsc dasf_clock_use_tsc
/* The process's conversion function.  g_identity: ticks are ns (no TSC
 * and no test-forced segment), so conversions skip the table. */
static dasf_clock_table g_tab;
static int g_identity = 1;
/* The first calibration point, the base of the long-baseline fit; when the
 * next recalibration is due. */
static uint64_t g_first_tick;
static int64_t g_first_ns;
static int64_t g_next_recal_ns, g_recal_interval_ns;
static pthread_mutex_t g_recal_lock = PTHREAD_MUTEX_INITIALIZER;
/* shm.c's copy of the function for a recoverer (written under g_recal_lock). */
static dasf_shm_clock *g_mirror;
static void clock_init(void);

/* Copies segments and the identity flag to the mirror (g_recal_lock held).
 * A new segment's switch tick is DASF_CLOCK_MARGIN_NS ahead, so it is in
 * shared memory before any tick it converts can be recorded. */
static void mirror_sync(void) {
    dasf_shm_clock *m = g_mirror;
    if (!m) return;
    uint32_t n = __atomic_load_n(&g_tab.n, __ATOMIC_ACQUIRE);
    uint32_t have = __atomic_load_n(&m->tab.n, __ATOMIC_RELAXED);
    for (uint32_t i = have; i < n; i++) m->tab.seg[i] = g_tab.seg[i];
    __atomic_store_n(&m->identity, __atomic_load_n(&g_identity, __ATOMIC_RELAXED),
                     __ATOMIC_RELEASE);
    __atomic_store_n(&m->tab.n, n, __ATOMIC_RELEASE);
}

void dasf_clock_set_mirror(dasf_shm_clock *m) {
    pthread_once(&g_once, clock_init);
    pthread_mutex_lock(&g_recal_lock);
    g_mirror = m;
    mirror_sync();
    pthread_mutex_unlock(&g_recal_lock);
}

void dasf_clock_forget_mirror(void) {
    g_mirror = NULL; /* fork child, single-threaded */
}

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t rdtsc(void) {
    return __builtin_ia32_rdtsc();
}
#else
static inline uint64_t rdtsc(void) {
    return (uint64_t)mono_ns();
}
#endif

static uint64_t raw_ticks(void) { return g_use_tsc ? rdtsc() : (uint64_t)mono_ns(); }

int64_t dasf_clock_mono_ns(void) { return mono_ns(); }

/* ---- the segment table (pure functions: tests drive them directly) ------- */

static inline int64_t seg_ns(const dasf_clock_seg *s, uint64_t t) {
    return s->ns0 + dasf_round_i64((double)(int64_t)(t - s->tick0) * s->slope);
}

void dasf_clock_table_init(dasf_clock_table *tb, uint64_t tick0, int64_t ns0, double slope) {
    tb->seg[0].tick0 = tick0;
    tb->seg[0].ns0 = ns0;
    tb->seg[0].slope = slope;
    __atomic_store_n(&tb->n, 1, __ATOMIC_RELEASE);
}

int64_t dasf_clock_table_ns(const dasf_clock_table *tb, uint64_t t) {
    uint32_t n = __atomic_load_n(&tb->n, __ATOMIC_ACQUIRE);
    if (DASF_UNLIKELY(n == 0)) return (int64_t)t;
    const dasf_clock_seg *s = &tb->seg[n - 1];
    if (DASF_LIKELY(t >= s->tick0)) return seg_ns(s, t);
    /* Older (or not yet started) segments: the last one whose tick0 <= t;
     * ticks before the first segment extend it backwards. */
    uint32_t lo = 0, hi = n - 1; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t >= tb->seg[mid].tick0)
            lo = mid;
        else
            hi = mid;
    }
    return seg_ns(&tb->seg[lo], t);
}

int dasf_clock_table_add(dasf_clock_table *tb, uint64_t tick, double slope) {
    uint32_t n = __atomic_load_n(&tb->n, __ATOMIC_RELAXED); /* the writer's own */
    if (n == 0 || n >= DASF_CLOCK_SEGS || !(slope > 0) || !isfinite(slope)) return DASF_EINVAL;
    const dasf_clock_seg *last = &tb->seg[n - 1];
    if (tick <= last->tick0) return DASF_EINVAL;
    dasf_clock_seg *s = &tb->seg[n];
    s->tick0 = tick;
    s->ns0 = seg_ns(last, tick); /* continuity: the old segment's value there */
    s->slope = slope;
    __atomic_store_n(&tb->n, n + 1, __ATOMIC_RELEASE);
    return DASF_OK;
}

/* ---- calibration ----------------------------------------------------------- */

/* A (tick, ns) pair with the tick read between two clock reads; the pair
 * from the tightest of a few brackets is kept. */
static void sample(uint64_t *tick, int64_t *ns) {
    int64_t best = INT64_MAX;
    *tick = 0;
    *ns = 0;
    for (int i = 0; i < 5; i++) {
        int64_t a = mono_ns();
        uint64_t t = rdtsc();
        int64_t b = mono_ns();
        if (b - a < best) {
            best = b - a;
            *tick = t;
            *ns = a + (b - a) / 2;
        }
    }
}

static int kernel_uses_tsc(void) {
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f) return 0;
    char buf[32] = {0};
    int ok = fgets(buf, sizeof buf, f) != NULL && strncmp(buf, "tsc", 3) == 0;
    fclose(f);
    return ok;
}

/* fork: the child must not inherit a recalibration lock held by a thread
 * that does not exist there.  The table itself is copied as it is. */
static void atfork_prepare(void) { pthread_mutex_lock(&g_recal_lock); }
static void atfork_release(void) { pthread_mutex_unlock(&g_recal_lock); }

static void clock_init(void) {
    pthread_atfork(atfork_prepare, atfork_release, atfork_release);
#if defined(__x86_64__) || defined(__i386__)
    g_use_tsc = kernel_uses_tsc() && !getenv("DASF_CLOCK_NO_TSC");
#endif
    if (!g_use_tsc) {
        dasf_clock_table_init(&g_tab, 0, 0, 1.0);
        return;
    }
    uint64_t t0, t1;
    int64_t n0, n1;
    sample(&t0, &n0);
    do { /* ~2 ms baseline for the first slope */
        sample(&t1, &n1);
    } while (n1 - n0 < 2000000);
    g_first_tick = t0;
    g_first_ns = n0;
    dasf_clock_table_init(&g_tab, t1, n1, (double)(n1 - n0) / (double)(t1 - t0));
    __atomic_store_n(&g_identity, 0, __ATOMIC_RELEASE);
    /* Refits at 50 ms, 200 ms, 1 s, then at doubling intervals up to 64 s:
     * early ones fix the short first baseline, late ones follow drift. */
    g_recal_interval_ns = 50000000;
    g_next_recal_ns = n1 + g_recal_interval_ns;
}

/* 50 ms, 150 ms, 800 ms, then doubling up to 64 s. */
static void next_interval(void) {
    if (g_recal_interval_ns == 50000000)
        g_recal_interval_ns = 150000000;
    else if (g_recal_interval_ns == 150000000)
        g_recal_interval_ns = 800000000;
    else if (g_recal_interval_ns < 32000000000)
        g_recal_interval_ns *= 2;
    else
        g_recal_interval_ns = 64000000000;
}

/* One refit (TSC only; g_recal_lock held).  The long-baseline slope from
 * the first calibration point, corrected so that the function's offset
 * from CLOCK_MONOTONIC at the switch tick is slewed away over the next
 * interval; the switch tick lies DASF_CLOCK_MARGIN_NS ahead. */
static void refit(void) {
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t t;
        int64_t n;
        sample(&t, &n);
        if (t <= g_first_tick || n <= g_first_ns) return;
        double fit = (double)(n - g_first_ns) / (double)(t - g_first_tick);
        uint64_t margin = (uint64_t)(DASF_CLOCK_MARGIN_NS / fit);
        uint64_t sw = t + margin;
        /* Offset at the switch tick: our function against the fitted line. */
        double target = (double)n + (double)margin * fit;
        double off = (double)dasf_clock_table_ns(&g_tab, sw) - target;
        double horizon = (double)g_recal_interval_ns / fit; /* in ticks */
        double corr = -off / horizon;
        double lim = fit * DASF_CLOCK_MAX_SLEW;
        if (corr > lim) corr = lim;
        if (corr < -lim) corr = -lim;
        /* Publish only while the switch tick is still well ahead. */
        if (rdtsc() + margin / 2 >= sw) continue;
        dasf_clock_table_add(&g_tab, sw, fit + corr);
        mirror_sync();
        return;
    }
}

void dasf_clock_recalibrate(void) {
    pthread_once(&g_once, clock_init);
    if (!g_use_tsc) return;
    if (mono_ns() < __atomic_load_n(&g_next_recal_ns, __ATOMIC_RELAXED)) return;
    pthread_mutex_lock(&g_recal_lock);
    int64_t now = mono_ns();
    if (now >= g_next_recal_ns) {
        next_interval();
        refit();
        __atomic_store_n(&g_next_recal_ns, now + g_recal_interval_ns, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&g_recal_lock);
}

void dasf_clock_test_switch(double factor) {
    pthread_once(&g_once, clock_init);
    pthread_mutex_lock(&g_recal_lock);
    uint32_t n = __atomic_load_n(&g_tab.n, __ATOMIC_RELAXED);
    double slope = g_tab.seg[n - 1].slope * factor;
    uint64_t margin = (uint64_t)(DASF_CLOCK_MARGIN_NS / g_tab.seg[n - 1].slope);
    __atomic_store_n(&g_identity, 0, __ATOMIC_RELEASE);
    dasf_clock_table_add(&g_tab, raw_ticks() + margin, slope);
    mirror_sync();
    pthread_mutex_unlock(&g_recal_lock);
}

const dasf_clock_table *dasf_clock_get_table(void) {
    pthread_once(&g_once, clock_init);
    return &g_tab;
}

/* ---- reading and converting ---------------------------------------------- */

uint64_t dasf_clock_ticks(void) {
    pthread_once(&g_once, clock_init);
    return raw_ticks();
}

int64_t dasf_clock_ticks_to_ns(uint64_t ticks) {
    if (__atomic_load_n(&g_identity, __ATOMIC_RELAXED)) return (int64_t)ticks;
    return dasf_clock_table_ns(&g_tab, ticks);
}

int64_t dasf_clock_span_to_ns(uint64_t start, uint64_t dticks) {
    if (__atomic_load_n(&g_identity, __ATOMIC_RELAXED)) return (int64_t)dticks;
    return (int64_t)((uint64_t)dasf_clock_table_ns(&g_tab, start + dticks) -
                     (uint64_t)dasf_clock_table_ns(&g_tab, start));
}

int64_t dasf_now_ns(void) {
    pthread_once(&g_once, clock_init);
    if (!g_use_tsc && __atomic_load_n(&g_identity, __ATOMIC_RELAXED)) return mono_ns();
    return dasf_clock_ticks_to_ns(raw_ticks());
}

double dasf_now(void) {
    return dasf_ns_to_seconds(dasf_now_ns());
}

const char *dasf_clock_source(void) {
    pthread_once(&g_once, clock_init);
    return g_use_tsc ? "tsc" : "clock_gettime";
}
