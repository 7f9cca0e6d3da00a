/*
 * bench_main.c — `dasf-bench`, our side of the benchmarks: one program,
 * one sub-command per measurement, one JSON line per run on stdout.
 *
 *   dasf-bench record --path h|zone|now|now_ns|args|copied --threads N --dir DIR
 *   dasf-bench clock                      (the cost of dasf_now_ns alone)
 *   dasf-bench clock-accuracy --seconds S --dir DIR   (dasf_now_ns against CLOCK_MONOTONIC)
 *   dasf-bench e2e --threads N --events TOTAL --dir DIR
 *   dasf-bench size --workload regular|random --level L --events N --dir DIR [--out F]
 *
 * bench/run.py runs them interleaved with the peers and builds the table.
 * This file also holds the helpers the sub-commands share (open a
 * profiler, read a file back, file size).
 */
#include "bench_ours.h"

#include <string.h>
#include <sys/stat.h>

dasf_profiler *bench_profiler(const char *path, const dasf_file_db_options *opts) {
    dasf_profiler *p = NULL;
    int rc = dasf_profiler_create(&p, path, opts, NULL);
    if (rc != 0) bench_die("dasf_profiler_create(%s): %s", path, dasf_strerror(rc));
    return p;
}

uint64_t bench_read_back(const char *path, double *seconds) {
    dasf_trace *r = NULL;
    const dasf_trace_event *ev;
    uint64_t n = 0;
    double t0 = bench_mono_s();
    int rc = dasf_trace_open(&r, path);
    if (rc != 0) bench_die("dasf_trace_open(%s): %s", path, dasf_strerror(rc));
    while ((rc = dasf_trace_next(r, &ev)) == 1)
        n++;
    if (rc < 0) bench_die("dasf_trace_next(%s): %s", path, dasf_strerror(rc));
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    dasf_trace_close(r);
    if (seconds) *seconds = bench_mono_s() - t0;
    if (st.chunks_damaged)
        bench_die("%s: %llu damaged chunks (%s)", path, (unsigned long long)st.chunks_damaged,
                  st.first_damage);
    return n;
}

uint64_t bench_file_size(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) bench_die("stat(%s) failed", path);
    return (uint64_t)sb.st_size;
}

int main(int argc, char **argv) {
    if (argc < 2)
        bench_die("usage: dasf-bench record|clock|clock-accuracy|e2e|size [--options] (see bench_main.c)");
    if (strcmp(argv[1], "record") == 0) return bench_cmd_record(argc, argv);
    if (strcmp(argv[1], "clock") == 0) return bench_cmd_clock(argc, argv);
    if (strcmp(argv[1], "clock-accuracy") == 0) return bench_cmd_clock_accuracy(argc, argv);
    if (strcmp(argv[1], "e2e") == 0) return bench_cmd_e2e(argc, argv);
    if (strcmp(argv[1], "size") == 0) return bench_cmd_size(argc, argv);
    bench_die("unknown command %s", argv[1]);
}
