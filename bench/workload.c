/*
 * workload.c — deterministic event streams for the benchmarks (see
 * workload.h for what each one models).
 *
 * Single-threaded: each recording thread owns its generator.  The same
 * (kind, seed) always yields the same events on every machine, which is
 * what lets two processes (ours, LTTng's) record identical traces.
 */
#include "workload.h"

#include <stdlib.h>
#include <string.h>

/* Enclosing zones first (no args), then leaves (args step, block). */
static const char *const regular_names[] = {
    "timestep",      "halo_exchange",     "compute",       "reduce",       "checkpoint",
    "pack_halo",     "mpi_isend",         "mpi_irecv",     "mpi_waitall",  "unpack_halo",
    "stencil_block", "apply_boundary",    "update_ghosts", "swap_buffers", "local_residual",
    "mpi_allreduce", "check_convergence", "pack_field",    "write_field",  "fsync_field",
};
enum {
    N_TIMESTEP,
    N_HALO,
    N_COMPUTE,
    N_REDUCE,
    N_CHECKPOINT,
    N_PACK_HALO,
    N_ISEND,
    N_IRECV,
    N_WAITALL,
    N_UNPACK_HALO,
    N_STENCIL,
    N_BOUNDARY,
    N_GHOSTS,
    N_SWAP,
    N_RESIDUAL,
    N_ALLREDUCE,
    N_CONVERGENCE,
    N_PACK_FIELD,
    N_WRITE_FIELD,
    N_FSYNC_FIELD,
    N_REGULAR
};
/* Base cost of each leaf, ns (zones last as long as their children). */
static const int64_t regular_cost[N_REGULAR] = {
    [N_PACK_HALO] = 2000,   [N_ISEND] = 800,          [N_IRECV] = 700,
    [N_WAITALL] = 15000,    [N_UNPACK_HALO] = 1800,   [N_STENCIL] = 40000,
    [N_BOUNDARY] = 3000,    [N_GHOSTS] = 1200,        [N_SWAP] = 150,
    [N_RESIDUAL] = 5000,    [N_ALLREDUCE] = 9000,     [N_CONVERGENCE] = 120,
    [N_PACK_FIELD] = 50000, [N_WRITE_FIELD] = 400000, [N_FSYNC_FIELD] = 2000000,
};
#define BLOCKS_PER_STEP 16
#define CHECKPOINT_EVERY 50
#define QUEUE_MAX 64

static char random_names[WL_MAX_NAMES][24];
static int random_names_ready;

struct wl_gen {
    int kind;
    uint64_t rng;
    int64_t t; /* time cursor, ns */
    int64_t step;
    wl_event q[QUEUE_MAX];
    unsigned qn, qi;
};

static uint64_t rnd(wl_gen *g) {
    /* xorshift64*: fast, deterministic, good enough for synthetic data */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545F4914F6CDD1DULL;
}

int wl_kind_from_name(const char *s) {
    if (strcmp(s, "regular") == 0) return WL_REGULAR;
    if (strcmp(s, "random") == 0) return WL_RANDOM;
    return -1;
}

const char *wl_kind_name(int kind) {
    return kind == WL_REGULAR ? "regular" : "random";
}

unsigned wl_name_count(int kind) {
    return kind == WL_REGULAR ? N_REGULAR : WL_MAX_NAMES;
}

const char *wl_name(int kind, unsigned idx) {
    if (kind == WL_REGULAR) return idx < N_REGULAR ? regular_names[idx] : NULL;
    if (idx >= WL_MAX_NAMES) return NULL;
    if (!__atomic_load_n(&random_names_ready, __ATOMIC_ACQUIRE)) {
        /* Idempotent: racing initialisers write the same bytes. */
        static const char *const words[] = {"solve",   "mesh", "io",     "fft",
                                            "io_wait", "rank", "kernel", "copy"};
        for (unsigned i = 0; i < WL_MAX_NAMES; i++) {
            char *d = random_names[i];
            const char *w = words[i % 8];
            size_t n = strlen(w);
            memcpy(d, w, n);
            d[n] = '_';
            d[n + 1] = (char)('a' + i / 8);
            d[n + 2] = (char)('0' + i % 8);
            d[n + 3] = 0;
        }
        __atomic_store_n(&random_names_ready, 1, __ATOMIC_RELEASE);
    }
    return random_names[idx];
}

