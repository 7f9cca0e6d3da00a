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

static int cmd_e2e(int argc, char **argv) {
    int threads = (int)bench_opt_ll(argc, argv, "threads", 1);
    uint64_t total = (uint64_t)bench_opt_ll(argc, argv, "events", 20000000);
    const char *dir = bench_opt(argc, argv, "dir", "/tmp");
    int keep = (int)bench_opt_ll(argc, argv, "keep", 0);
    int copied = (int)bench_opt_ll(argc, argv, "copied", 0);
    if (threads < 1 || total < (uint64_t)threads)
        bench_die("--threads >= 1 and --events >= threads");

    size_t tn = 1 << 16;
    int64_t period;
    wl_event *table = wl_table(WL_REGULAR, 42, tn, &period);
    dasf_name h[WL_MAX_NAMES];
    for (unsigned i = 0; i < wl_name_count(WL_REGULAR); i++)
        h[i] = dasf_intern(wl_name(WL_REGULAR, i));

    char file[4096];
    snprintf(file, sizeof file, "%s/e2e-%d-%d.msgpack.zst", dir, threads, (int)getpid());
    dasf_file_db_options o = dasf_file_db_options_default();
    o.ring_capacity = (size_t)bench_opt_ll(argc, argv, "ring-mib", 16) << 20;
    o.commit_threshold = bench_opt_ll(argc, argv, "threshold", 65536);
    o.compression_level = (int)bench_opt_ll(argc, argv, "level", 1);
    o.overflow = DASF_OVERFLOW_BLOCK;
    int flush = (int)bench_opt_ll(argc, argv, "flush", 1);
    o.flush = flush != 0;
    o.remove_old_output_file = true;
    int workers = (int)bench_opt_ll(argc, argv, "workers", 0);
    if (workers < 0 || workers > DASF_MAX_COMPRESSION_WORKERS)
        bench_die("--workers 0..%d", DASF_MAX_COMPRESSION_WORKERS);
    o.compression_workers = workers;
    char impl[64];
    snprintf(impl, sizeof impl, "%s",
             copied ? "dasf-copied-args" : flush ? "dasf" : "dasf-fsync-at-end");
    if (workers > 0)
        snprintf(impl + strlen(impl), sizeof impl - strlen(impl), "-w%d", workers);
    dasf_profiler *p = bench_profiler(file, &o);

    e2e_thread *a = calloc((size_t)threads, sizeof *a);
    pthread_barrier_t bar;
    if (!table || !a || pthread_barrier_init(&bar, NULL, (unsigned)threads + 1) != 0)
        bench_die("out of memory");
    for (int t = 0; t < threads; t++) {
        a[t] = (e2e_thread){
            .p = p, .table = table, .table_n = tn, .period = period, .h = h, .copied = copied,
            .bar = &bar};
        a[t].events = total / (uint64_t)threads + ((uint64_t)t < total % (uint64_t)threads);
        if (pthread_create(&a[t].th, NULL, e2e_main, &a[t]) != 0)
            bench_die("pthread_create failed");
    }
    pthread_barrier_wait(&bar);
    double t0 = bench_mono_s();
    double p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), m0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    uint64_t errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(a[t].th, NULL);
        errors += a[t].errors;
    }
    double t_rec = bench_mono_s();
    int rc = dasf_profiler_commit(p);
    if (rc == 0 && !flush) {
        int fd = open(file, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) bench_die("fsync(%s) failed", file);
        close(fd);
    }
    double t1 = bench_mono_s();
    /* The library's threads' CPU time over the run: the process's minus
     * the recording threads' and this one's (which only waits).  That is the
     * flusher (drain, encode, zstd, write and fsync system time) plus the
     * idle call_rcu thread. */
    double lib_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0 - (cpu_s(CLOCK_THREAD_CPUTIME_ID) - m0);
    for (int t = 0; t < threads; t++) lib_cpu -= a[t].cpu_s;
    double flusher_cpu = named_threads_cpu_s("dasf-flusher");
    double workers_cpu = workers ? named_threads_cpu_s("dasf-worker") : 0;
    dasf_db_stats st = {0};
    dasf_db_get_stats(dasf_profiler_database(p), &st);
    int rc2 = dasf_profiler_destroy(p);
    if (rc || rc2) bench_die("commit/destroy: %s", dasf_strerror(rc ? rc : rc2));

    uint64_t bytes = bench_file_size(file);
    double read_s;
    uint64_t read = bench_read_back(file, &read_s);
    bench_floor fl = {0};
    int floor = (int)bench_opt_ll(argc, argv, "floor", o.compression_level > 0);
    if (floor && bench_codec_floor(file, o.compression_level, 5, &fl) != 0)
        bench_die("codec floor: %s is not a readable archive", file);
    if (!keep) unlink(file);

    bench_json j;
    bench_json_begin(&j, "e2e");
    bench_json_str(&j, "impl", impl);
    bench_json_int(&j, "threads", threads);
    bench_json_int(&j, "workers", workers);
    bench_json_int(&j, "events", (long long)total);
    bench_json_num(&j, "record_s", t_rec - t0);
    bench_json_num(&j, "durable_s", t1 - t0);
    bench_json_num(&j, "events_per_s", (double)total / (t1 - t0));
    bench_json_num(&j, "flusher_cpu_ns_per_event", lib_cpu * 1e9 / (double)total);
    if (flusher_cpu >= 0)
        bench_json_num(&j, "flusher_thread_cpu_ns_per_event", flusher_cpu * 1e9 / (double)total);
    if (workers_cpu >= 0)
        bench_json_num(&j, "workers_cpu_ns_per_event", workers_cpu * 1e9 / (double)total);
    bench_json_int(&j, "errors", (long long)errors);
    bench_json_int(&j, "recorded", (long long)st.recorded);
    bench_json_int(&j, "dropped", (long long)st.dropped);
    bench_json_int(&j, "written", (long long)st.written);
    bench_json_int(&j, "chunks", (long long)st.chunks_written);
    bench_json_int(&j, "read_back", (long long)read);
    bench_json_int(&j, "file_bytes", (long long)bytes);
    bench_json_num(&j, "bytes_per_event", (double)bytes / (double)total);
    bench_json_int(&j, "level", o.compression_level);
    if (floor) {
        bench_json_num(&j, "floor_events_per_s", fl.events_per_s);
        bench_json_num(&j, "floor_raw_bytes_per_event", (double)fl.raw_bytes / (double)fl.events);
        bench_json_num(&j, "vs_floor", (double)total / (t1 - t0) / fl.events_per_s);
    }
    bench_json_end(&j, stdout);

    bench_json_begin(&j, "reader");
    bench_json_str(&j, "impl", impl);
    bench_json_int(&j, "threads", threads);
    bench_json_int(&j, "events", (long long)read);
    bench_json_num(&j, "seconds", read_s);
    bench_json_num(&j, "events_per_s", (double)read / read_s);
    bench_json_end(&j, stdout);

    pthread_barrier_destroy(&bar);
    free(a);
    free(table);
    /* A lossy or short file is a failed run, not a number. */
    return (errors || st.dropped || read != total) ? 1 : 0;
}

const bench_cmd bench_e2e_cmd = {
    "e2e",
    "--threads N --events TOTAL --dir DIR [--level 1] [--ring-mib 16] [--threshold 65536]"
    " [--keep 0|1] [--flush 1|0] [--copied 0|1] [--floor 0|1] [--workers 0]",
    cmd_e2e};
