/*
 * bench_record.c — record latency of our API paths (ns/event, batched TSC
 * timing from bench_util.c), with 1..N recording threads.
 *
 *   h       dasf_record_complete_h: interned name, caller-given time
 *   zone    an empty DASF_ZONE block: two clock reads + record
 *   now     dasf_record_instant_now: the library's clock read inside the call
 *   now_ns  dasf_record_complete_ns(dasf_now_ns()): clock read + conversion
 *           to ns by the caller, then record
 *   args    dasf_record_complete_args: copied name + 2 int args
 *   copied  dasf_profiler_record_complete_event: copied name, no args —
 *           the peers' payload (name string, ts, dur, pid, tid)
 * and `dasf-bench clock`, the floors: dasf_now_ns() alone, rdtsc alone, and
 * a bare 32-byte ring store with the same caller loop as path h.
 *
 * The profiler is set up so the flusher drains in batches, as designed:
 * 16 MiB rings, BLOCK policy, archive level 1, a file in --dir (tmpfs),
 * and commit_threshold 2^20 events, above a round (128 batches of 1024
 * events per thread): the flusher drains at the commit between rounds
 * (untimed), so a batch measures recording, never waiting for the flusher
 * and never sharing the ring's cache lines with it.  --threshold N lowers
 * the threshold so that the flusher drains while the thread records (the
 * cost of a consumer on the other core; reported as path "<path>+drain").
 * --ring-mib N changes the ring size (a round must still fit in it).
 * --shm off puts the rings in anonymous memory instead of the default
 * shared-memory files (docs/RUNTIME.md, "Surviving the process"; path
 * "<path>+anon"): the same run then shows what the shared mapping costs.
 * --overflow overwrite: the flight recorder (DASF_OVERFLOW_OVERWRITE, path
 * "<path>+flight"): nothing is written, the ring wraps and its producer gives
 * up its oldest records (with --ring-mib 1, every round wraps 4 times).
 */
#include "bench_ours.h"
#include "workload.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

typedef struct rec_ctx {
    dasf_profiler *p;
    dasf_name h[16];
    const char *names[16];
    volatile int64_t sink;
} rec_ctx;

#define ts_of bench_ts_of

static uint64_t batch_h(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t err = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        err += dasf_record_complete_h(x->p, x->h[k & 15], ts_of(k), 5e-8) != 0;
    }
    return err;
}

static uint64_t batch_zone(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    (void)t;
    (void)first;
    for (unsigned i = 0; i < n; i++) {
        DASF_ZONE(x->p, "bench_zone");
    }
    return 0;
}

static uint64_t batch_now(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t err = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++)
        err += dasf_record_instant_now(x->p, x->h[(first + i) & 15]) != 0;
    return err;
}

static uint64_t batch_now_ns(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t err = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++)
        err += dasf_record_complete_ns(x->p, x->h[(first + i) & 15], dasf_now_ns(), 50) != 0;
    return err;
}

static uint64_t batch_args(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t err = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        dasf_arg a[2] = {DASF_ARG_I64(WL_ARG0, (int64_t)k),
                         DASF_ARG_I64(WL_ARG1, (int64_t)(k & 15))};
        err += dasf_record_complete_args(x->p, x->names[k & 15], ts_of(k), 5e-8, a, 2) != 0;
    }
    return err;
}

static uint64_t batch_copied(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t err = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        err +=
            dasf_profiler_record_complete_event(x->p, x->names[k & 15], ts_of(k), 5e-8, NULL) != 0;
    }
    return err;
}

static int commit_round(void *c) {
    rec_ctx *x = c;
    int rc = dasf_profiler_commit(x->p);
    if (rc != 0) fprintf(stderr, "bench: commit: %s\n", dasf_strerror(rc));
    return rc;
}

static const struct {
    const char *name;
    uint64_t (*fn)(void *, int, uint64_t, unsigned);
} paths[] = {
    {"h", batch_h},           {"zone", batch_zone}, {"now", batch_now},
    {"now_ns", batch_now_ns}, {"args", batch_args}, {"copied", batch_copied},
};

