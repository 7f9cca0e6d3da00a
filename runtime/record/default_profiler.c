/*
 * default_profiler.c — dasf_default_profiler(): the process-wide profiler
 * configured from the environment (DASF_TRACE_FILE, DASF_OVERFLOW,
 * DASF_FLIGHT_WINDOW, ...; include/dasf/profiler.h section 8).  Split from
 * profiler.c, whose last section it was.
 *
 * Threads: whichever app thread calls dasf_default_profiler() first
 * (pthread_once); destroyed at exit.  Invariants: a bad variable turns
 * tracing off with one message on stderr (never a half-configured
 * profiler); the commit, crash and snapshot signals are installed only
 * once the profiler exists.
 */
#include "db.h"
#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the environment-configured default profiler --------------------------------- */

static dasf_profiler *g_default;
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;

static void default_destroy(void) {
    if (g_default) dasf_profiler_destroy(g_default);
}

static int env_long(const char *var, long lo, long hi, long *out) {
    const char *s = getenv(var);
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "dasf-profiler: %s=%s is not a number in [%ld, %ld]; tracing off\n",
                var, s, lo, hi);
        return -1;
    }
    *out = v;
    return 1;
}

/* DASF_FLIGHT_WINDOW: bytes with an optional K/M/G (powers of 1024)
 * suffix.  @return 1 set, 0 unset, -1 bad (message on stderr). */
static int env_window(size_t *out) {
    const char *s = getenv("DASF_FLIGHT_WINDOW");
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (end == s || *end || errno || v == 0 || v > (1ull << 30) >> shift ||
        ((v << shift) & ((v << shift) - 1)) || (v << shift) < (1ull << 16)) {
        fprintf(stderr,
                "dasf-profiler: DASF_FLIGHT_WINDOW=%s must be a power of two from 64K to 1G "
                "(bytes, K, M or G); tracing off\n",
                s);
        return -1;
    }
    *out = (size_t)(v << shift);
    return 1;
}

static void default_init(void) {
    const char *file = getenv("DASF_TRACE_FILE");
    if (!file || !*file) return;
    dasf_file_db_options o = dasf_file_db_options_default();
    long v;
    int r = env_long("DASF_COMMIT_THRESHOLD", 1, 1L << 40, &v);
    if (r < 0) return;
    if (r > 0) o.commit_threshold = v;
    r = env_long("DASF_COMPRESSION", 0, 19, &v);
    if (r < 0) return;
    if (r > 0) o.compression_level = (int)v;
    r = env_long("DASF_RING_CAPACITY", 1L << 16, 1L << 30, &v); /* power of two: create checks */
    if (r < 0) return;
    if (r > 0) o.ring_capacity = (size_t)v;
    r = env_long("DASF_COMPRESSION_WORKERS", 0, DASF_MAX_COMPRESSION_WORKERS, &v);
    if (r < 0) return;
    if (r > 0) o.compression_workers = (int)v;
    r = env_long("DASF_FOLLOW_SYMLINKS", 0, 1, &v);
    if (r < 0) return;
    if (r > 0) o.follow_symlinks = v != 0;
    const char *ov = getenv("DASF_OVERFLOW");
    if (ov && *ov) {
        if (strcmp(ov, "block") == 0) {
            o.overflow = DASF_OVERFLOW_BLOCK;
        } else if (strcmp(ov, "drop") == 0) {
            o.overflow = DASF_OVERFLOW_DROP;
        } else if (strcmp(ov, "overwrite") == 0) {
            o.overflow = DASF_OVERFLOW_OVERWRITE;
        } else {
            fprintf(stderr,
                    "dasf-profiler: DASF_OVERFLOW=%s must be block, drop or overwrite; tracing off\n",
                    ov);
            return;
        }
    }
    size_t window;
    r = env_window(&window);
    if (r < 0) return;
    if (r > 0) { /* the flight recorder */
        o.overflow = DASF_OVERFLOW_OVERWRITE;
        o.ring_capacity = window;
    }
    int err = 0;
    int rc = dasf_trace_path_writable(file, &err);
    if (rc == DASF_OK) rc = dasf_profiler_create(&g_default, file, &o, NULL);
    if (rc) {
        if (err)
            fprintf(stderr, "dasf-profiler: cannot trace to DASF_TRACE_FILE=%s: %s (%s); tracing off\n",
                    file, err == ENOENT || err == ENOTDIR ? "its directory does not exist"
                                                          : "not writable",
                    strerror(err));
        else
            fprintf(stderr, "dasf-profiler: cannot trace to %s: %s; tracing off\n", file,
                    dasf_strerror(rc));
        g_default = NULL;
        return;
    }
    atexit(default_destroy);
    dasf_sig_from_env(); /* DASF_COMMIT_SIGNALS: says on stderr what is wrong */
}

dasf_profiler *dasf_default_profiler(void) {
    pthread_once(&g_default_once, default_init);
    return g_default;
}
