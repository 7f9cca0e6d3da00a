/*
 * bench_e2e.c — end-to-end throughput: N threads record a fixed number of
 * events as fast as they can (interned names, caller-given timestamps
 * replayed from the REGULAR workload), through the flusher, zstd and the
 * file system, BLOCK policy, fsync per chunk (flush = true).  The clock
 * stops when dasf_profiler_commit returns: every event is then durable.
 *
 * Then the file is read back with dasf_trace_next: the count must equal
 * what was recorded (and dasf_db_get_stats must show 0 dropped), and the
 * read gives the reader's events/s.
 *
 *   dasf-bench e2e --threads N --events TOTAL --dir DIR [--level 1]
 *                  [--ring-mib 16] [--threshold 65536] [--keep 0|1] [--flush 1|0]
 *                  [--copied 0|1] [--floor 0|1] [--workers 0]
 *
 * --copied 1 records the same events with copied names and the workload's
 * two integer args (dasf_record_complete_args) instead of interned names.
 * Every run also reports flusher_cpu_ns_per_event: the CPU time of the
 * library's threads (the flusher: drain, encode, zstd, write, fsync) per
 * event, i.e. the process's CPU time minus the recording threads' and the
 * waiting main thread's.
 *
 * --floor 1 (the default at levels >= 1) then measures the codec floor on
 * the file just written (codec_floor.c: zstd alone, same parameters, on
 * the same chunk payloads, median of 5 passes) and reports it beside the
 * run's events/s: floor_events_per_s and vs_floor = events_per_s / floor.
 *
 * --workers N sets compression_workers (issue 14: encode + compress in N
 * threads beside the flusher); the row's impl gets "-wN" appended when N > 0,
 * and flusher_cpu_ns_per_event then counts the workers' CPU time too.  The
 * split is reported as flusher_thread_cpu_ns_per_event (the thread named
 * "dasf-flusher": hand-off, collect, append) and workers_cpu_ns_per_event
 * (threads named "dasf-worker"), from /proc/self/task/TID/schedstat (ns of
 * CPU time) read before the profiler is destroyed.
 *
 * --flush 0 turns the per-chunk fsync off and instead fsyncs the file once
 * after the commit, inside the timed region: the same end state (every
 * event durable), the way a tracer that does not fsync as it goes (LTTng)
 * would get there.
 */
#include "bench_ours.h"
#include "codec_floor.h"
#include "workload.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct e2e_thread {
    pthread_t th;
    dasf_profiler *p;
    const wl_event *table;
    size_t table_n;
    int64_t period;
    const dasf_name *h;
    int copied; /* --copied 1: copied names + the workload's args */
    uint64_t events, errors;
    double cpu_s; /* this recording thread's CPU time */
    pthread_barrier_t *bar;
} e2e_thread;

static double cpu_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time (s) of this process's threads whose name starts with prefix
 * (/proc/self/task/TID/comm and schedstat's first field, ns on a CPU);
 * -1 when /proc does not say. */
static double named_threads_cpu_s(const char *prefix) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    double sum = 0;
    int any = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
        fclose(f);
        if (strncmp(comm, prefix, strlen(prefix)) != 0) continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", de->d_name);
        unsigned long long ns = 0;
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%llu", &ns) == 1) any = 1;
            fclose(f);
        }
        sum += (double)ns * 1e-9;
    }
    closedir(d);
    return any ? sum : -1;
}

