/*
 * align.h — MPI clock alignment at read time (docs/MPI.md).
 *
 * libdasf-profiler-mpi records "dasf.clock_sync" metadata events: each
 * rank's offset to rank 0's clock, measured by ping-pong at MPI_Init and
 * MPI_Finalize (and optionally periodically).  Every reading verb maps the
 * events of such a process onto rank 0's timeline: offset interpolated
 * linearly between that process's samples, held constant before the first
 * and after the last.  A process is one (process id, writer host) pair.
 * `--no-align` reads the times as recorded.
 */
#ifndef DT_ALIGN_H
#define DT_ALIGN_H

#include <dasf/profiler.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dt_align dt_align;

/* One clock sample as the trace holds it. */
typedef struct dt_sync_point {
    int64_t at_ns;     /* the rank's own clock at the sample */
    int64_t offset_ns; /* rank 0's clock - this rank's clock */
    int64_t rtt_ns;    /* round trip of the kept ping-pong (uncertainty <= rtt/2) */
} dt_sync_point;

/* The samples of one process. */
typedef struct dt_sync_proc {
    int64_t pid;
    char host[64];
    int64_t rank, size;
    dt_sync_point *pts;
    size_t n, cap;
} dt_sync_proc;

/* Reads the samples of files[0..n) (a first pass over a file whose first
 * events hold a sample, see align.c; other files are read no further).  *out is NULL
 * when no file has any.  @return 0, or -1 out of memory (said on stderr). */
int dt_align_create(dt_align **out, char *const *files, int n);
/* The processes with samples (for info), sorted by rank. */
const dt_sync_proc *dt_align_procs(const dt_align *a, size_t *n);
/* ev on rank 0's clock, in *copy, or ev itself when its process has no
 * samples; t is the reader ev came from (its chunk names the host). */
const dasf_trace_event *dt_align_event(dt_align *a, const dasf_trace *t,
                                       const dasf_trace_event *ev, dasf_trace_event *copy);
/* The MPI rank of process pid (the first with that pid), or -1. */
int64_t dt_align_rank_of(const dt_align *a, int64_t pid);
void dt_align_free(dt_align *a);

/* 1 when ev is a clock sample, with its fields; else 0. */
int dt_sync_parse(const dasf_trace_event *ev, dt_sync_point *p, int64_t *rank, int64_t *size);

#endif