wl_gen *wl_create(int kind, uint64_t seed) {
    wl_gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->kind = kind;
    g->rng = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (g->rng == 0) g->rng = 1;
    g->t = 1000000000000LL + (int64_t)(rnd(g) % 1000000);
    (void)wl_name(kind, 0);
    return g;
}

void wl_destroy(wl_gen *g) {
    free(g);
}

/* ---- REGULAR: one time step at a time, queued in completion order ------ */

static int64_t jitter(wl_gen *g, int64_t base) {
    /* +-3% of base, at least +-1 ns */
    int64_t span = base * 6 / 100 + 1;
    return base - span / 2 + (int64_t)(rnd(g) % (uint64_t)span);
}

static void push(wl_gen *g, unsigned name, int64_t ts, int64_t dur, int args, int64_t block) {
    wl_event *e = &g->q[g->qn++];
    e->name = name;
    e->ts_ns = ts;
    e->dur_ns = dur;
    e->has_args = args;
    e->a0 = args ? g->step : 0;
    e->a1 = args ? block : 0;
}

static void leaf(wl_gen *g, unsigned name, int64_t block) {
    g->t += 20 + (int64_t)(rnd(g) % 16); /* call overhead between kernels */
    int64_t dur = jitter(g, regular_cost[name]);
    push(g, name, g->t, dur, 1, block);
    g->t += dur;
}

static void zone_end(wl_gen *g, unsigned name, int64_t start) {
    g->t += 10 + (int64_t)(rnd(g) % 8);
    push(g, name, start, g->t - start, 0, 0);
}

static void regular_step(wl_gen *g) {
    g->qn = g->qi = 0;
    int64_t t_step = g->t;

    int64_t t_zone = g->t;
    leaf(g, N_PACK_HALO, 0);
    leaf(g, N_ISEND, 0);
    leaf(g, N_IRECV, 0);
    leaf(g, N_WAITALL, 0);
    leaf(g, N_UNPACK_HALO, 0);
    zone_end(g, N_HALO, t_zone);

    t_zone = g->t;
    for (int b = 0; b < BLOCKS_PER_STEP; b++)
        leaf(g, N_STENCIL, b);
    leaf(g, N_BOUNDARY, 0);
    leaf(g, N_GHOSTS, 0);
    leaf(g, N_SWAP, 0);
    zone_end(g, N_COMPUTE, t_zone);

    t_zone = g->t;
    leaf(g, N_RESIDUAL, 0);
    leaf(g, N_ALLREDUCE, 0);
    leaf(g, N_CONVERGENCE, 0);
    zone_end(g, N_REDUCE, t_zone);

    if (g->step % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1) {
        t_zone = g->t;
        leaf(g, N_PACK_FIELD, 0);
        leaf(g, N_WRITE_FIELD, 0);
        leaf(g, N_FSYNC_FIELD, 0);
        zone_end(g, N_CHECKPOINT, t_zone);
    }
    zone_end(g, N_TIMESTEP, t_step);
    g->step++;
}

void wl_next(wl_gen *g, wl_event *ev) {
    if (g->kind == WL_REGULAR) {
        if (g->qi == g->qn) regular_step(g);
        *ev = g->q[g->qi++];
        return;
    }
    uint64_t r = rnd(g);
    g->t += (int64_t)(r & 0xffff);
    ev->name = (unsigned)(r >> 16) % WL_MAX_NAMES;
    ev->ts_ns = g->t;
    ev->dur_ns = (int64_t)(rnd(g) & 0xfffff);
    ev->has_args = 1;
    r = rnd(g);
    ev->a0 = (int64_t)(r & 0xffff);
    ev->a1 = (int64_t)((r >> 16) & 0xffff);
}

wl_event *wl_table(int kind, uint64_t seed, size_t n, int64_t *period_ns) {
    wl_gen *g = wl_create(kind, seed);
    wl_event *t = malloc(n * sizeof *t);
    if (!g || !t) {
        wl_destroy(g);
        free(t);
        return NULL;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        wl_next(g, &t[i]);
        if (t[i].ts_ns < lo) lo = t[i].ts_ns;
        if (t[i].ts_ns + t[i].dur_ns > hi) hi = t[i].ts_ns + t[i].dur_ns;
    }
    wl_destroy(g);
    /* Replaying the table again shifted by the period keeps every thread's
     * timeline moving forward. */
    if (period_ns) *period_ns = hi - lo + 1000;
    return t;
}
