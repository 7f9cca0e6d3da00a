/*
 * misc.c — process facts the chunk metadata needs: host name, and the
 * offset between CLOCK_REALTIME and the trace clock (CLOCK_MONOTONIC), so a
 * reader can place monotonic timestamps on the wall clock; and the one
 * seconds <-> nanoseconds conversion of the library and its tools.
 *
 * Called from any thread (the conversions are pure); the host name is
 * cached once per process (and again after fork, which cannot change it).
 */
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char g_host[64];
static pthread_once_t g_host_once = PTHREAD_ONCE_INIT;

static void host_init(void) {
    if (gethostname(g_host, sizeof g_host - 1) != 0) strcpy(g_host, "unknown");
    g_host[sizeof g_host - 1] = 0;
}

const char *dasf_hostname(void) {
    pthread_once(&g_host_once, host_init);
    return g_host;
}

static int64_t ts_ns(const struct timespec *t) {
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int64_t dasf_realtime_offset_ns(void) {
    /* Bracket the realtime read between two monotonic reads and take the
     * midpoint: the offset is then good to half the bracket width. */
    struct timespec m0, r, m1;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m1);
    int64_t mid = ts_ns(&m0) + (ts_ns(&m1) - ts_ns(&m0)) / 2;
    return ts_ns(&r) - mid;
}

/* Exact: s = i + f with i = trunc(s) (|i| < 2^34: exact in int64) and
 * f = s - i exact.  p = f * 1e9 is rounded once; rounding is monotone and
 * every k + 1/2 is a double here, so p lands on the same side of a half as
 * the true product unless p is exactly a half: then the product's rounding
 * error, fma(f, 1e9, -p) (exact), says which side the true value is on
 * (e.g. 1.5e-9 s is 1.49999999999999990e-9: 1 ns, not 2). */
static int64_t round_product_ns(double f) {
    double p = f * 1e9;
    int64_t t = (int64_t)p;
    double frac = p - (double)t;
    if (frac == 0.5) return t + (fma(f, 1e9, -p) >= 0);   /* true half: away from zero */
    if (frac == -0.5) return t - (fma(f, 1e9, -p) <= 0);
    return t + (frac > 0.5) - (frac < -0.5);
}

int64_t dasf_seconds_to_ns(double s) {
    if (s != s) return 0;
    if (s >= 9223372036.854775807) return INT64_MAX;
    if (s <= -9223372036.854775808) return INT64_MIN;
    double i = trunc(s);
    int64_t r = round_product_ns(s - i), ns;
    if (__builtin_add_overflow((int64_t)i * 1000000000, r, &ns)) return r > 0 ? INT64_MAX : INT64_MIN;
    return ns;
}

double dasf_ns_to_seconds(int64_t ns) {
    if (ns >= -(INT64_C(1) << 53) && ns <= INT64_C(1) << 53) return (double)ns / 1e9;
    /* beyond 2^53 ns (double no longer holds every ns): whole seconds exact,
     * plus the fraction */
    int64_t q = ns / 1000000000, r = ns % 1000000000;
    return (double)q + (double)r / 1e9;
}
