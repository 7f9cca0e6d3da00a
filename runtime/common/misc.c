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

/* The conversions themselves are inline in internal.h (the flusher and
 * the reader call them per event); these are their public entry points. */
int64_t dasf_seconds_to_ns(double s) { return dasf_seconds_to_ns_inl(s); }

double dasf_ns_to_seconds(int64_t ns) { return dasf_ns_to_seconds_inl(ns); }