static void *e2e_main(void *arg) {
    e2e_thread *a = arg;
    size_t i = 0;
    int64_t shift = 0;
    uint64_t err = 0;
    pthread_barrier_wait(a->bar);
    double c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    for (uint64_t k = 0; k < a->events; k++) {
        const wl_event *e = &a->table[i];
        double ts = (double)(e->ts_ns + shift) * 1e-9, dur = (double)e->dur_ns * 1e-9;
        if (a->copied) {
            dasf_arg args[2] = {DASF_ARG_I64("step", e->a0), DASF_ARG_I64("block", e->a1)};
            err += dasf_record_complete_args(a->p, wl_name(WL_REGULAR, e->name), ts, dur, args,
                                             e->has_args ? 2 : 0) != 0;
        } else {
            err += dasf_record_complete_h(a->p, a->h[e->name], ts, dur) != 0;
        }
        if (++i == a->table_n) {
            i = 0;
            shift += a->period;
        }
    }
    a->errors = err;
    a->cpu_s = cpu_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

/* One run's settings, from the command line. */
typedef struct e2e_config {
    int threads, keep, copied, flush, workers, floor;
    uint64_t total;
    char file[4096];
    char impl[64]; /* the rows' impl: dasf, dasf-copied-args, dasf-fsync-at-end (+ -wN) */
    dasf_file_db_options o;
} e2e_config;

/* What one run measured. */
typedef struct e2e_result {
    double record_s, durable_s; /* from the start to the last record / to durable */
    double lib_cpu, flusher_cpu, workers_cpu; /* s; the last two -1 when /proc does not say */
    uint64_t errors, bytes, read;
    double read_s;
    dasf_db_stats st;
    bench_floor fl;
} e2e_result;

static void e2e_config_parse(int argc, char **argv, e2e_config *c) {
    c->threads = (int)bench_opt_ll(argc, argv, "threads", 1);
    c->total = (uint64_t)bench_opt_ll(argc, argv, "events", 20000000);
    const char *dir = bench_opt(argc, argv, "dir", "/tmp");
    c->keep = (int)bench_opt_ll(argc, argv, "keep", 0);
    c->copied = (int)bench_opt_ll(argc, argv, "copied", 0);
    if (c->threads < 1 || c->total < (uint64_t)c->threads)
        bench_die("--threads >= 1 and --events >= threads");
    snprintf(c->file, sizeof c->file, "%s/e2e-%d-%d.msgpack.zst", dir, c->threads, (int)getpid());
    c->o = dasf_file_db_options_default();
    c->o.ring_capacity = (size_t)bench_opt_ll(argc, argv, "ring-mib", 16) << 20;
    c->o.commit_threshold = bench_opt_ll(argc, argv, "threshold", 65536);
    c->o.compression_level = (int)bench_opt_ll(argc, argv, "level", 1);
    c->o.overflow = DASF_OVERFLOW_BLOCK;
    c->flush = (int)bench_opt_ll(argc, argv, "flush", 1);
    c->o.flush = c->flush != 0;
    c->o.remove_old_output_file = true;
    c->workers = (int)bench_opt_ll(argc, argv, "workers", 0);
    if (c->workers < 0 || c->workers > DASF_MAX_COMPRESSION_WORKERS)
        bench_die("--workers 0..%d", DASF_MAX_COMPRESSION_WORKERS);
    c->o.compression_workers = c->workers;
    c->floor = (int)bench_opt_ll(argc, argv, "floor", c->o.compression_level > 0);
    snprintf(c->impl, sizeof c->impl, "%s",
             c->copied ? "dasf-copied-args" : c->flush ? "dasf" : "dasf-fsync-at-end");
    if (c->workers > 0)
        snprintf(c->impl + strlen(c->impl), sizeof c->impl - strlen(c->impl), "-w%d", c->workers);
}

/* Records c->total events from c->threads threads replaying table, until
 * durable; dies when the commit or destroy fails. */
static void e2e_record(const e2e_config *c, const wl_event *table, size_t tn, int64_t period,
                       const dasf_name *h, e2e_result *r) {
    dasf_profiler *p = bench_profiler(c->file, &c->o);
    e2e_thread *a = calloc((size_t)c->threads, sizeof *a);
    pthread_barrier_t bar;
    if (!a || pthread_barrier_init(&bar, NULL, (unsigned)c->threads + 1) != 0)
        bench_die("out of memory");
    for (int t = 0; t < c->threads; t++) {
        a[t] = (e2e_thread){
            .p = p, .table = table, .table_n = tn, .period = period, .h = h, .copied = c->copied,
            .bar = &bar};
        uint64_t n = (uint64_t)c->threads;
        a[t].events = c->total / n + ((uint64_t)t < c->total % n);
        if (pthread_create(&a[t].th, NULL, e2e_main, &a[t]) != 0)
            bench_die("pthread_create failed");
    }
    pthread_barrier_wait(&bar);
    double t0 = bench_mono_s();
    double p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), m0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    for (int t = 0; t < c->threads; t++) {
        pthread_join(a[t].th, NULL);
        r->errors += a[t].errors;
    }
    double t_rec = bench_mono_s();
    int rc = dasf_profiler_commit(p);
    if (rc == 0 && !c->flush) {
        int fd = open(c->file, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) bench_die("fsync(%s) failed", c->file);
        close(fd);
    }
    double t1 = bench_mono_s();
    /* The library's threads' CPU time over the run: the process's minus
     * the recording threads' and this one's (which only waits).  That is the
     * flusher (drain, encode, zstd, write and fsync system time) plus the
     * idle call_rcu thread. */
    r->lib_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0 - (cpu_s(CLOCK_THREAD_CPUTIME_ID) - m0);
    for (int t = 0; t < c->threads; t++) r->lib_cpu -= a[t].cpu_s;
    r->flusher_cpu = named_threads_cpu_s("dasf-flusher");
    r->workers_cpu = c->workers ? named_threads_cpu_s("dasf-worker") : 0;
    dasf_db_get_stats(dasf_profiler_database(p), &r->st);
    int rc2 = dasf_profiler_destroy(p);
    if (rc || rc2) bench_die("commit/destroy: %s", dasf_strerror(rc ? rc : rc2));
    r->record_s = t_rec - t0;
    r->durable_s = t1 - t0;
    pthread_barrier_destroy(&bar);
    free(a);
}

