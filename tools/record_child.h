/*
 * record_child.h — the child side of `dasf-trace record` (record_child.c):
 * finding the preload library (and, with --mpi, the MPI wrappers and this
 * process's rank), then, in the forked child, claiming the trace file,
 * setting the environment the preload reads, and exec'ing CMD.  What went
 * wrong is reported to the parent over a close-on-exec pipe.
 */
#ifndef DASF_TRACE_RECORD_CHILD_H
#define DASF_TRACE_RECORD_CHILD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The command line of `record` (cmd_record.c parses it). */
typedef struct rec_opts {
    const char *pattern;
    bool split, append, quiet, no_functions, no_crash;
    const char *signals;
    const char *sig_timeout;
    long long max_depth;
    long long min_ns;
    const char *overflow;
    long long ring;
    bool mpi;
    int64_t rank;           /* --mpi: this process's rank, from the launcher */
    char mpi_lib[PATH_MAX]; /* --mpi: libdasf-profiler-mpi.so */
} rec_opts;

/* The preload library: DASF_PRELOAD, else beside this dasf-trace (installed
 * or build tree).  false after saying why not. */
bool dt_record_find_preload(char out[PATH_MAX]);
/* The MPI wrapper library: DASF_MPI_PRELOAD, or beside the preload.  false
 * after saying why not. */
bool dt_record_find_mpi_lib(const char *preload, char out[PATH_MAX]);
/* The rank the MPI launcher gave this process (Open MPI, PMIx, MPICH/Hydra,
 * Slurm), or -1. */
int64_t dt_record_launcher_rank(void);
/* In the forked child: claims the trace file (reported as "P<path>" on
 * fd), sets the environment and execs cmd; never returns.  On failure
 * reports "E<why>" (no file: exit 2) or "X<why>" (CMD could not run: exit
 * 127 or 126). */
_Noreturn void dt_record_child(int fd, const rec_opts *o, const char *preload, const char *manifest,
                               time_t start, char **cmd);

#endif
