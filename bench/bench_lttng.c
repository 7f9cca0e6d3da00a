/*
 * bench_lttng.c — the LTTng-UST peer: the same payloads, event counts and
 * timing method as our own benchmarks, through an LTTng-UST tracepoint.
 *
 * The tracing session (discard or blocking channel) is set up outside by
 * bench/run.py; this program only records and, for end-to-end and size
 * runs, runs the given stop command (`lttng stop SESSION`, which returns
 * once the consumer has written every sub-buffer) inside its timed region.
 *
 *   dasf-bench-lttng latency --threads N --rounds R --batches B --pause-ms P --label L
 *   dasf-bench-lttng e2e --threads N --events TOTAL --stop-cmd CMD --label L
 *   dasf-bench-lttng size --workload regular|random --events N --stop-cmd CMD
 */
#include "bench_util.h"
#include "lttng_tp.h"
#include "workload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_pid;
static const char *g_names[16];

static uint64_t lt_batch(void *ctx, int t, uint64_t first, unsigned n) {
    (void)ctx;
    (void)t;
    int tid = bench_gettid();
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        lttng_ust_tracepoint(dasf_bench, complete, g_names[k & 15], (double)k * 1e-7, 5e-8, g_pid,
                             tid);
    }
    return 0;
}

static int lt_pause(void *ctx) {
    /* The LTTng consumer drains on its own; give it the time our commit
     * takes between rounds so every round starts with empty buffers. */
    long ms = *(long *)ctx;
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
    return 0;
}

static int run_cmd(const char *cmd) {
    if (!cmd || !*cmd) return 0;
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "bench: '%s' exited with status %d\n", cmd, rc);
    return rc;
}

static int cmd_latency(int argc, char **argv) {
    long pause_ms = (long)bench_opt_ll(argc, argv, "pause-ms", 20);
    bench_lat_cfg cfg = bench_lat_cfg_parse(argc, argv);
    bench_impl impl = {.ctx = &pause_ms, .run_batch = lt_batch, .between_rounds = lt_pause};
    bench_lat_result r;
    if (bench_lat_run(&impl, &cfg, &r) != 0) bench_die("latency run failed");
    bench_json j;
    bench_json_record(&j, bench_opt(argc, argv, "label", "lttng"), "peer", cfg.threads, &r);
    bench_json_end(&j, stdout);
    return 0;
}

/* ---- end-to-end ------------------------------------------------------------ */

typedef struct e2e_arg {
    pthread_t th;
    const wl_event *table;
    size_t table_n;
    int64_t period;
    uint64_t events;
    pthread_barrier_t *bar;
} e2e_arg;

static void *e2e_main(void *p) {
    e2e_arg *a = p;
    int tid = bench_gettid();
    const char *names[WL_MAX_NAMES];
    for (unsigned i = 0; i < wl_name_count(WL_REGULAR); i++)
        names[i] = wl_name(WL_REGULAR, i);
    pthread_barrier_wait(a->bar);
    size_t i = 0;
    int64_t shift = 0;
    for (uint64_t k = 0; k < a->events; k++) {
        const wl_event *e = &a->table[i];
        lttng_ust_tracepoint(dasf_bench, complete, names[e->name],
                             (double)(e->ts_ns + shift) * 1e-9, (double)e->dur_ns * 1e-9, g_pid,
                             tid);
        if (++i == a->table_n) {
            i = 0;
            shift += a->period;
        }
    }
    return NULL;
}

static int cmd_e2e(int argc, char **argv) {
    int threads = (int)bench_opt_ll(argc, argv, "threads", 1);
    uint64_t total = (uint64_t)bench_opt_ll(argc, argv, "events", 20000000);
    const char *stop = bench_opt(argc, argv, "stop-cmd", NULL);
    size_t tn = 1 << 16;
    int64_t period;
    wl_event *table = wl_table(WL_REGULAR, 42, tn, &period);
    e2e_arg *a = calloc((size_t)threads, sizeof *a);
    pthread_barrier_t bar;
    if (!table || !a || threads < 1) bench_die("bad arguments or out of memory");
    pthread_barrier_init(&bar, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++) {
        a[t] = (e2e_arg){.table = table, .table_n = tn, .period = period, .bar = &bar};
        a[t].events = total / (uint64_t)threads + ((uint64_t)t < total % (uint64_t)threads);
        pthread_create(&a[t].th, NULL, e2e_main, &a[t]);
    }
    pthread_barrier_wait(&bar);
    double t0 = bench_mono_s();
    for (int t = 0; t < threads; t++)
        pthread_join(a[t].th, NULL);
    double t_rec = bench_mono_s();
    int rc = run_cmd(stop);
    double t1 = bench_mono_s();

    bench_json j;
    bench_json_begin(&j, "e2e");
    bench_json_str(&j, "impl", bench_opt(argc, argv, "label", "lttng"));
    bench_json_int(&j, "threads", threads);
    bench_json_int(&j, "events", (long long)total);
    bench_json_num(&j, "record_s", t_rec - t0);
    bench_json_num(&j, "durable_s", t1 - t0);
    bench_json_num(&j, "events_per_s", (double)total / (t1 - t0));
    bench_json_int(&j, "stop_status", rc);
    bench_json_end(&j, stdout);
    pthread_barrier_destroy(&bar);
    free(a);
    free(table);
    return rc ? 1 : 0;
}

/* ---- size: the size workloads, event for event ----------------------------- */

static int cmd_size(int argc, char **argv) {
    int kind = wl_kind_from_name(bench_opt(argc, argv, "workload", "regular"));
    uint64_t n = (uint64_t)bench_opt_ll(argc, argv, "events", 200000);
    const char *stop = bench_opt(argc, argv, "stop-cmd", NULL);
    if (kind < 0) bench_die("--workload: regular or random");
    wl_gen *g = wl_create(kind, 7);
    if (!g) bench_die("out of memory");
    int tid = bench_gettid();
    wl_event e;
    for (uint64_t k = 0; k < n; k++) {
        wl_next(g, &e);
        const char *name = wl_name(kind, e.name);
        double ts = (double)e.ts_ns * 1e-9, dur = (double)e.dur_ns * 1e-9;
        if (e.has_args)
            lttng_ust_tracepoint(dasf_bench, complete_args, name, ts, dur, g_pid, tid, e.a0, e.a1);
        else
            lttng_ust_tracepoint(dasf_bench, complete, name, ts, dur, g_pid, tid);
    }
    wl_destroy(g);
    int rc = run_cmd(stop);
    bench_json j;
    bench_json_begin(&j, "size");
    bench_json_str(&j, "impl", "lttng");
    bench_json_str(&j, "workload", wl_kind_name(kind));
    bench_json_int(&j, "events", (long long)n);
    bench_json_int(&j, "stop_status", rc);
    bench_json_end(&j, stdout);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    g_pid = (int)getpid();
    for (unsigned i = 0; i < 16; i++)
        g_names[i] = wl_name(WL_REGULAR, i);
    static const bench_cmd latency = {
        "latency", "--threads N --rounds R --batches B --pause-ms P --label L", cmd_latency};
    static const bench_cmd e2e = {"e2e", "--threads N --events TOTAL --stop-cmd CMD --label L",
                                  cmd_e2e};
    static const bench_cmd size = {"size", "--workload regular|random --events N --stop-cmd CMD",
                                   cmd_size};
    static const bench_cmd *const cmds[] = {&latency, &e2e, &size};
    return bench_dispatch("dasf-bench-lttng", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
