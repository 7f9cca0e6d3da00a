/*
 * stencil.c — a small HPC-like program traced with dasf-profiler.
 *
 * A 2-D Jacobi solver for the Laplace equation on a square plate (top edge
 * hot, the other edges cold), split into row blocks, one pthread per block.
 * Every iteration each thread exchanges its boundary rows with its
 * neighbours (halo exchange, two barriers), updates its block, and all
 * threads agree on the global residual.  It is instrumented the way a user
 * would instrument a real code: nested DASF_ZONEs (iteration > halo_exchange
 * / compute > tile / reduce), a counter (residual, halo bytes), flow events
 * linking each halo send to the matching receive on the neighbour thread,
 * and process / thread names so viewers label the lanes.
 *
 * It uses the public header only.  Every record call is counted, and the
 * total is printed, so a test can check that the trace holds exactly the
 * events the program recorded.
 *
 *   stencil [-t THREADS] [-n ITERATIONS] [-s SIZE] [-k TILES] [-o FILE]
 */
#include <dasf/profiler.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64

typedef struct options {
    int threads;
    long iterations;
    int size;  /* interior cells per side */
    int tiles; /* tiles (zones) per block per iteration */
    const char *file;
} options;

/* What a thread's neighbours write into it: one row from above, one from below. */
typedef struct mailbox {
    double *from_above;
    double *from_below;
} mailbox;

typedef struct shared {
    const options *opt;
    dasf_profiler *p;
    pthread_barrier_t barrier;
    mailbox box[MAX_THREADS];
    double partial[MAX_THREADS]; /* each thread's residual of this iteration */
    double residual;             /* thread 0's copy of the final global residual */
} shared;

typedef struct worker {
    shared *sh;
    int rank;
    int row0, rows;       /* first global interior row, rows owned */
    double *u, *unew;     /* (rows + 2) x (size + 2), ghost rows and columns included */
    unsigned long events; /* record calls that succeeded */
    unsigned long failed; /* record calls that returned an error */
    int first_error;
} worker;

