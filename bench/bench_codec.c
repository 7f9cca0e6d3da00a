/*
 * bench_codec.c — what the codec costs: bytes/event on disk and the
 * flusher's encode + compress time per event, for each layout.
 *
 * Workloads (deterministic xorshift PRNG, one process/thread stream):
 *   regular  a stencil time-step loop with nested X zones, 20 names, every
 *            event with 2 integer args (iteration, block), leaf durations
 *            a per-kernel base with +-3% jitter, 20..60 ns gaps, events in
 *            completion order (children before parents) as zones record.
 *   random   names uniform over 1000, phase uniform over X/B/E/I, ts steps
 *            uniform in [0, 65536) ns, X durations uniform in [0, 2^20) ns,
 *            0..3 args with keys from 16, types uniform over int (uniform
 *            in [0, 2^20)), double (uniform [0,1)), bool, string (from 32).
 *   bench-regular / bench-random  the shared bench/workload.h streams.
 * Chunks of 5000 events (the FileDatabase default commit_threshold).
 * Time = dasf_chunk_enc_add for every event + dasf_chunk_enc_finish per
 * chunk (encode, zstd, CRC, metadata); median of 5 runs.
 *
 *   dasf-bench-codec [--events N] [--runs R] [--levels 0,1,3,5] [--workload W]
 * Output: one JSON object per (workload, level) line: bytes_per_event (whole
 * file bytes / events, metadata and string tables included),
 * ns_per_event_median / _min (add + finish), finish_ns_per_event_median (the
 * zstd + CRC + metadata part alone).
 */
#include "encode.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 5000

