/*
 * bench_util.h — what every benchmark program of bench/ shares.
 *
 * The timing method (one place, so every implementation is timed alike):
 * a recording thread runs the implementation's loop in batches of
 * BENCH_BATCH events; each batch is timed with the TSC (lfence; rdtsc)
 * and the batch's ticks are turned into ns/event with a TSC frequency
 * calibrated against CLOCK_MONOTONIC_RAW at program start.  Median and p99
 * are over all batches of all threads of one run.  Work done between
 * rounds (commit, letting a consumer drain) is never timed.
 *
 * Results are printed as JSON lines on stdout (one object per run) for
 * bench/run.py (bench/aggregate.py, bench/report.py); human-readable
 * chatter goes to stderr.
 */
#ifndef DASF_BENCH_UTIL_H
#define DASF_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_BATCH 1024u

/* ---- clocks --------------------------------------------------------------- */
uint64_t bench_tsc(void);  /* serialised TSC read (lfence; rdtsc) */
double bench_tsc_hz(void); /* calibrated once, then cached */
double bench_mono_s(void); /* CLOCK_MONOTONIC seconds */
double bench_ticks_to_ns(uint64_t ticks);
int bench_gettid(void); /* kernel tid, cached per thread */

/* ---- statistics --------------------------------------------------------- */
/* Sorts v in place; q in [0,1]; nearest-rank quantile. */
double bench_quantile(double *v, size_t n, double q);

/* ---- the latency harness ------------------------------------------------- */
/* One implementation under test.  run_batch records n events from the
 * calling thread (thread index t, events numbered from `first`) and
 * returns how many of them failed.  between_rounds runs on thread 0 while
 * the other threads wait at a barrier (untimed); it may be NULL. */
typedef struct bench_impl {
    void *ctx;
    uint64_t (*run_batch)(void *ctx, int t, uint64_t first, unsigned n);
    int (*between_rounds)(void *ctx);
} bench_impl;

typedef struct bench_lat_cfg {
    int threads;
    unsigned rounds; /* timed rounds per thread */
    unsigned batches_per_round;
} bench_lat_cfg;

typedef struct bench_lat_result {
    uint64_t events; /* timed events, all threads */
    uint64_t errors; /* failed records */
    size_t batches;
    double median_ns, p99_ns, mean_ns, min_ns, max_ns; /* per event, over batches */
    double wall_s; /* first batch start to last batch end, rounds included */
} bench_lat_result;

/* --threads (1), --rounds (16), --batches (128 per round) from the command line. */
bench_lat_cfg bench_lat_cfg_parse(int argc, char **argv);

/* Runs one warm-up batch per thread, then cfg->rounds rounds.  @return 0 or -1. */
int bench_lat_run(const bench_impl *impl, const bench_lat_cfg *cfg, bench_lat_result *out);

/* ---- JSON lines ---------------------------------------------------------- */
/* A result object is built field by field and printed on one line. */
typedef struct bench_json {
    char buf[4096];
    size_t len;
    int fields;
} bench_json;

void bench_json_begin(bench_json *j, const char *bench);
void bench_json_str(bench_json *j, const char *key, const char *v);
void bench_json_num(bench_json *j, const char *key, double v);
void bench_json_int(bench_json *j, const char *key, long long v);
void bench_json_lat(bench_json *j, const bench_lat_result *r);
/* Begins a "record" result: impl, path, threads and the latency fields. */
void bench_json_record(bench_json *j, const char *impl, const char *path, int threads,
                       const bench_lat_result *r);
void bench_json_end(bench_json *j, FILE *out);

/* ---- command line -------------------------------------------------------- */
/* --key value options: returns the value of --key or dflt. */
const char *bench_opt(int argc, char **argv, const char *key, const char *dflt);
long long bench_opt_ll(int argc, char **argv, const char *key, long long dflt);

/* One sub-command of a bench program: `prog NAME [--options]`.  Each
 * bench_*.c file defines its own rows (name, options, entry point); the
 * program's main() lists them and calls bench_dispatch. */
typedef struct bench_cmd {
    const char *name;
    const char *usage; /* the options, for the usage message */
    int (*run)(int argc, char **argv);
} bench_cmd;

/* Runs the row named argv[1]; with no or an unknown name, dies with the
 * usage of every row. */
int bench_dispatch(const char *prog, const bench_cmd *const *cmds, size_t n, int argc, char **argv);

/* ---- files -------------------------------------------------------------- */
/* File size in bytes (dies when it cannot be stat'ed). */
uint64_t bench_file_size(const char *path);

/* Dies with a message on stderr (bench programs have no way to go on). */
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
