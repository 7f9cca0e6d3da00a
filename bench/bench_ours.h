/*
 * bench_ours.h — our profiler's side of the benchmarks (dasf-bench): the
 * sub-command rows each bench_*.c file defines, and the helpers they share
 * (bench_ours.c).  bench_main.c only lists the rows; no bench file calls
 * into bench_main.c.
 */
#ifndef DASF_BENCH_OURS_H
#define DASF_BENCH_OURS_H

#include "bench_util.h"

#include "dasf/profiler.h"

/* The sub-commands of dasf-bench, one row each, defined in the file named. */
extern const bench_cmd bench_record_cmd;         /* bench_record.c */
extern const bench_cmd bench_clock_cmd;          /* bench_record.c: the floors */
extern const bench_cmd bench_clock_accuracy_cmd; /* bench_clock.c */
extern const bench_cmd bench_e2e_cmd;            /* bench_e2e.c */
extern const bench_cmd bench_size_cmd;           /* bench_size.c */
extern const bench_cmd bench_burst_cmd;          /* bench_burst.c */
extern const bench_cmd bench_flight_cmd;         /* bench_flight.c */

/* dasf_profiler_create on path with opts; dies with dasf_strerror on failure. */
dasf_profiler *bench_profiler(const char *path, const dasf_file_db_options *opts);
/* Reads path back with dasf_trace_next: events counted, seconds taken;
 * dies when the file cannot be read or is damaged. */
uint64_t bench_read_back(const char *path, double *seconds);

/* The caller-given timestamp of event k in the record rows (path h). */
static inline double bench_ts_of(uint64_t k) {
    return 1000.0 + (double)k * 1e-7;
}

/* The floor of any ring (`dasf-bench clock` ring_store, `dasf-bench
 * flight`): the caller's loop with path h's arguments and a 32-byte record
 * stored into a pre-faulted buffer, then one release store of the head
 * index.  No TLS lookup, no checks. */
typedef struct bench_floor_ring {
    uint64_t *buf;
    uint64_t mask; /* in uint64_t words */
    uint64_t head;
} bench_floor_ring;
/* bytes: a power of two; dies when out of memory. */
void bench_floor_init(bench_floor_ring *f, size_t bytes);
void bench_floor_free(bench_floor_ring *f);
/* Stores events first..first+n-1 (names h[k & 15]). */
void bench_floor_store(bench_floor_ring *f, const dasf_name *h, uint64_t first, unsigned n);

#endif
