/*
 * workload.h — the event streams every bench/ program replays, generated
 * deterministically from a seed so that our profiler and LTTng-UST (a
 * different process) record exactly the same events.
 *
 *   REGULAR  an HPC-like trace: a 2-D stencil time-step loop with nested
 *            zones (timestep > halo exchange / compute / reduce /
 *            checkpoint), 20 distinct names; leaf events carry 2 integer
 *            args (step, block), enclosing zones none (as DASF_ZONE records
 *            them).  Durations are a per-kernel base cost with +-3% jitter;
 *            events come in completion order, children before parents.
 *   RANDOM   synthetic worst case: name uniform over 64 names, timestamp
 *            steps uniform in [0, 65536) ns, duration uniform in
 *            [0, 2^20) ns, 2 integer args uniform in [0, 65536): about
 *            74 bits of entropy (9.3 bytes) per event.
 */
#ifndef DASF_BENCH_WORKLOAD_H
#define DASF_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum { WL_REGULAR = 0, WL_RANDOM = 1 };

#define WL_MAX_NAMES 64

typedef struct wl_event {
    unsigned name;  /* index into wl_name() */
    int64_t ts_ns;  /* start, nanoseconds */
    int64_t dur_ns; /* >= 0 */
    int has_args;   /* args "step" and "block" */
    int64_t a0, a1;
} wl_event;

typedef struct wl_gen wl_gen;

/* kind: WL_REGULAR / WL_RANDOM; a negative kind or an unknown name is an error. */
int wl_kind_from_name(const char *s);
const char *wl_kind_name(int kind);
/* @return NULL when out of memory. */
wl_gen *wl_create(int kind, uint64_t seed);
void wl_next(wl_gen *g, wl_event *ev);
void wl_destroy(wl_gen *g);

unsigned wl_name_count(int kind);
const char *wl_name(int kind, unsigned idx);

#define WL_ARG0 "step"
#define WL_ARG1 "block"

/* Fills a table of n events (for programs that must not pay for the
 * generator while they are timed).  @return NULL when out of memory. */
wl_event *wl_table(int kind, uint64_t seed, size_t n, int64_t *period_ns);

#endif
