/*
 * wrap_coll.c — the C PMPI wrappers of the collectives (blocking and
 * non-blocking): each call is timed around its PMPI_ twin and recorded as a
 * complete event named after it (args: root, bytes, communicator size).
 * Point to point, completion and lifetime are in wrap_c.c.
 *
 * Thread: the caller's.  Invariant: every wrapper returns exactly what its
 * PMPI_ call returned and passes its arguments through untouched; the byte
 * counts that ask the communicator (its size or this rank) do so only while
 * tracing (dm_prof set).
 */
#include "mpi_trace.h"

/* Sum of counts[i] * size(t) over a communicator's members. */
static int64_t v_bytes(const int *counts, MPI_Datatype t, MPI_Comm c) {
    int n = 0;
    int64_t sum = 0;
    if (!counts || PMPI_Comm_size(c, &n) != MPI_SUCCESS) return 0;
    for (int i = 0; i < n; i++) sum += dm_bytes(counts[i], t);
    return sum;
}

static int comm_n(MPI_Comm c) {
    int n = 0;
    PMPI_Comm_size(c, &n);
    return n;
}

/* ---- collectives -----------------------------------------------------------
 * bytes: what this rank contributes (its send buffer); for the rooted
 * ones the root's view where only the root sends. */

int MPI_Barrier(MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Barrier(comm);
    dm_coll_span("MPI_Barrier", t0, -1, 0, comm);
    return rc;
}

int MPI_Ibarrier(MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ibarrier(comm, req);
    dm_coll_span("MPI_Ibarrier", t0, -1, 0, comm);
    return rc;
}

