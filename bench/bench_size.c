/*
 * bench_size.c — bytes per event on disk for the two workloads of
 * workload.h, at one compression level (0 = the legacy Python layout,
 * 1..19 = the zstd archive), with the FileDatabase's default options
 * (commit_threshold 5000: the chunks a default profiler writes).
 *
 * Leaf events go through dasf_record_complete_args (copied name + the 2
 * integer args), enclosing zones through dasf_record_complete_h (interned
 * name, no args), as DASF_ZONE would record them.  The file is read back
 * and its event count checked, so a size is never that of a short file.
 *
 *   dasf-bench size --workload regular|random --level L --events N --dir DIR
 *                   [--clock double|ns|tsc] [--out FILE]   (keep the file)
 *
 * --clock says where the times come from:
 *   double  the caller's doubles, (double)ns * 1e-9 (default: a program
 *           computing its own seconds; off the library's ns grid in the
 *           last bit for some events, which the archive then keeps exactly)
 *   ns      the library's grid: dasf_ns_to_seconds(ns) doubles for leaf
 *           events, dasf_record_complete_ns for zones (what dasf_now() and
 *           the *_ns calls give)
 *   tsc     the library clock itself: zones timed by the TSC (ticks
 *           converted by the flusher, real durations of an empty zone, not
 *           the workload's), leaf events at dasf_now() with the workload's
 *           durations
 */
#include "bench_ours.h"
#include "workload.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmd_size(int argc, char **argv) {
    int kind = wl_kind_from_name(bench_opt(argc, argv, "workload", "regular"));
    int level = (int)bench_opt_ll(argc, argv, "level", 1);
    uint64_t n = (uint64_t)bench_opt_ll(argc, argv, "events", 200000);
    const char *dir = bench_opt(argc, argv, "dir", "/dev/shm");
    const char *out = bench_opt(argc, argv, "out", NULL);
    const char *clock = bench_opt(argc, argv, "clock", "double");
    int ck = !strcmp(clock, "double") ? 0 : !strcmp(clock, "ns") ? 1 : !strcmp(clock, "tsc") ? 2 : -1;
    if (ck < 0) bench_die("--clock double|ns|tsc");
    if (kind < 0 || level < 0 || level > 19) bench_die("--workload regular|random, --level 0..19");

    char file[4096];
    if (out)
        snprintf(file, sizeof file, "%s", out);
    else
        snprintf(file, sizeof file, "%s/size-%s-%d-%d.msgpack%s", dir, wl_kind_name(kind), level,
                 (int)getpid(), level ? ".zst" : "");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = level;
    o.remove_old_output_file = true;
    o.flush = false; /* size only: fsync changes nothing on disk */
    dasf_profiler *p = bench_profiler(file, &o);

    dasf_name h[WL_MAX_NAMES];
    const char *names[WL_MAX_NAMES];
    for (unsigned i = 0; i < wl_name_count(kind); i++) {
        names[i] = wl_name(kind, i);
        h[i] = dasf_intern(names[i]);
    }
    wl_gen *g = wl_create(kind, 7);
    if (!g) bench_die("out of memory");
    double t0 = bench_mono_s();
    wl_event e;
    for (uint64_t k = 0; k < n; k++) {
        wl_next(g, &e);
        double ts = (double)e.ts_ns * 1e-9, dur = (double)e.dur_ns * 1e-9;
        if (ck == 1) ts = dasf_ns_to_seconds(e.ts_ns), dur = dasf_ns_to_seconds(e.dur_ns);
        if (ck == 2) ts = dasf_now(), dur = dasf_ns_to_seconds(e.dur_ns);
        int rc = 0;
        if (e.has_args) {
            dasf_arg a[2] = {DASF_ARG_I64(WL_ARG0, e.a0), DASF_ARG_I64(WL_ARG1, e.a1)};
            rc = dasf_record_complete_args(p, names[e.name], ts, dur, a, 2);
        } else if (ck == 1) {
            rc = dasf_record_complete_ns(p, h[e.name], e.ts_ns, e.dur_ns);
        } else if (ck == 2) {
            dasf_zone_ctx z = {p, h[e.name], dasf_zone_ticks()};
            dasf_zone_end(&z);
        } else {
            rc = dasf_record_complete_h(p, h[e.name], ts, dur);
        }
        if (rc != 0) bench_die("record: %s", dasf_strerror(rc));
    }
    wl_destroy(g);
    int rc = dasf_profiler_destroy(p);
    double t1 = bench_mono_s();
    if (rc != 0) bench_die("destroy: %s", dasf_strerror(rc));

    uint64_t bytes = bench_file_size(file);
    double read_s;
    uint64_t read = bench_read_back(file, &read_s);
    if (!out) unlink(file);
    if (read != n)
        bench_die("%s: read back %llu events, recorded %llu", file, (unsigned long long)read,
                  (unsigned long long)n);

    bench_json j;
    bench_json_begin(&j, "size");
    bench_json_str(&j, "impl", level ? "dasf" : "dasf-legacy");
    bench_json_str(&j, "workload", wl_kind_name(kind));
    bench_json_int(&j, "level", level);
    bench_json_str(&j, "clock", clock);
    bench_json_int(&j, "events", (long long)n);
    bench_json_int(&j, "file_bytes", (long long)bytes);
    bench_json_num(&j, "bytes_per_event", (double)bytes / (double)n);
    bench_json_num(&j, "write_s", t1 - t0);
    bench_json_num(&j, "read_s", read_s);
    bench_json_end(&j, stdout);
    return 0;
}

const bench_cmd bench_size_cmd = {
    "size",
    "--workload regular|random --level L --events N --dir DIR [--clock double|ns|tsc]"
    " [--out FILE]",
    cmd_size};
