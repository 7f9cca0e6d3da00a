/*
 * bench_flight.c — `dasf-bench flight`: the flight recorder's record cost
 * (DASF_OVERFLOW_OVERWRITE, issue 12) against the floor and against the
 * default policy, all three measured in the same run.
 *
 *   dasf-bench flight --dir DIR [--reps R] [--events N] [--window-mib W]
 *
 * Each repetition times N calls (default 1 Mi) of each, in an order that
 * rotates from one repetition to the next:
 *   floor      the bare 32-byte ring store with path h's caller loop
 *              (bench_ours.h, the same floor as `dasf-bench clock`);
 *   block      dasf_record_complete_h into a BLOCK profiler (16 MiB ring,
 *              commit_threshold 2^20, an untimed commit after every slice
 *              of 64 Ki calls: the ring never fills, the flusher never
 *              drains while a slice runs — the record row's setup);
 *   overwrite  the same call into a flight recorder with a W MiB window
 *              (default 1): a slice wraps it twice, so the cold path that
 *              gives up the oldest records (every W/32 bytes) is in the
 *              figure, amortised as a program sees it.
 * A figure is a repetition's total time / N (clock_gettime around each
 * slice); the row reports the median over repetitions of each figure and
 * of the per-repetition ratios overwrite/floor, block/floor,
 * overwrite/block.  Both profilers keep the default shared-memory rings.
 * At the end a snapshot must write one window (at least 31/32 of it):
 * exit 1 otherwise, or when a call failed.
 */
#include "bench_ours.h"
#include "workload.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLICE 65536u

typedef struct flight_ctx {
    dasf_profiler *block, *flight;
    dasf_name h[16];
    bench_floor_ring floor;
    uint64_t next; /* event number of the next call (ts) */
    uint64_t errors;
} flight_ctx;

enum { M_FLOOR, M_BLOCK, M_OVERWRITE, M_N };
static const char *const mode_name[M_N] = {"floor", "block", "overwrite"};

/* ns per call of mode m over n calls. */
static double run_mode(flight_ctx *x, int m, uint64_t n) {
    double secs = 0;
    for (uint64_t done = 0; done < n;) {
        unsigned s = n - done < SLICE ? (unsigned)(n - done) : SLICE;
        uint64_t first = x->next;
        double t0 = bench_mono_s();
        if (m == M_FLOOR) {
            bench_floor_store(&x->floor, x->h, first, s);
        } else {
            dasf_profiler *p = m == M_BLOCK ? x->block : x->flight;
            for (unsigned i = 0; i < s; i++) {
                uint64_t k = first + i;
                x->errors += dasf_record_complete_h(p, x->h[k & 15], bench_ts_of(k), 5e-8) != 0;
            }
        }
        secs += bench_mono_s() - t0;
        if (m == M_BLOCK && dasf_profiler_commit(x->block) != 0) bench_die("flight: commit failed");
        x->next += s;
        done += s;
    }
    return secs * 1e9 / (double)n;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static dasf_profiler *open_profiler(const char *path, int overflow, size_t ring) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.overflow = overflow;
    o.ring_capacity = ring;
    o.commit_threshold = (int64_t)1 << 20;
    o.remove_old_output_file = true;
    o.compression_level = 1;
    o.flush = false;
    return bench_profiler(path, &o);
}

