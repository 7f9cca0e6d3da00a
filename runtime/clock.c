/*
 * clock.c — dasf_now(): CLOCK_MONOTONIC's time line, read from the TSC.
 *
 * Called from any thread (dasf_now, DASF_ZONE) and from the flusher (tick →
 * ns conversion, recalibration).  The TSC is used only when the kernel
 * itself uses it as its clocksource (so it is invariant and synchronised
 * across CPUs); otherwise every read is clock_gettime(CLOCK_MONOTONIC) and
 * a "tick" is a nanosecond.  Calibration: a first line fitted over ~2 ms at
 * first use, refitted by the flusher over an ever longer baseline, so the
 * slope error shrinks with the run.  The line is published with a seqlock.
 */
#include "rt.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
int dasf_clock_use_tsc; /* set once at init (see rt.h) */
#define g_use_tsc dasf_clock_use_tsc
/* Seqlock-protected line: ns = ns0 + (ticks - tick0) * ns_per_tick. */
static uint32_t g_seq;
static uint64_t g_tick0;
static int64_t g_ns0;
static uint64_t g_slope_bits; /* double ns_per_tick */
/* The first calibration point, the base of the long-baseline refit. */
static uint64_t g_first_tick;
static int64_t g_first_ns;
static pthread_mutex_t g_recal_lock = PTHREAD_MUTEX_INITIALIZER;

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

static void publish(uint64_t tick0, int64_t ns0, double slope) {
    uint64_t bits;
    memcpy(&bits, &slope, sizeof bits);
    __atomic_fetch_add(&g_seq, 1, __ATOMIC_ACQ_REL); /* odd: writing */
    __atomic_store_n(&g_tick0, tick0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_ns0, ns0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_slope_bits, bits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&g_seq, 1, __ATOMIC_RELEASE); /* even: done */
}

static int kernel_uses_tsc(void) {
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f) return 0;
    char buf[32] = {0};
    int ok = fgets(buf, sizeof buf, f) != NULL && strncmp(buf, "tsc", 3) == 0;
    fclose(f);
    return ok;
}

static void clock_init(void) {
#if defined(__x86_64__) || defined(__i386__)
    g_use_tsc = kernel_uses_tsc() && !getenv("DASF_CLOCK_NO_TSC");
#endif
    if (!g_use_tsc) {
        publish(0, 0, 1.0);
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
    publish(t1, n1, (double)(n1 - n0) / (double)(t1 - t0));
}

void dasf_clock_recalibrate(void) {
    pthread_once(&g_once, clock_init);
    if (!g_use_tsc) return;
    pthread_mutex_lock(&g_recal_lock);
    uint64_t t;
    int64_t n;
    sample(&t, &n);
    if (t > g_first_tick && n > g_first_ns)
        publish(t, n, (double)(n - g_first_ns) / (double)(t - g_first_tick));
    pthread_mutex_unlock(&g_recal_lock);
}

static void read_line(uint64_t *tick0, int64_t *ns0, double *slope) {
    uint32_t s1, s2;
    uint64_t bits;
    do {
        s1 = __atomic_load_n(&g_seq, __ATOMIC_ACQUIRE);
        /* Acquire loads (plain moves on x86) keep the second read of the
         * sequence after the fields without a fence, which TSan cannot model. */
        *tick0 = __atomic_load_n(&g_tick0, __ATOMIC_ACQUIRE);
        *ns0 = __atomic_load_n(&g_ns0, __ATOMIC_ACQUIRE);
        bits = __atomic_load_n(&g_slope_bits, __ATOMIC_ACQUIRE);
        s2 = __atomic_load_n(&g_seq, __ATOMIC_RELAXED);
    } while ((s1 & 1) || s1 != s2);
    memcpy(slope, &bits, sizeof *slope);
}

uint64_t dasf_clock_ticks(void) {
    pthread_once(&g_once, clock_init);
    return g_use_tsc ? rdtsc() : (uint64_t)mono_ns();
}

uint64_t dasf_zone_ticks(void) {
    /* DASF_ZONE's start: g_use_tsc is set before any ring exists (the
     * profiler initialises the clock at creation). */
    return g_use_tsc ? rdtsc() : (uint64_t)mono_ns();
}

int64_t dasf_clock_ticks_to_ns(uint64_t ticks) {
    if (!g_use_tsc) return (int64_t)ticks;
    uint64_t t0;
    int64_t n0;
    double slope;
    read_line(&t0, &n0, &slope);
    double d = (double)(int64_t)(ticks - t0) * slope;
    return n0 + dasf_round_i64(d);
}

int64_t dasf_clock_tickdiff_to_ns(uint64_t dticks) {
    if (!g_use_tsc) return (int64_t)dticks;
    uint64_t t0;
    int64_t n0;
    double slope;
    read_line(&t0, &n0, &slope);
    return dasf_round_i64((double)(int64_t)dticks * slope);
}

int64_t dasf_now_ns(void) {
    pthread_once(&g_once, clock_init);
    if (!g_use_tsc) return mono_ns();
    return dasf_clock_ticks_to_ns(rdtsc());
}

double dasf_now(void) {
    return (double)dasf_now_ns() * 1e-9;
}

const char *dasf_clock_source(void) {
    pthread_once(&g_once, clock_init);
    return g_use_tsc ? "tsc" : "clock_gettime";
}