typedef struct bench_set {
    const char *name;
    size_t n;
    dasf_enc_event *ev;
    dasf_arg *args;
    char **strings;
    size_t nstrings;
} bench_set;

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *xcalloc(size_t n, size_t s) {
    void *p = calloc(n ? n : 1, s);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void set_common(dasf_enc_event *e, const char *name, int64_t ts, int64_t dur, char ph) {
    memset(e, 0, sizeof *e);
    e->name = name;
    e->name_len = strlen(name);
    e->ts_ns = ts;
    e->dur_ns = dur;
    e->ts = (double)ts * 1e-9;
    e->dur = (double)dur * 1e-9;
    e->phase = ph;
    e->pid = dasf_id_int(4242);
    e->tid = dasf_id_int(4243);
    if (ph == 'I') e->scope = 'g';
}

/* ---- regular: stencil loop --------------------------------------------------- */

static const char *const k_reg_names[20] = {
    "timestep",  "halo_exchange", "pack_halo", "mpi_isend",  "mpi_irecv",
    "unpack_halo", "block",       "load_tile", "stencil_x",  "stencil_y",
    "stencil_z", "apply_boundary", "store_tile", "residual", "reduce",
    "mpi_allreduce", "swap_buffers", "checkpoint", "io_write", "barrier"};
static const int64_t k_reg_cost[20] = {0,    0,    2000, 800,   700,  1800,  0,
                                       900,  6000, 6100, 6200,  1500, 1000,  2500,
                                       0,    9000, 150,  0,     400000, 3000};

typedef struct reg_state {
    bench_set *s;
    size_t i;
    int64_t t, iter;
} reg_state;

static int64_t jit(int64_t base) {
    int64_t span = base * 6 / 100 + 1;
    return base - span / 2 + (int64_t)(rnd() % (uint64_t)span);
}

static void reg_emit(reg_state *r, int name, int64_t ts, int64_t dur, int64_t block) {
    if (r->i >= r->s->n) return;
    dasf_enc_event *e = &r->s->ev[r->i];
    set_common(e, k_reg_names[name], ts, dur, 'X');
    dasf_arg *a = &r->s->args[2 * r->i];
    a[0] = DASF_ARG_I64("iteration", r->iter);
    a[1] = DASF_ARG_I64("block", block);
    e->args = a;
    e->n_args = 2;
    r->i++;
}

static void reg_leaf(reg_state *r, int name, int64_t block) {
    r->t += 20 + (int64_t)(rnd() % 41);
    int64_t d = jit(k_reg_cost[name]);
    reg_emit(r, name, r->t, d, block);
    r->t += d;
}

static void reg_close(reg_state *r, int name, int64_t start, int64_t block) {
    r->t += 10 + (int64_t)(rnd() % 21);
    reg_emit(r, name, start, r->t - start, block);
}

static void make_regular(bench_set *s) {
    reg_state r = {s, 0, 1000000000000ll, 0};
    while (r.i < s->n) {
        int64_t t_step = r.t, z = r.t;
        for (int k = 2; k <= 5; k++) reg_leaf(&r, k, -1);
        reg_close(&r, 1, z, -1);
        for (int b = 0; b < 8; b++) {
            int64_t tb = r.t;
            for (int k = 7; k <= 12; k++) reg_leaf(&r, k, b);
            reg_close(&r, 6, tb, b);
        }
        z = r.t;
        reg_leaf(&r, 13, -1);
        reg_leaf(&r, 15, -1);
        reg_close(&r, 14, z, -1);
        reg_leaf(&r, 16, -1);
        if (r.iter % 50 == 49) {
            z = r.t;
            reg_leaf(&r, 18, -1);
            reg_leaf(&r, 19, -1);
            reg_close(&r, 17, z, -1);
        }
        reg_close(&r, 0, t_step, -1);
        r.iter++;
    }
}

/* ---- random ------------------------------------------------------------------- */

static char *xstrdup_rand_name(size_t i) {
    static const char *const w[] = {"solve", "mesh", "io", "fft", "halo", "rank", "kernel",
                                    "copy", "reduce", "gather", "scatter", "init"};
    char buf[64];
    snprintf(buf, sizeof buf, "%s_%s_%zu", w[rnd() % 12], w[rnd() % 12], i);
    char *p = strdup(buf);
    if (!p) exit(2);
    return p;
}

static void make_random(bench_set *s) {
    static const char *const keys[16] = {"size", "rank", "bytes", "count", "iter", "tag",
                                         "src", "dst", "ok", "label", "x", "y",
                                         "level", "status", "n", "id"};
    static const char *const words[32] = {
        "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon",
        "phi", "chi", "psi", "omega", "red", "green", "blue", "cyan", "black", "white",
        "gray", "pink"};
    static const char phases[4] = {'X', 'B', 'E', 'I'};
    s->nstrings = 1000;
    s->strings = xcalloc(s->nstrings, sizeof *s->strings);
    for (size_t i = 0; i < s->nstrings; i++) s->strings[i] = xstrdup_rand_name(i);
    int64_t t = 2000000000000ll;
    for (size_t i = 0; i < s->n; i++) {
        t += (int64_t)(rnd() & 0xffff);
        char ph = phases[rnd() % 4];
        int64_t dur = ph == 'X' ? (int64_t)(rnd() & 0xfffff) : 0;
        set_common(&s->ev[i], s->strings[rnd() % 1000], t, dur, ph);
        size_t na = rnd() % 4;
        dasf_arg *a = &s->args[3 * i];
        for (size_t k = 0; k < na; k++) {
            const char *key = keys[rnd() % 16];
            switch (rnd() % 4) {
            case 0: a[k] = DASF_ARG_I64(key, (int64_t)(rnd() & 0xfffff)); break;
            case 1: a[k] = DASF_ARG_F64(key, (double)(rnd() >> 11) * 0x1p-53); break;
            case 2: a[k] = DASF_ARG_BOOL(key, rnd() & 1); break;
            default: a[k] = DASF_ARG_STR(key, words[rnd() % 32]); break;
            }
        }
        s->ev[i].args = na ? a : NULL;
        s->ev[i].n_args = na;
    }
}

/* ---- the shared bench/workload.h streams ----------------------------------------- */

static void make_shared(bench_set *s, int kind) {
    wl_event *t = wl_table(kind, 1, s->n, NULL);
    if (!t) exit(2);
    for (size_t i = 0; i < s->n; i++) {
        set_common(&s->ev[i], wl_name(kind, t[i].name), t[i].ts_ns, t[i].dur_ns, 'X');
        if (t[i].has_args) {
            dasf_arg *a = &s->args[2 * i];
            a[0] = DASF_ARG_I64(WL_ARG0, t[i].a0);
            a[1] = DASF_ARG_I64(WL_ARG1, t[i].a1);
            s->ev[i].args = a;
            s->ev[i].n_args = 2;
        }
    }
    free(t);
}

/* ---- measuring ---------------------------------------------------------------- */

static int run_once(const bench_set *s, int level, double *secs, double *fin_secs,
                    size_t *bytes) {
    dasf_chunk_enc *e;
    if (dasf_chunk_enc_create(&e, level, 8)) return -1;
    dasf_chunk_origin o = {.pid = 4242, .host = "benchhost", .clock = "monotonic"};
    dasf_buf out = {0};
    size_t total = 0;
    double fin = 0;
    double t0 = now_s();
    for (size_t i = 0; i < s->n; i++) {
        if (dasf_chunk_enc_add(e, &s->ev[i])) return -1;
        if (dasf_chunk_enc_count(e) == CHUNK || i + 1 == s->n) {
            double f0 = now_s();
            if (dasf_chunk_enc_finish(e, &o, &out)) return -1;
            fin += now_s() - f0;
            total += out.len;
            out.len = 0;
        }
    }
    *secs = now_s() - t0;
    *fin_secs = fin;
    *bytes = total;
    dasf_buf_free(&out);
    dasf_chunk_enc_destroy(e);
    return 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const bench_set *s, int level, int runs) {
    double t[64], f[64];
    size_t bytes = 0;
    if (runs > 64) runs = 64;
    for (int r = 0; r < runs; r++)
        if (run_once(s, level, &t[r], &f[r], &bytes)) {
            fprintf(stderr, "encode failed (%s, level %d)\n", s->name, level);
            exit(1);
        }
    qsort(t, (size_t)runs, sizeof t[0], cmp_d);
    qsort(f, (size_t)runs, sizeof f[0], cmp_d);
    printf("{\"bench\":\"codec\",\"workload\":\"%s\",\"level\":%d,\"events\":%zu,"
           "\"bytes_per_event\":%.3f,\"ns_per_event_median\":%.1f,\"ns_per_event_min\":%.1f,"
           "\"finish_ns_per_event_median\":%.1f,\"runs\":%d}\n",
           s->name, level, s->n, (double)bytes / (double)s->n, t[runs / 2] * 1e9 / (double)s->n,
           t[0] * 1e9 / (double)s->n, f[runs / 2] * 1e9 / (double)s->n, runs);
    fflush(stdout);
}

static const char *opt(int argc, char **argv, const char *name, const char *def) {
    for (int i = 1; i + 1 < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) return argv[i + 1];
    return def;
}

int main(int argc, char **argv) {
    size_t n = (size_t)strtoull(opt(argc, argv, "events", "500000"), NULL, 10);
    int runs = atoi(opt(argc, argv, "runs", "5"));
    const char *levels = opt(argc, argv, "levels", "0,1,3,5");
    const char *only = opt(argc, argv, "workload", NULL);
    if (n == 0 || runs < 1) {
        fprintf(stderr, "usage: dasf-bench-codec [--events N] [--runs R] [--levels 0,1,3,5]"
                        " [--workload regular|random|bench-regular|bench-random]\n");
        return 2;
    }
    const char *names[4] = {"regular", "random", "bench-regular", "bench-random"};
    for (int w = 0; w < 4; w++) {
        if (only && strcmp(only, names[w]) != 0) continue;
        bench_set s = {names[w], n, xcalloc(n, sizeof(dasf_enc_event)),
                       xcalloc(3 * n, sizeof(dasf_arg)), NULL, 0};
        g_rng = 0x9E3779B97F4A7C15ull + (uint64_t)w;
        if (w == 0) make_regular(&s);
        if (w == 1) make_random(&s);
        if (w == 2) make_shared(&s, WL_REGULAR);
        if (w == 3) make_shared(&s, WL_RANDOM);
        const char *p = levels;
        while (*p) {
            char *endp;
            long lv = strtol(p, &endp, 10);
            if (endp == p || lv < 0 || lv > 19) {
                fprintf(stderr, "bad --levels\n");
                return 2;
            }
            measure(&s, (int)lv, runs);
            p = *endp == ',' ? endp + 1 : endp;
            if (endp == p && *p) break;
        }
        for (size_t i = 0; i < s.nstrings; i++) free(s.strings[i]);
        free(s.strings);
        free(s.ev);
        free(s.args);
    }
    return 0;
}
