/*
 * mpi_ring.c — the MPI test program (tests/mpi/check_mpi.py runs it under
 * mpirun, linked with libdasf-profiler-mpi): a ring exchange in three
 * forms (Send/Recv, Isend/Irecv/Waitall, Sendrecv), then collectives.
 *
 *   mpi_ring ITERATIONS [kill-rank KILL_AFTER_SECONDS]
 *
 * With kill-rank, that rank sleeps KILL_AFTER_SECONDS after the loop (the
 * profiler's 1 s interval commits meanwhile) and then SIGKILLs itself.
 * Every rank prints "rank R sent S received V" at the end.
 */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int iters = argc > 1 ? atoi(argv[1]) : 10;
    int kill_rank = argc > 3 ? atoi(argv[2]) : -1;
    double kill_after = argc > 3 ? atof(argv[3]) : 0;
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    long sent = 0, received = 0;
    double buf[64] = {0}, in[64];
    for (int it = 0; it < iters; it++) {
        buf[0] = rank * 1000 + it;
        if (rank % 2 == 0) {
            MPI_Send(buf, 64, MPI_DOUBLE, right, 1, MPI_COMM_WORLD);
            MPI_Recv(in, 64, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(in, 64, MPI_DOUBLE, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, 64, MPI_DOUBLE, right, 1, MPI_COMM_WORLD);
        }
        MPI_Request rq[2];
        MPI_Irecv(in, 32, MPI_DOUBLE, left, 2, MPI_COMM_WORLD, &rq[0]);
        MPI_Isend(buf, 32, MPI_DOUBLE, right, 2, MPI_COMM_WORLD, &rq[1]);
        MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
        MPI_Sendrecv(buf, 8, MPI_DOUBLE, right, 3, in, 8, MPI_DOUBLE, left, 3, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        sent += 3;
        received += 3;
        double s = rank, total = 0;
        MPI_Allreduce(&s, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (total != size * (size - 1) / 2.0) {
            fprintf(stderr, "rank %d: allreduce gave %g\n", rank, total);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
    }
    int v = rank == 0 ? 42 : 0;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int *all = malloc(sizeof(int) * (size_t)size);
    MPI_Gather(&rank, 1, MPI_INT, all, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int sum = 0;
    MPI_Reduce(&rank, &sum, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    free(all);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("rank %d sent %ld received %ld\n", rank, sent, received);
    fflush(stdout);
    if (rank == kill_rank) {
        usleep((useconds_t)(kill_after * 1e6));
        raise(SIGKILL);
    }
    if (kill_rank >= 0) { /* the others wait in a barrier the dead rank never reaches */
        MPI_Barrier(MPI_COMM_WORLD);
    }
    MPI_Finalize();
    return v == 42 ? 0 : 1;
}
