/*
 * bench_burst.c — `dasf-bench burst`: the everyday call over a burst longer
 * than a ring, against the same call while the ring has room (issue 14).
 *
 *   dasf-bench burst --events N --dir DIR [--batch B] [--batches K]
 *
 * One profiler with the profiler's defaults (dasf_profiler_create with
 * NULL options: 4 MiB ring, commit_threshold 1000, BLOCK, flush = true)
 * on DIR/burst.zst, and the call every program makes:
 * dasf_profiler_record_complete_event(p, "Compute", ts, dur, NULL).
 *   in-ring: K batches of B calls (default 16 x 16384: 1 MiB of records, a
 *     quarter of the ring), each timed with CLOCK_MONOTONIC, an untimed
 *     commit after each so the next starts with an empty ring; the flusher
 *     is woken every 1000 events meanwhile, as in any program.  Figure: the
 *     median batch's ns per call.
 *   burst: N calls back to back (default 2 M: 128 MiB of records, 32
 *     rings), timed as a whole: once the ring is full the caller waits for
 *     the flusher (BLOCK), so this is the flusher's rate as the caller
 *     sees it.  Then an untimed commit; the file is read back and must hold
 *     every event (0 dropped).
 * JSON: in_ring_ns, burst_ns, ratio = burst_ns / in_ring_ns (goal <= 3).
 */
#include "bench_ours.h"

#include <stdlib.h>
#include <string.h>

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_burst(int argc, char **argv) {
    uint64_t n = (uint64_t)bench_opt_ll(argc, argv, "events", 2000000);
    uint64_t batch = (uint64_t)bench_opt_ll(argc, argv, "batch", 16384);
    int batches = (int)bench_opt_ll(argc, argv, "batches", 16);
    const char *dir = bench_opt(argc, argv, "dir", "/dev/shm");
    if (n == 0 || batch == 0 || batches <= 0) bench_die("burst: --events, --batch, --batches > 0");
    char path[4096];
    snprintf(path, sizeof path, "%s/burst.zst", dir);
    remove(path);
    dasf_profiler *p = bench_profiler(path, NULL);
    double ts = 1000.0, dur = 2.5e-6;
    uint64_t errors = 0, recorded = 0;

    double *per = malloc((size_t)batches * sizeof *per);
    if (!per) bench_die("out of memory");
    for (int k = 0; k < batches; k++) {
        double t0 = bench_mono_s();
        for (uint64_t i = 0; i < batch; i++, ts += 3e-6)
            errors += dasf_profiler_record_complete_event(p, "Compute", ts, dur, NULL) != 0;
        per[k] = (bench_mono_s() - t0) * 1e9 / (double)batch;
        recorded += batch;
        if (dasf_profiler_commit(p) != 0) bench_die("burst: commit failed");
    }
    qsort(per, (size_t)batches, sizeof *per, cmp_dbl);
    double in_ring = per[batches / 2];

    double t0 = bench_mono_s();
    for (uint64_t i = 0; i < n; i++, ts += 3e-6)
        errors += dasf_profiler_record_complete_event(p, "Compute", ts, dur, NULL) != 0;
    double burst = (bench_mono_s() - t0) * 1e9 / (double)n;
    recorded += n;
    if (dasf_profiler_commit(p) != 0) bench_die("burst: commit failed");
    dasf_db_stats st;
    dasf_db_get_stats(dasf_profiler_database(p), &st);
    dasf_profiler_destroy(p);
    uint64_t back = bench_read_back(path, NULL);
    remove(path);

    bench_json j;
    bench_json_begin(&j, "burst");
    bench_json_str(&j, "impl", "dasf");
    bench_json_int(&j, "events", (long long)n);
    bench_json_int(&j, "batch", (long long)batch);
    bench_json_int(&j, "batches", batches);
    bench_json_num(&j, "in_ring_ns", in_ring);
    bench_json_num(&j, "in_ring_min_ns", per[0]);
    bench_json_num(&j, "burst_ns", burst);
    bench_json_num(&j, "ratio", burst / in_ring);
    bench_json_int(&j, "errors", (long long)errors);
    bench_json_int(&j, "dropped", (long long)st.dropped);
    bench_json_int(&j, "recorded", (long long)recorded);
    bench_json_int(&j, "read_back", (long long)back);
    bench_json_end(&j, stdout);
    free(per);
    return errors || st.dropped || back != recorded;
}

const bench_cmd bench_burst_cmd = {"burst", "--events N --dir DIR [--batch B] [--batches K]",
                                   cmd_burst};
