/*
 * bench_util.c — TSC timing, the batched latency harness, statistics and
 * JSON output shared by every bench/ program.
 *
 * Threads: bench_lat_run starts cfg->threads recording threads and keeps
 * them in lock step with a barrier around each round, so that untimed work
 * between rounds (a commit, a pause for a consumer) never overlaps a timed
 * batch of another thread.  Everything else is single-threaded helpers.
 */
#include "bench_util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#endif

void bench_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double ts_of(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double bench_mono_s(void) {
    return ts_of(CLOCK_MONOTONIC);
}

uint64_t bench_tsc(void) {
#ifdef BENCH_HAVE_TSC
    /* lfence keeps earlier instructions from drifting past the read; over a
     * 1024-event batch the remaining skew is a few cycles. */
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_RAW, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

static double tsc_hz_cached;

/* Ticks per second against CLOCK_MONOTONIC_RAW over ~200 ms; the median of
 * three tries so that one preempted try cannot skew every figure. */
static double calibrate(void) {
#ifdef BENCH_HAVE_TSC
    double tries[3];
    for (int i = 0; i < 3; i++) {
        double s0 = ts_of(CLOCK_MONOTONIC_RAW);
        uint64_t c0 = bench_tsc();
        struct timespec nap = {0, 70 * 1000 * 1000};
        while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
        }
        double s1 = ts_of(CLOCK_MONOTONIC_RAW);
        uint64_t c1 = bench_tsc();
        tries[i] = (double)(c1 - c0) / (s1 - s0);
    }
    return bench_quantile(tries, 3, 0.5);
#else
    return 1e9;
#endif
}

double bench_tsc_hz(void) {
    if (tsc_hz_cached == 0) tsc_hz_cached = calibrate();
    return tsc_hz_cached;
}

double bench_ticks_to_ns(uint64_t ticks) {
    return (double)ticks * 1e9 / bench_tsc_hz();
}

int bench_gettid(void) {
    static __thread int tid;
    if (tid == 0) tid = (int)syscall(SYS_gettid);
    return tid;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

/* ---- latency harness ------------------------------------------------------ */

typedef struct lat_thread {
    pthread_t th;
    int index;
    const bench_impl *impl;
    const bench_lat_cfg *cfg;
    pthread_barrier_t *bar;
    uint64_t *ticks; /* one per timed batch */
    uint64_t errors;
    uint64_t t_first, t_last;
    int failed;
} lat_thread;

static void *lat_main(void *arg) {
    lat_thread *lt = arg;
    const bench_impl *im = lt->impl;
    const bench_lat_cfg *cfg = lt->cfg;
    uint64_t ev = 0;
    size_t k = 0;

    /* Warm-up: first-use costs (ring creation, TLS, page faults of the
     * caller's own data) belong to no batch. */
    lt->errors += im->run_batch(im->ctx, lt->index, ev, BENCH_BATCH);
    ev += BENCH_BATCH;
    pthread_barrier_wait(lt->bar);
    if (lt->index == 0 && im->between_rounds && im->between_rounds(im->ctx) != 0) lt->failed = 1;
    pthread_barrier_wait(lt->bar);

    for (unsigned r = 0; r < cfg->rounds; r++) {
        for (unsigned b = 0; b < cfg->batches_per_round; b++) {
            uint64_t t0 = bench_tsc();
            lt->errors += im->run_batch(im->ctx, lt->index, ev, BENCH_BATCH);
            uint64_t t1 = bench_tsc();
            if (k == 0) lt->t_first = t0;
            lt->t_last = t1;
            lt->ticks[k++] = t1 - t0;
            ev += BENCH_BATCH;
        }
        pthread_barrier_wait(lt->bar);
        if (lt->index == 0 && im->between_rounds && im->between_rounds(im->ctx) != 0)
            lt->failed = 1;
        pthread_barrier_wait(lt->bar);
    }
    return NULL;
}

bench_lat_cfg bench_lat_cfg_parse(int argc, char **argv) {
    bench_lat_cfg cfg = {
        .threads = (int)bench_opt_ll(argc, argv, "threads", 1),
        .rounds = (unsigned)bench_opt_ll(argc, argv, "rounds", 16),
        .batches_per_round = (unsigned)bench_opt_ll(argc, argv, "batches", 128),
    };
    if (cfg.threads < 1 || cfg.rounds < 1 || cfg.batches_per_round < 1)
        bench_die("--threads, --rounds and --batches must be >= 1");
    return cfg;
}

int bench_lat_run(const bench_impl *impl, const bench_lat_cfg *cfg, bench_lat_result *out) {
    int n = cfg->threads;
    size_t per = (size_t)cfg->rounds * cfg->batches_per_round;
    lat_thread *lt = calloc((size_t)n, sizeof *lt);
    double *ns = malloc((size_t)n * per * sizeof *ns);
    pthread_barrier_t bar;
    int rc = 0;
    (void)bench_tsc_hz();
    if (!lt || !ns || pthread_barrier_init(&bar, NULL, (unsigned)n) != 0)
        bench_die("out of memory");
    for (int i = 0; i < n; i++) {
        lt[i] = (lat_thread){.index = i, .impl = impl, .cfg = cfg, .bar = &bar};
        lt[i].ticks = calloc(per, sizeof *lt[i].ticks);
        if (!lt[i].ticks) bench_die("out of memory");
    }
    for (int i = 0; i < n; i++)
        if (pthread_create(&lt[i].th, NULL, lat_main, &lt[i]) != 0)
            bench_die("pthread_create failed");
    for (int i = 0; i < n; i++)
        pthread_join(lt[i].th, NULL);

    memset(out, 0, sizeof *out);
    uint64_t first = UINT64_MAX, last = 0;
    double sum = 0;
    size_t m = 0;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < per; k++) {
            ns[m] = bench_ticks_to_ns(lt[i].ticks[k]) / BENCH_BATCH;
            sum += ns[m++];
        }
        out->errors += lt[i].errors;
        if (lt[i].t_first < first) first = lt[i].t_first;
        if (lt[i].t_last > last) last = lt[i].t_last;
        if (lt[i].failed) rc = -1;
        free(lt[i].ticks);
    }
    out->batches = m;
    out->events = (uint64_t)m * BENCH_BATCH;
    out->mean_ns = sum / (double)m;
    out->median_ns = bench_quantile(ns, m, 0.5);
    out->p99_ns = bench_quantile(ns, m, 0.99);
    out->min_ns = ns[0];
    out->max_ns = ns[m - 1];
    out->wall_s = bench_ticks_to_ns(last - first) * 1e-9;
    pthread_barrier_destroy(&bar);
    free(ns);
    free(lt);
    return rc;
}