/* The file's size, the read back, the codec floor; the file removed unless --keep 1. */
static void e2e_read_back(const e2e_config *c, e2e_result *r) {
    r->bytes = bench_file_size(c->file);
    r->read = bench_read_back(c->file, &r->read_s);
    if (c->floor && bench_codec_floor(c->file, c->o.compression_level, 5, &r->fl) != 0)
        bench_die("codec floor: %s is not a readable archive", c->file);
    if (!c->keep) unlink(c->file);
}

/* The "e2e" and "reader" rows (bench/aggregate.py reads them). */
static void e2e_report(const e2e_config *c, const e2e_result *r) {
    double total = (double)c->total;
    bench_json j;
    bench_json_begin(&j, "e2e");
    bench_json_str(&j, "impl", c->impl);
    bench_json_int(&j, "threads", c->threads);
    bench_json_int(&j, "workers", c->workers);
    bench_json_int(&j, "events", (long long)c->total);
    bench_json_num(&j, "record_s", r->record_s);
    bench_json_num(&j, "durable_s", r->durable_s);
    bench_json_num(&j, "events_per_s", total / r->durable_s);
    bench_json_num(&j, "flusher_cpu_ns_per_event", r->lib_cpu * 1e9 / total);
    if (r->flusher_cpu >= 0)
        bench_json_num(&j, "flusher_thread_cpu_ns_per_event", r->flusher_cpu * 1e9 / total);
    if (r->workers_cpu >= 0)
        bench_json_num(&j, "workers_cpu_ns_per_event", r->workers_cpu * 1e9 / total);
    bench_json_int(&j, "errors", (long long)r->errors);
    bench_json_int(&j, "recorded", (long long)r->st.recorded);
    bench_json_int(&j, "dropped", (long long)r->st.dropped);
    bench_json_int(&j, "written", (long long)r->st.written);
    bench_json_int(&j, "chunks", (long long)r->st.chunks_written);
    bench_json_int(&j, "read_back", (long long)r->read);
    bench_json_int(&j, "file_bytes", (long long)r->bytes);
    bench_json_num(&j, "bytes_per_event", (double)r->bytes / total);
    bench_json_int(&j, "level", c->o.compression_level);
    if (c->floor) {
        bench_json_num(&j, "floor_events_per_s", r->fl.events_per_s);
        bench_json_num(&j, "floor_raw_bytes_per_event",
                       (double)r->fl.raw_bytes / (double)r->fl.events);
        bench_json_num(&j, "vs_floor", total / r->durable_s / r->fl.events_per_s);
    }
    bench_json_end(&j, stdout);

    bench_json_begin(&j, "reader");
    bench_json_str(&j, "impl", c->impl);
    bench_json_int(&j, "threads", c->threads);
    bench_json_int(&j, "events", (long long)r->read);
    bench_json_num(&j, "seconds", r->read_s);
    bench_json_num(&j, "events_per_s", (double)r->read / r->read_s);
    bench_json_end(&j, stdout);
}

static int cmd_e2e(int argc, char **argv) {
    e2e_config c;
    memset(&c, 0, sizeof c);
    e2e_config_parse(argc, argv, &c);
    size_t tn = 1 << 16;
    int64_t period;
    wl_event *table = wl_table(WL_REGULAR, 42, tn, &period);
    if (!table) bench_die("out of memory");
    dasf_name h[WL_MAX_NAMES];
    for (unsigned i = 0; i < wl_name_count(WL_REGULAR); i++)
        h[i] = dasf_intern(wl_name(WL_REGULAR, i));
    e2e_result r;
    memset(&r, 0, sizeof r);
    e2e_record(&c, table, tn, period, h, &r);
    free(table);
    e2e_read_back(&c, &r);
    e2e_report(&c, &r);
    /* A lossy or short file is a failed run, not a number. */
    return (r.errors || r.st.dropped || r.read != c.total) ? 1 : 0;
}

const bench_cmd bench_e2e_cmd = {
    "e2e",
    "--threads N --events TOTAL --dir DIR [--level 1] [--ring-mib 16] [--threshold 65536]"
    " [--keep 0|1] [--flush 1|0] [--copied 0|1] [--floor 0|1] [--workers 0]",
    cmd_e2e};