static void usage(FILE *f) {
    fprintf(f,
            "usage: stencil [-t THREADS] [-n ITERATIONS] [-s SIZE] [-k TILES] [-o FILE]\n"
            "  -t  worker threads, 1..%d (default: online CPUs, clamped to 2..4)\n"
            "  -n  Jacobi iterations (default 22000)\n"
            "  -s  interior grid cells per side (default 256)\n"
            "  -k  compute tiles per thread and iteration, each a zone (default 4)\n"
            "  -o  trace file (default stencil.msgpack.zst; replaced if it exists)\n",
            MAX_THREADS);
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = ncpu < 2 ? 2 : ncpu > 4 ? 4 : (int)ncpu;
    o->iterations = 22000;
    o->size = 256;
    o->tiles = 4;
    o->file = "stencil.msgpack.zst";
    int c;
    long v;
    while ((c = getopt(argc, argv, "t:n:s:k:o:h")) != -1) {
        switch (c) {
        case 't':
            if (parse_long(optarg, 1, MAX_THREADS, &v)) goto bad;
            o->threads = (int)v;
            break;
        case 'n':
            if (parse_long(optarg, 1, 100000000, &v)) goto bad;
            o->iterations = v;
            break;
        case 's':
            if (parse_long(optarg, 4, 16384, &v)) goto bad;
            o->size = (int)v;
            break;
        case 'k':
            if (parse_long(optarg, 1, 1024, &v)) goto bad;
            o->tiles = (int)v;
            break;
        case 'o': o->file = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "stencil: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (o->threads > o->size) {
        fprintf(stderr, "stencil: more threads (%d) than rows (%d)\n", o->threads, o->size);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "stencil: bad value '%s' for -%c\n", optarg, c);
    usage(stderr);
    return -1;
}

/* Counts a record call's outcome; the first error is kept for the report. */
static void tally(worker *w, int rc) {
    if (rc == 0) {
        w->events++;
    } else {
        if (!w->failed) w->first_error = rc;
        w->failed++;
    }
}

/* A DASF_ZONE records one event when its block ends; count it at the top. */
#define ZONE(w, name)                                                                              \
    DASF_ZONE((w)->sh->p, name);                                                                   \
    (w)->events++

static double *row(const worker *w, double *grid, int r) {
    return grid + (size_t)r * (size_t)(w->sh->opt->size + 2);
}

/* A flow id unique per (iteration, sender, direction), the same on both ends. */
static dasf_id halo_flow_id(long it, int sender, int down) {
    return dasf_id_int((it * MAX_THREADS + sender) * 2 + down);
}

/* Sends the boundary rows to the neighbours, waits, receives theirs. */
static void halo_exchange(worker *w, long it) {
    shared *sh = w->sh;
    int n = sh->opt->size + 2, last = sh->opt->threads - 1;
    size_t bytes = (size_t)n * sizeof(double);
    if (w->rank > 0) {
        memcpy(sh->box[w->rank - 1].from_below, row(w, w->u, 1), bytes);
        tally(w, dasf_record_flow(sh->p, DASF_PHASE_FLOW_BEGIN, "halo", "halo",
                                  halo_flow_id(it, w->rank, 0), dasf_now()));
    }
    if (w->rank < last) {
        memcpy(sh->box[w->rank + 1].from_above, row(w, w->u, w->rows), bytes);
        tally(w, dasf_record_flow(sh->p, DASF_PHASE_FLOW_BEGIN, "halo", "halo",
                                  halo_flow_id(it, w->rank, 1), dasf_now()));
    }
    pthread_barrier_wait(&sh->barrier);
    if (w->rank > 0) {
        memcpy(row(w, w->u, 0), sh->box[w->rank].from_above, bytes);
        tally(w, dasf_record_flow(sh->p, DASF_PHASE_FLOW_END, "halo", "halo",
                                  halo_flow_id(it, w->rank - 1, 1), dasf_now()));
    }
    if (w->rank < last) {
        memcpy(row(w, w->u, w->rows + 1), sh->box[w->rank].from_below, bytes);
        tally(w, dasf_record_flow(sh->p, DASF_PHASE_FLOW_END, "halo", "halo",
                                  halo_flow_id(it, w->rank + 1, 0), dasf_now()));
    }
}

/* One Jacobi sweep over rows [r0, r1) of the block; returns the squared change. */
static double sweep(worker *w, int r0, int r1) {
    int n = w->sh->opt->size;
    double change = 0.0;
    for (int r = r0; r < r1; r++) {
        const double *up = row(w, w->u, r - 1), *mid = row(w, w->u, r);
        const double *down = row(w, w->u, r + 1);
        double *out = row(w, w->unew, r);
        for (int c = 1; c <= n; c++) {
            double v = 0.25 * (up[c] + down[c] + mid[c - 1] + mid[c + 1]);
            double d = v - mid[c];
            change += d * d;
            out[c] = v;
        }
    }
    return change;
}

static double compute(worker *w) {
    int tiles = w->sh->opt->tiles < w->rows ? w->sh->opt->tiles : w->rows;
    double change = 0.0;
    for (int t = 0; t < tiles; t++) {
        ZONE(w, "tile");
        change += sweep(w, 1 + w->rows * t / tiles, 1 + w->rows * (t + 1) / tiles);
    }
    double *tmp = w->u; /* ghost rows/columns are copied over by the next exchange */
    w->u = w->unew;
    w->unew = tmp;
    return change;
}

/* Every thread sums the same partials in the same order: identical results,
 * no extra barrier (the next iteration's exchange barrier protects the slots). */
static double reduce(worker *w, double change) {
    shared *sh = w->sh;
    sh->partial[w->rank] = change;
    pthread_barrier_wait(&sh->barrier);
    double total = 0.0;
    for (int i = 0; i < sh->opt->threads; i++)
        total += sh->partial[i];
    return sqrt(total);
}

static void *work(void *arg) {
    worker *w = arg;
    shared *sh = w->sh;
    char name[32];
    snprintf(name, sizeof name, "worker %d", w->rank);
    tally(w, dasf_record_thread_name(sh->p, name));
    const options *o = sh->opt;
    double halo_bytes = 0.0, residual = 0.0;
    for (long it = 0; it < o->iterations; it++) {
        ZONE(w, "iteration");
        {
            ZONE(w, "halo_exchange");
            halo_exchange(w, it);
        }
        double change;
        {
            ZONE(w, "compute");
            change = compute(w);
        }
        {
            ZONE(w, "reduce");
            residual = reduce(w, change);
        }
        if (w->rank == 0) {
            /* Bytes all threads moved this iteration: two rows per inner boundary. */
            halo_bytes += 2.0 * (o->threads - 1) * (o->size + 2) * (double)sizeof(double);
            dasf_arg series[] = {DASF_ARG_F64("residual", residual),
                                 DASF_ARG_F64("halo_MiB", halo_bytes / (1 << 20))};
            tally(w, dasf_record_counter(sh->p, "solver", dasf_now(), series, 2));
        }
    }
    if (w->rank == 0) sh->residual = residual;
    return NULL;
}

/* Allocates a block; the fixed boundary (top edge 1.0) lives in ghost cells. */
static int worker_init(worker *w, shared *sh, int rank) {
    const options *o = sh->opt;
    memset(w, 0, sizeof *w);
    w->sh = sh;
    w->rank = rank;
    w->row0 = o->size * rank / o->threads;
    w->rows = o->size * (rank + 1) / o->threads - w->row0;
    size_t cells = (size_t)(w->rows + 2) * (size_t)(o->size + 2);
    w->u = calloc(cells, sizeof(double));
    w->unew = calloc(cells, sizeof(double));
    sh->box[rank].from_above = calloc((size_t)o->size + 2, sizeof(double));
    sh->box[rank].from_below = calloc((size_t)o->size + 2, sizeof(double));
    if (!w->u || !w->unew || !sh->box[rank].from_above || !sh->box[rank].from_below) return -1;
    if (rank == 0)
        for (int c = 1; c <= o->size; c++)
            row(w, w->u, 0)[c] = row(w, w->unew, 0)[c] = 1.0;
    return 0;
}

static void worker_free(worker *w) {
    free(w->u);
    free(w->unew);
    free(w->sh->box[w->rank].from_above);
    free(w->sh->box[w->rank].from_below);
}

static int run(shared *sh, worker *ws) {
    const options *o = sh->opt;
    pthread_t tid[MAX_THREADS];
    int started = 0, rc = 0;
    if (pthread_barrier_init(&sh->barrier, NULL, (unsigned)o->threads)) return -1;
    for (int i = 0; i < o->threads; i++)
        if (worker_init(&ws[i], sh, i)) rc = -1;
    for (int i = 0; rc == 0 && i < o->threads; i++) {
        if (pthread_create(&tid[i], NULL, work, &ws[i])) {
            fprintf(stderr, "stencil: pthread_create failed\n");
            /* The barrier needs every thread; without them the run cannot go on. */
            exit(1);
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; i < o->threads; i++)
        worker_free(&ws[i]);
    pthread_barrier_destroy(&sh->barrier);
    if (rc) fprintf(stderr, "stencil: out of memory\n");
    return rc;
}

int main(int argc, char **argv) {
    options o;
    if (parse_options(argc, argv, &o)) return 2;

    /* The seed's defaults, except: start a fresh file each run, and let
     * rings fill to 20000 events before the flusher writes a chunk (fewer,
     * larger chunks compress better; commit() still forces everything). */
    dasf_file_db_options db = dasf_file_db_options_default();
    db.remove_old_output_file = true;
    db.commit_threshold = 20000;

    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.opt = &o;
    int rc = dasf_profiler_create(&sh.p, o.file, &db, NULL);
    if (rc) {
        fprintf(stderr, "stencil: cannot trace into %s: %s\n", o.file, dasf_strerror(rc));
        return 1;
    }
    worker ws[MAX_THREADS];
    rc = dasf_record_process_name(sh.p, "stencil");
    unsigned long events = rc == 0, failed = rc != 0;
    int first_error = rc;

    double t0 = dasf_now();
    int run_rc = run(&sh, ws);
    double elapsed = dasf_now() - t0;
    for (int i = 0; i < o.threads && run_rc == 0; i++) {
        events += ws[i].events;
        failed += ws[i].failed;
        if (!first_error) first_error = ws[i].first_error;
    }

    int crc = dasf_profiler_commit(sh.p);
    int drc = dasf_profiler_destroy(sh.p);
    printf("stencil: %d threads, %dx%d grid, %ld iterations in %.2f s, residual %.3e\n", o.threads,
           o.size, o.size, o.iterations, elapsed, sh.residual);
    printf("stencil: recorded %lu events into %s\n", events, o.file);
    if (failed)
        fprintf(stderr, "stencil: %lu record calls failed (first: %s)\n", failed,
                dasf_strerror(first_error));
    if (crc) fprintf(stderr, "stencil: commit failed: %s\n", dasf_strerror(crc));
    if (drc && drc != crc) fprintf(stderr, "stencil: close failed: %s\n", dasf_strerror(drc));
    return run_rc || failed || crc || drc ? 1 : 0;
}