int MPI_Bcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Bcast(buf, count, t, root, comm);
    dm_coll_span("MPI_Bcast", t0, root, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Ibcast(void *buf, int count, MPI_Datatype t, int root, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ibcast(buf, count, t, root, comm, req);
    dm_coll_span("MPI_Ibcast", t0, root, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Reduce(const void *s, void *r, int count, MPI_Datatype t, MPI_Op op, int root,
               MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Reduce(s, r, count, t, op, root, comm);
    dm_coll_span("MPI_Reduce", t0, root, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Ireduce(const void *s, void *r, int count, MPI_Datatype t, MPI_Op op, int root,
                MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ireduce(s, r, count, t, op, root, comm, req);
    dm_coll_span("MPI_Ireduce", t0, root, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Allreduce(const void *s, void *r, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Allreduce(s, r, count, t, op, comm);
    dm_coll_span("MPI_Allreduce", t0, -1, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Iallreduce(const void *s, void *r, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm,
                   MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Iallreduce(s, r, count, t, op, comm, req);
    dm_coll_span("MPI_Iallreduce", t0, -1, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Gather(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
               int root, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Gather(s, sc, stype, r, rc_, rtype, root, comm);
    dm_coll_span("MPI_Gather", t0, root, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Igather(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
                int root, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Igather(s, sc, stype, r, rc_, rtype, root, comm, req);
    dm_coll_span("MPI_Igather", t0, root, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Gatherv(const void *s, int sc, MPI_Datatype stype, void *r, const int rcs[],
                const int displs[], MPI_Datatype rtype, int root, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Gatherv(s, sc, stype, r, rcs, displs, rtype, root, comm);
    dm_coll_span("MPI_Gatherv", t0, root, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Igatherv(const void *s, int sc, MPI_Datatype stype, void *r, const int rcs[],
                 const int displs[], MPI_Datatype rtype, int root, MPI_Comm comm,
                 MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Igatherv(s, sc, stype, r, rcs, displs, rtype, root, comm, req);
    dm_coll_span("MPI_Igatherv", t0, root, dm_bytes(sc, stype), comm);
    return rc;
}

/* A scatter's bytes: what the root sends, counted at the root. */
static int64_t root_bytes(int root, MPI_Comm comm, int64_t at_root) {
    int me = -1;
    PMPI_Comm_rank(comm, &me);
    return me == root ? at_root : 0;
}

int MPI_Scatter(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
                int root, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Scatter(s, sc, stype, r, rc_, rtype, root, comm);
    if (dm_prof)
        dm_coll_span("MPI_Scatter", t0, root,
                     root_bytes(root, comm, dm_bytes(sc, stype) * comm_n(comm)), comm);
    return rc;
}

int MPI_Iscatter(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
                 int root, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Iscatter(s, sc, stype, r, rc_, rtype, root, comm, req);
    if (dm_prof)
        dm_coll_span("MPI_Iscatter", t0, root,
                     root_bytes(root, comm, dm_bytes(sc, stype) * comm_n(comm)), comm);
    return rc;
}

int MPI_Scatterv(const void *s, const int scs[], const int displs[], MPI_Datatype stype, void *r,
                 int rc_, MPI_Datatype rtype, int root, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Scatterv(s, scs, displs, stype, r, rc_, rtype, root, comm);
    if (dm_prof)
        dm_coll_span("MPI_Scatterv", t0, root,
                     root_bytes(root, comm, 1) ? v_bytes(scs, stype, comm) : 0,
                     comm);
    return rc;
}

int MPI_Iscatterv(const void *s, const int scs[], const int displs[], MPI_Datatype stype, void *r,
                  int rc_, MPI_Datatype rtype, int root, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Iscatterv(s, scs, displs, stype, r, rc_, rtype, root, comm, req);
    if (dm_prof)
        dm_coll_span("MPI_Iscatterv", t0, root,
                     root_bytes(root, comm, 1) ? v_bytes(scs, stype, comm) : 0,
                     comm);
    return rc;
}

int MPI_Allgather(const void *s, int sc, MPI_Datatype stype, void *r, int rc_,
                  MPI_Datatype rtype, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Allgather(s, sc, stype, r, rc_, rtype, comm);
    dm_coll_span("MPI_Allgather", t0, -1, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Iallgather(const void *s, int sc, MPI_Datatype stype, void *r, int rc_,
                   MPI_Datatype rtype, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Iallgather(s, sc, stype, r, rc_, rtype, comm, req);
    dm_coll_span("MPI_Iallgather", t0, -1, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Allgatherv(const void *s, int sc, MPI_Datatype stype, void *r, const int rcs[],
                   const int displs[], MPI_Datatype rtype, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Allgatherv(s, sc, stype, r, rcs, displs, rtype, comm);
    dm_coll_span("MPI_Allgatherv", t0, -1, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Iallgatherv(const void *s, int sc, MPI_Datatype stype, void *r, const int rcs[],
                    const int displs[], MPI_Datatype rtype, MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Iallgatherv(s, sc, stype, r, rcs, displs, rtype, comm, req);
    dm_coll_span("MPI_Iallgatherv", t0, -1, dm_bytes(sc, stype), comm);
    return rc;
}

int MPI_Alltoall(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
                 MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Alltoall(s, sc, stype, r, rc_, rtype, comm);
    if (dm_prof) dm_coll_span("MPI_Alltoall", t0, -1, dm_bytes(sc, stype) * comm_n(comm), comm);
    return rc;
}

int MPI_Ialltoall(const void *s, int sc, MPI_Datatype stype, void *r, int rc_, MPI_Datatype rtype,
                  MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ialltoall(s, sc, stype, r, rc_, rtype, comm, req);
    if (dm_prof) dm_coll_span("MPI_Ialltoall", t0, -1, dm_bytes(sc, stype) * comm_n(comm), comm);
    return rc;
}

int MPI_Alltoallv(const void *s, const int scs[], const int sd[], MPI_Datatype stype, void *r,
                  const int rcs[], const int rd[], MPI_Datatype rtype, MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Alltoallv(s, scs, sd, stype, r, rcs, rd, rtype, comm);
    if (dm_prof) dm_coll_span("MPI_Alltoallv", t0, -1, v_bytes(scs, stype, comm), comm);
    return rc;
}

int MPI_Ialltoallv(const void *s, const int scs[], const int sd[], MPI_Datatype stype, void *r,
                   const int rcs[], const int rd[], MPI_Datatype rtype, MPI_Comm comm,
                   MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ialltoallv(s, scs, sd, stype, r, rcs, rd, rtype, comm, req);
    if (dm_prof) dm_coll_span("MPI_Ialltoallv", t0, -1, v_bytes(scs, stype, comm), comm);
    return rc;
}

int MPI_Reduce_scatter(const void *s, void *r, const int rcs[], MPI_Datatype t, MPI_Op op,
                       MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Reduce_scatter(s, r, rcs, t, op, comm);
    if (dm_prof) dm_coll_span("MPI_Reduce_scatter", t0, -1, v_bytes(rcs, t, comm), comm);
    return rc;
}

int MPI_Ireduce_scatter(const void *s, void *r, const int rcs[], MPI_Datatype t, MPI_Op op,
                        MPI_Comm comm, MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Ireduce_scatter(s, r, rcs, t, op, comm, req);
    if (dm_prof) dm_coll_span("MPI_Ireduce_scatter", t0, -1, v_bytes(rcs, t, comm), comm);
    return rc;
}

int MPI_Reduce_scatter_block(const void *s, void *r, int rcount, MPI_Datatype t, MPI_Op op,
                             MPI_Comm comm) {
    double t0 = NOW();
    int rc = PMPI_Reduce_scatter_block(s, r, rcount, t, op, comm);
    if (dm_prof)
        dm_coll_span("MPI_Reduce_scatter_block", t0, -1, dm_bytes(rcount, t) * comm_n(comm), comm);
    return rc;
}
