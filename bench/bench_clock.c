/*
 * bench_clock.c — `dasf-bench clock-accuracy`: how far dasf_now_ns() is from
 * CLOCK_MONOTONIC over a run, through the library's own recalibrations.
 *
 *   dasf-bench clock-accuracy --seconds S --dir DIR
 *
 * A profiler is open on DIR and records one instant per sample (so its
 * flusher runs and refits the clock on the library's schedule;
 * flush_interval 20 ms so each refit runs when it is due).  Every
 * millisecond one sample: a = CLOCK_MONOTONIC, x = dasf_now_ns(), b =
 * CLOCK_MONOTONIC; error = x - (a + b) / 2, kept when b - a is under 1 us.
 * One JSON line per time window of the run: samples, median and max |error|,
 * and the floor: the median bracket width b - a of the same samples (what
 * reading CLOCK_MONOTONIC itself costs), with the ratio max |error| / floor.
 */
#include "bench_ours.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmd_clock_accuracy(int argc, char **argv) {
    double seconds = (double)bench_opt_ll(argc, argv, "seconds", 20);
    const char *dir = bench_opt(argc, argv, "dir", "/tmp");
    char path[4096];
    snprintf(path, sizeof path, "%s/clock-accuracy.zst", dir);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush_interval = 0.02;
    o.remove_old_output_file = true;
    int64_t start = mono_ns();
    dasf_profiler *p = bench_profiler(path, &o); /* calibrates the clock */
    static const double edge[] = {0.05, 0.2, 1, 5, 1e9};
    static const char *const name[] = {"0-50ms", "50-200ms", "0.2-1s", "1-5s", "5s-end"};
    size_t cap = (size_t)(seconds * 1000) + 16, n[5] = {0};
    int64_t *err[5], *width[5];
    for (int w = 0; w < 5; w++) {
        err[w] = malloc(cap * sizeof **err);
        width[w] = malloc(cap * sizeof **width);
        if (!err[w] || !width[w]) bench_die("out of memory");
    }
    dasf_name tick = dasf_intern("sample");
    struct timespec ms = {0, 1000000};
    for (;;) {
        int64_t a = mono_ns();
        int64_t x = dasf_now_ns();
        int64_t b = mono_ns();
        double t = (double)(a - start) * 1e-9;
        if (t >= seconds) break;
        int w = 0;
        while (t >= edge[w]) w++;
        if (b - a < 1000 && n[w] < cap) {
            int64_t e = x - (a + (b - a) / 2);
            err[w][n[w]] = e < 0 ? -e : e;
            width[w][n[w]] = b - a;
            n[w]++;
        }
        dasf_record_instant_now(p, tick);
        nanosleep(&ms, NULL);
    }
    for (int w = 0; w < 5; w++) {
        if (!n[w]) {
            free(err[w]);
            free(width[w]);
            continue;
        }
        qsort(err[w], n[w], sizeof **err, cmp_i64);
        qsort(width[w], n[w], sizeof **width, cmp_i64);
        bench_json j;
        bench_json_begin(&j, "clock_accuracy");
        bench_json_str(&j, "window", name[w]);
        bench_json_str(&j, "clock_source", dasf_clock_source());
        bench_json_int(&j, "samples", (long long)n[w]);
        bench_json_int(&j, "err_median_ns", (long long)err[w][n[w] / 2]);
        bench_json_int(&j, "err_p99_ns", (long long)err[w][n[w] * 99 / 100]);
        bench_json_int(&j, "err_max_ns", (long long)err[w][n[w] - 1]);
        bench_json_int(&j, "floor_bracket_median_ns", (long long)width[w][n[w] / 2]);
        int64_t floor_ns = width[w][n[w] / 2] ? width[w][n[w] / 2] : 1;
        bench_json_num(&j, "max_over_floor", (double)err[w][n[w] - 1] / (double)floor_ns);
        bench_json_end(&j, stdout);
        free(err[w]);
        free(width[w]);
    }
    dasf_profiler_destroy(p);
    return 0;
}

const bench_cmd bench_clock_accuracy_cmd = {"clock-accuracy", "--seconds S --dir DIR",
                                            cmd_clock_accuracy};
