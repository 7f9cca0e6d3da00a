/*
 * bench_ours.c — what the dasf-bench sub-commands share: open a profiler
 * (or die saying why) and read a file back with the library's reader,
 * refusing a damaged one (a figure is never that of a short file).
 */
#include "bench_ours.h"

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
