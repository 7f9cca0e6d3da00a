/*
 * bench_ours.h — the sub-commands of dasf-bench (our profiler's side) and
 * the small helpers they share.
 */
#ifndef DASF_BENCH_OURS_H
#define DASF_BENCH_OURS_H

#include "bench_util.h"

#include "dasf/profiler.h"

int bench_cmd_record(int argc, char **argv);
int bench_cmd_clock(int argc, char **argv);
int bench_cmd_clock_accuracy(int argc, char **argv);
int bench_cmd_e2e(int argc, char **argv);
int bench_cmd_size(int argc, char **argv);

/* dasf_profiler_create on path with opts; dies with dasf_strerror on failure. */
dasf_profiler *bench_profiler(const char *path, const dasf_file_db_options *opts);
/* Reads path back with dasf_trace_next: events counted, seconds taken;
 * dies when the file cannot be read or is damaged. */
uint64_t bench_read_back(const char *path, double *seconds);
/* File size in bytes (dies when it cannot be stat'ed). */
uint64_t bench_file_size(const char *path);

#endif