static int cmd_flight(int argc, char **argv) {
    const char *dir = bench_opt(argc, argv, "dir", "/dev/shm");
    int reps = (int)bench_opt_ll(argc, argv, "reps", 9);
    uint64_t n = (uint64_t)bench_opt_ll(argc, argv, "events", 1 << 20);
    long long wmib = bench_opt_ll(argc, argv, "window-mib", 1);
    if (reps < 1 || reps > 1000 || n == 0 || wmib < 1 || wmib > 1024 || (wmib & (wmib - 1)))
        bench_die("flight: --reps 1..1000, --events > 0, --window-mib a power of two 1..1024");
    size_t window = (size_t)wmib << 20;
    char bpath[4096], fpath[4096];
    snprintf(bpath, sizeof bpath, "%s/flight-block-%d.zst", dir, (int)getpid());
    snprintf(fpath, sizeof fpath, "%s/flight-%d.zst", dir, (int)getpid());
    flight_ctx x = {0};
    x.block = open_profiler(bpath, DASF_OVERFLOW_BLOCK, (size_t)16 << 20);
    x.flight = open_profiler(fpath, DASF_OVERFLOW_OVERWRITE, window);
    bench_floor_init(&x.floor, (size_t)16 << 20);
    for (unsigned i = 0; i < 16; i++) x.h[i] = dasf_intern(wl_name(WL_REGULAR, i));
    for (int m = 0; m < M_N; m++) run_mode(&x, m, SLICE); /* warm-up: rings made, pages touched */

    double *ns[M_N], *r_of = malloc(3 * (size_t)reps * sizeof *r_of);
    for (int m = 0; m < M_N; m++) ns[m] = malloc((size_t)reps * sizeof *ns[m]);
    if (!r_of || !ns[0] || !ns[1] || !ns[2]) bench_die("out of memory");
    double *r_ow = r_of, *r_bl = r_of + reps, *r_ob = r_of + 2 * reps;
    for (int i = 0; i < reps; i++) {
        for (int j = 0; j < M_N; j++) {
            int m = (i + j) % M_N;
            ns[m][i] = run_mode(&x, m, n);
        }
        r_ow[i] = ns[M_OVERWRITE][i] / ns[M_FLOOR][i];
        r_bl[i] = ns[M_BLOCK][i] / ns[M_FLOOR][i];
        r_ob[i] = ns[M_OVERWRITE][i] / ns[M_BLOCK][i];
    }

    /* The flight recorder did what it says: one window in a snapshot. */
    if (dasf_profiler_snapshot(x.flight) != 0) bench_die("flight: snapshot failed");
    int rc = dasf_profiler_destroy(x.flight);
    int rc2 = dasf_profiler_destroy(x.block);
    if (rc || rc2) bench_die("flight: destroy: %s", dasf_strerror(rc ? rc : rc2));
    uint64_t snap = bench_read_back(fpath, NULL);
    unlink(fpath);
    unlink(bpath);
    uint64_t want_max = window / 32, want_min = want_max - want_max / 32;
    int bad = x.errors || snap < want_min || snap > want_max;

    bench_json j;
    bench_json_begin(&j, "flight");
    bench_json_str(&j, "impl", "dasf");
    bench_json_int(&j, "reps", reps);
    bench_json_int(&j, "events", (long long)n);
    bench_json_int(&j, "window_bytes", (long long)window);
    for (int m = 0; m < M_N; m++) {
        char key[32];
        snprintf(key, sizeof key, "%s_ns", mode_name[m]);
        bench_json_num(&j, key, median(ns[m], reps));
        snprintf(key, sizeof key, "%s_min_ns", mode_name[m]);
        bench_json_num(&j, key, ns[m][0]); /* sorted by median() */
    }
    bench_json_num(&j, "overwrite_floor_ratio", median(r_ow, reps));
    bench_json_num(&j, "block_floor_ratio", median(r_bl, reps));
    bench_json_num(&j, "overwrite_block_ratio", median(r_ob, reps));
    bench_json_int(&j, "errors", (long long)x.errors);
    bench_json_int(&j, "snapshot_events", (long long)snap);
    bench_json_str(&j, "clock_source", dasf_clock_source());
    bench_json_end(&j, stdout);
    bench_floor_free(&x.floor);
    for (int m = 0; m < M_N; m++) free(ns[m]);
    free(r_of);
    if (bad)
        fprintf(stderr, "bench: flight: %llu failed calls, snapshot of %llu events (want %llu..%llu)\n",
                (unsigned long long)x.errors, (unsigned long long)snap,
                (unsigned long long)want_min, (unsigned long long)want_max);
    return bad;
}

const bench_cmd bench_flight_cmd = {
    "flight", "--dir DIR [--reps R] [--events N] [--window-mib W]", cmd_flight};