/* ---- JSON lines -------------------------------------------------------------- */

static void jput(bench_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(bench_json *j, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof j->buf - j->len) bench_die("JSON line too long");
    j->len += (size_t)k;
}

static void jkey(bench_json *j, const char *key) {
    jput(j, "%s\"%s\":", j->fields++ ? "," : "", key);
}

void bench_json_begin(bench_json *j, const char *bench) {
    j->len = 0;
    j->fields = 0;
    jput(j, "{");
    bench_json_str(j, "bench", bench);
}

void bench_json_str(bench_json *j, const char *key, const char *v) {
    jkey(j, key);
    jput(j, "\"");
    for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
        if (*s == '"' || *s == '\\')
            jput(j, "\\%c", *s);
        else if (*s < 0x20)
            jput(j, "\\u%04x", *s);
        else
            jput(j, "%c", *s);
    }
    jput(j, "\"");
}

void bench_json_num(bench_json *j, const char *key, double v) {
    jkey(j, key);
    if (isfinite(v))
        jput(j, "%.6g", v);
    else
        jput(j, "null");
}

void bench_json_int(bench_json *j, const char *key, long long v) {
    jkey(j, key);
    jput(j, "%lld", v);
}

void bench_json_lat(bench_json *j, const bench_lat_result *r) {
    bench_json_int(j, "events", (long long)r->events);
    bench_json_int(j, "errors", (long long)r->errors);
    bench_json_int(j, "batches", (long long)r->batches);
    bench_json_int(j, "batch", BENCH_BATCH);
    bench_json_num(j, "median_ns", r->median_ns);
    bench_json_num(j, "p99_ns", r->p99_ns);
    bench_json_num(j, "mean_ns", r->mean_ns);
    bench_json_num(j, "min_ns", r->min_ns);
    bench_json_num(j, "max_ns", r->max_ns);
    bench_json_num(j, "wall_s", r->wall_s);
    bench_json_num(j, "tsc_hz", bench_tsc_hz());
}

void bench_json_record(bench_json *j, const char *impl, const char *path, int threads,
                       const bench_lat_result *r) {
    bench_json_begin(j, "record");
    bench_json_str(j, "impl", impl);
    bench_json_str(j, "path", path);
    bench_json_int(j, "threads", threads);
    bench_json_lat(j, r);
}

void bench_json_end(bench_json *j, FILE *out) {
    jput(j, "}");
    fprintf(out, "%s\n", j->buf);
    fflush(out);
}

/* ---- command line -------------------------------------------------------------- */

const char *bench_opt(int argc, char **argv, const char *key, const char *dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] == '-' && strcmp(argv[i] + 2, key) == 0)
            return argv[i + 1];
    return dflt;
}

long long bench_opt_ll(int argc, char **argv, const char *key, long long dflt) {
    const char *v = bench_opt(argc, argv, key, NULL);
    if (!v) return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v) bench_die("--%s: not an integer: %s", key, v);
    return x;
}

int bench_dispatch(const char *prog, const bench_cmd *const *cmds, size_t n, int argc,
                   char **argv) {
    if (argc >= 2)
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], cmds[i]->name) == 0) return cmds[i]->run(argc, argv);
    if (argc >= 2) fprintf(stderr, "bench: unknown command %s\n", argv[1]);
    fprintf(stderr, "usage:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %s %s %s\n", prog, cmds[i]->name, cmds[i]->usage);
    exit(2);
}

/* ---- files ----------------------------------------------------------------------- */

uint64_t bench_file_size(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) bench_die("stat(%s) failed", path);
    return (uint64_t)sb.st_size;
}
