/*
 * mpi_overhead.c — what a libdasf-profiler-mpi wrapper adds to an MPI
 * call (bench/mpi_overhead.py runs it).  An ordinary MPI program, built
 * without the library: the script runs it under `mpirun -np 2` plain and
 * with the wrappers preloaded (LD_PRELOAD, as `dasf-trace record --mpi`
 * does), alternating, so both are measured in the same run.
 *
 *   mpirun -np 2 dasf-bench-mpi-overhead [ITERATIONS]
 *
 * With -np 1 the calls do not wait for anybody (messages to itself, one-rank
 * collectives): the traced - plain difference is then the wrapper alone,
 * without the scheduling noise of two ranks polling on shared cores.
 *
 * Rank 0 prints one JSON line per call kind: ns per call on rank 0, the
 * median of 9 timed blocks of ITERATIONS calls (default 2000), after a
 * warm-up block.  Each block starts 50 ms after the one before (both
 * modes), so a traced rank's flusher has drained its ring: a block's events
 * fit in the default ring, and the figure is the wrapper's cost per call.
 * (A loop of cheap calls sustained for longer records faster than the
 * flusher writes; the calls then wait for ring space, BLOCK policy, and
 * their cost is the flusher's throughput, not the wrapper's.)
 *   sendrecv   a ping-pong of 8-byte messages, per MPI_Send or MPI_Recv
 *              (each round trip is one Send and one Recv on each rank)
 *   allreduce  MPI_Allreduce of one double
 *   barrier    MPI_Barrier
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCKS 9

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void pingpong(int rank, int size, long n) {
    double msg = 1.0;
    for (long i = 0; i < n; i++) {
        if (rank == 0) { /* alone: to itself (8 bytes go eagerly, Send returns) */
            MPI_Send(&msg, 1, MPI_DOUBLE, size > 1, 1, MPI_COMM_WORLD);
            MPI_Recv(&msg, 1, MPI_DOUBLE, size > 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(&msg, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(&msg, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
        }
    }
}

static void allreduce(long n) {
    double in = 1.0, out;
    for (long i = 0; i < n; i++) MPI_Allreduce(&in, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static void barrier(long n) {
    for (long i = 0; i < n; i++) MPI_Barrier(MPI_COMM_WORLD);
}

/* Median ns per call over BLOCKS blocks of n iterations (calls_per_iter each). */
static double measure(int rank, int size, int kind, long n, double calls_per_iter) {
    double t[BLOCKS];
    for (int b = -1; b < BLOCKS; b++) { /* b = -1: warm-up */
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
        PMPI_Barrier(MPI_COMM_WORLD); /* not traced: the blocks start together */
        double t0 = now_ns();
        if (kind == 0) pingpong(rank, size, n);
        else if (kind == 1) allreduce(n);
        else barrier(n);
        double dt = now_ns() - t0;
        if (b >= 0) t[b] = dt / ((double)n * calls_per_iter);
    }
    qsort(t, BLOCKS, sizeof t[0], cmp_double);
    return t[BLOCKS / 2];
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = argc > 1 ? atol(argv[1]) : 2000;
    if (n < 1) {
        if (rank == 0) fprintf(stderr, "usage: mpirun -np 2 %s [ITERATIONS >= 1]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    static const char *const names[] = {"sendrecv", "allreduce", "barrier"};
    static const double per_iter[] = {2, 1, 1};
    for (int k = 0; k < 3; k++) {
        double ns = measure(rank, size, k, k == 0 ? n : n / 2, per_iter[k]);
        if (rank == 0)
            printf("{\"bench\":\"mpi_overhead\",\"call\":\"%s\",\"ns_per_call\":%.1f,\"ranks\":%d,"
                   "\"iterations\":%ld}\n",
                   names[k], ns, size, k == 0 ? n : n / 2);
    }
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