static int cmd_record(int argc, char **argv) {
    const char *path = bench_opt(argc, argv, "path", "h");
    const char *dir = bench_opt(argc, argv, "dir", "/dev/shm");
    bench_lat_cfg cfg = bench_lat_cfg_parse(argc, argv);
    rec_ctx x = {0};
    bench_impl impl = {.ctx = &x, .between_rounds = commit_round};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (strcmp(paths[i].name, path) == 0) impl.run_batch = paths[i].fn;
    if (!impl.run_batch) bench_die("--path h|zone|now|now_ns|args|copied");

    long long threshold = bench_opt_ll(argc, argv, "threshold", 0);
    const char *shm = bench_opt(argc, argv, "shm", "on");
    if (strcmp(shm, "on") && strcmp(shm, "off")) bench_die("--shm on|off");
    int anon = !strcmp(shm, "off");
    const char *ov = bench_opt(argc, argv, "overflow", "block");
    int flight = strcmp(ov, "overwrite") == 0;
    if (!flight && strcmp(ov, "block")) bench_die("--overflow block|overwrite");
    char label[64];
    snprintf(label, sizeof label, "%s%s%s%s", path, threshold ? "+drain" : "", anon ? "+anon" : "",
             flight ? "+flight" : "");
    char file[4096];
    snprintf(file, sizeof file, "%s/record-%s-%d-%d.msgpack.zst", dir, path, cfg.threads,
             (int)getpid());
    dasf_file_db_options o = dasf_file_db_options_default();
    o.ring_capacity = (size_t)bench_opt_ll(argc, argv, "ring-mib", 16) << 20;
    o.commit_threshold = threshold ? threshold : (int64_t)1 << 20;
    o.overflow = flight ? DASF_OVERFLOW_OVERWRITE : DASF_OVERFLOW_BLOCK;
    o.remove_old_output_file = true;
    o.compression_level = 1;
    if (anon) o.shm_dir = ""; /* else $DASF_SHM_DIR or /dev/shm, the default */
    x.p = bench_profiler(file, &o);
    for (unsigned i = 0; i < 16; i++) {
        x.names[i] = wl_name(WL_REGULAR, i);
        x.h[i] = dasf_intern(x.names[i]);
    }

    bench_lat_result r;
    if (bench_lat_run(&impl, &cfg, &r) != 0) bench_die("a commit failed during the run");
    int rc = dasf_profiler_commit(x.p);
    dasf_db_stats st = {0};
    dasf_db_get_stats(dasf_profiler_database(x.p), &st);
    int rc2 = dasf_profiler_destroy(x.p);
    if (rc || rc2) bench_die("commit/destroy: %s", dasf_strerror(rc ? rc : rc2));
    unlink(file);

    bench_json j;
    bench_json_record(&j, "dasf", label, cfg.threads, &r);
    bench_json_int(&j, "commit_threshold", (long long)o.commit_threshold);
    bench_json_int(&j, "ring_bytes", (long long)o.ring_capacity);
    bench_json_int(&j, "shm_ring", !anon);
    bench_json_int(&j, "recorded", (long long)st.recorded);
    bench_json_int(&j, "written", (long long)st.written);
    bench_json_int(&j, "dropped", (long long)st.dropped);
    bench_json_str(&j, "clock_source", dasf_clock_source());
    bench_json_end(&j, stdout);
    return 0;
}

/* ---- the floors: what a clock read costs on its own ------------------------ */

static uint64_t batch_clock_dasf(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    int64_t s = 0;
    (void)t;
    (void)first;
    for (unsigned i = 0; i < n; i++)
        s += dasf_now_ns();
    x->sink = s;
    return 0;
}

static uint64_t batch_clock_rdtsc(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    uint64_t s = 0;
    (void)t;
    (void)first;
#if defined(__x86_64__) || defined(__i386__)
    for (unsigned i = 0; i < n; i++)
        s += __rdtsc();
#else
    for (unsigned i = 0; i < n; i++)
        s += (uint64_t)dasf_now_ns();
#endif
    x->sink = (int64_t)s;
    return 0;
}

/* The floor of any ring (bench_ours.h): a bare 32-byte store into a
 * pre-faulted 16 MiB buffer with path h's caller loop. */
static bench_floor_ring g_floor;

static uint64_t batch_ring_store(void *c, int t, uint64_t first, unsigned n) {
    rec_ctx *x = c;
    (void)t;
    bench_floor_store(&g_floor, x->h, first, n);
    return 0;
}

static int cmd_clock(int argc, char **argv) {
    rec_ctx x = {0};
    static const struct {
        const char *name;
        uint64_t (*fn)(void *, int, uint64_t, unsigned);
    } clocks[] = {{"clock_dasf_now", batch_clock_dasf},
                  {"clock_rdtsc", batch_clock_rdtsc},
                  {"ring_store", batch_ring_store}};
    bench_floor_init(&g_floor, (size_t)16 << 20);
    for (unsigned i = 0; i < 16; i++)
        x.h[i] = i + 1;
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        bench_impl impl = {.ctx = &x, .run_batch = clocks[i].fn};
        bench_lat_cfg cfg = {.threads = 1,
                             .rounds = (unsigned)bench_opt_ll(argc, argv, "rounds", 4),
                             .batches_per_round = 256};
        bench_lat_result r;
        bench_lat_run(&impl, &cfg, &r);
        bench_json j;
        bench_json_record(&j, "floor", clocks[i].name, 1, &r);
        bench_json_str(&j, "clock_source", dasf_clock_source());
        bench_json_end(&j, stdout);
    }
    bench_floor_free(&g_floor);
    return 0;
}

const bench_cmd bench_record_cmd = {
    "record",
    "--path h|zone|now|now_ns|args|copied --threads N --dir DIR [--rounds R] [--batches B]"
    " [--threshold N] [--ring-mib M] [--shm on|off] [--overflow block|overwrite]",
    cmd_record};
const bench_cmd bench_clock_cmd = {"clock", "[--rounds R]", cmd_clock};
