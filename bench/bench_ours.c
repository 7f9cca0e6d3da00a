/*
 * bench_ours.c — what the dasf-bench sub-commands share: open a profiler
 * (or die saying why) and read a file back with the library's reader,
 * refusing a damaged one (a figure is never that of a short file), and
 * the bare ring-store floor the record rows are compared with.
 */
#include "bench_ours.h"

#include <stdlib.h>
#include <string.h>

void bench_floor_init(bench_floor_ring *f, size_t bytes) {
    size_t words = bytes / 8;
    f->buf = calloc(words, 8);
    if (!f->buf) bench_die("out of memory");
    memset(f->buf, 1, words * 8); /* pre-fault */
    f->mask = words - 1;
    f->head = 0;
}

void bench_floor_free(bench_floor_ring *f) {
    free(f->buf);
    f->buf = NULL;
}

void bench_floor_store(bench_floor_ring *f, const dasf_name *h, uint64_t first, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        double ts = bench_ts_of(k), dur = 5e-8;
        uint64_t hd = f->head, *slot = f->buf + (hd & f->mask);
        memcpy(&slot[0], &ts, 8);
        memcpy(&slot[1], &dur, 8);
        slot[2] = h[k & 15] | (uint64_t)'X' << 32;
        slot[3] = 32;
        __atomic_store_n(&f->head, hd + 4, __ATOMIC_RELEASE);
    }
}

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
