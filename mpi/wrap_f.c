/*
 * wrap_f.c — Fortran entry points (mpif.h and `use mpi`).
 *
 * Open MPI's Fortran bindings do not go through the C MPI_* symbols: their
 * mpi_send_ (and its aliases mpi_send, mpi_send__, MPI_SEND) call PMPI_Send
 * directly (checked with `nm -D libmpi_mpifh.so`: it imports PMPI_Send and
 * exports the Fortran names as weak aliases of ompi_send_f), so the C
 * wrappers never see a Fortran call.  Here each Fortran name is defined
 * again, times the call around Open MPI's own Fortran profiling entry
 * (pmpi_send_), which keeps every Fortran convention (MPI_IN_PLACE,
 * MPI_BOTTOM, MPI_STATUS_IGNORE, integer handles) in Open MPI's hands, and
 * records it through mpi_trace.c like the C wrappers do.
 * `use mpi_f08` enters through other symbols (mpi_send_f08_) that take
 * Fortran descriptors and is not wrapped (docs/MPI.md).
 *
 * Thread: the caller's.  Invariant: arguments pass through untouched and
 * ierror is Open MPI's.
 */
#include "mpi_trace.h"

#include <stdlib.h>

#if !defined(OPEN_MPI)
#error "the Fortran wrappers know Open MPI's Fortran symbols only"
#endif

typedef MPI_Fint F;

/* Open MPI's MPI_STATUS_IGNORE / MPI_STATUSES_IGNORE in Fortran: the
 * addresses of these (libmpi.so). */
extern F mpi_fortran_status_ignore_[];
extern F mpi_fortran_statuses_ignore_[];

/* Each Fortran name under the four spellings compilers use. */
#define ALIASES(lower, upper, fn)                                                            \
    extern __typeof__(fn) lower __attribute__((alias(#fn)));                                 \
    extern __typeof__(fn) lower##_ __attribute__((alias(#fn)));                              \
    extern __typeof__(fn) lower##__ __attribute__((alias(#fn)));                             \
    extern __typeof__(fn) upper __attribute__((alias(#fn)))

void pmpi_init_(F *ierr);
void pmpi_init_thread_(F *required, F *provided, F *ierr);
void pmpi_finalize_(F *ierr);
void pmpi_send_(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *ierr);
void pmpi_ssend_(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *ierr);
void pmpi_recv_(void *buf, F *count, F *dt, F *src, F *tag, F *comm, F *status, F *ierr);
void pmpi_isend_(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *req, F *ierr);
void pmpi_irecv_(void *buf, F *count, F *dt, F *src, F *tag, F *comm, F *req, F *ierr);
void pmpi_sendrecv_(void *sbuf, F *sc, F *st, F *dest, F *stag, void *rbuf, F *rc, F *rt,
                    F *src, F *rtag, F *comm, F *status, F *ierr);
void pmpi_wait_(F *req, F *status, F *ierr);
void pmpi_waitall_(F *n, F *reqs, F *statuses, F *ierr);
void pmpi_barrier_(F *comm, F *ierr);
void pmpi_bcast_(void *buf, F *count, F *dt, F *root, F *comm, F *ierr);
void pmpi_reduce_(void *s, void *r, F *count, F *dt, F *op, F *root, F *comm, F *ierr);
void pmpi_allreduce_(void *s, void *r, F *count, F *dt, F *op, F *comm, F *ierr);
void pmpi_gather_(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *root, F *comm, F *ierr);
void pmpi_scatter_(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *root, F *comm, F *ierr);
void pmpi_allgather_(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *comm, F *ierr);
void pmpi_alltoall_(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *comm, F *ierr);

static int64_t fbytes(const F *count, const F *dt) {
    return dm_bytes(*count, MPI_Type_f2c(*dt));
}

/* The C status of a Fortran status (NULL when the program ignored it). */
static MPI_Status *fstatus(const F *f, MPI_Status *c) {
    if (f == mpi_fortran_status_ignore_ || PMPI_Status_f2c(f, c) != MPI_SUCCESS) return NULL;
    return c;
}

static void dm_f_init(F *ierr) {
    double t0 = dasf_now();
    pmpi_init_(ierr);
    if (*ierr == MPI_SUCCESS) dm_after_init(t0, "MPI_Init");
}
ALIASES(mpi_init, MPI_INIT, dm_f_init);

static void dm_f_init_thread(F *required, F *provided, F *ierr) {
    double t0 = dasf_now();
    pmpi_init_thread_(required, provided, ierr);
    if (*ierr == MPI_SUCCESS) dm_after_init(t0, "MPI_Init_thread");
}
ALIASES(mpi_init_thread, MPI_INIT_THREAD, dm_f_init_thread);

static void dm_f_finalize(F *ierr) {
    dm_before_finalize();
    double t0 = NOW();
    pmpi_finalize_(ierr);
    dm_after_finalize(t0);
    dm_prof = NULL;
}
ALIASES(mpi_finalize, MPI_FINALIZE, dm_f_finalize);

static void dm_f_send(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *ierr) {
    double t0 = NOW();
    MPI_Comm c = MPI_Comm_f2c(*comm);
    dm_flow_send(c, *dest, *tag, t0);
    pmpi_send_(buf, count, dt, dest, tag, comm, ierr);
    dm_p2p_span("MPI_Send", t0, *dest, *tag, fbytes(count, dt), c);
}
ALIASES(mpi_send, MPI_SEND, dm_f_send);

static void dm_f_ssend(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *ierr) {
    double t0 = NOW();
    MPI_Comm c = MPI_Comm_f2c(*comm);
    dm_flow_send(c, *dest, *tag, t0);
    pmpi_ssend_(buf, count, dt, dest, tag, comm, ierr);
    dm_p2p_span("MPI_Ssend", t0, *dest, *tag, fbytes(count, dt), c);
}
ALIASES(mpi_ssend, MPI_SSEND, dm_f_ssend);

static void dm_f_recv(void *buf, F *count, F *dt, F *src, F *tag, F *comm, F *status, F *ierr) {
    double t0 = NOW();
    pmpi_recv_(buf, count, dt, src, tag, comm, status, ierr);
    if (!dm_prof || *ierr != MPI_SUCCESS) return;
    MPI_Comm c = MPI_Comm_f2c(*comm);
    MPI_Status cs, *st = fstatus(status, &cs);
    /* An ignored status leaves only the arguments: no flow for wildcards. */
    int from = st ? st->MPI_SOURCE : *src, with = st ? st->MPI_TAG : *tag;
    if (with != MPI_ANY_TAG) dm_flow_recv(c, from, with, dasf_now());
    dm_p2p_span("MPI_Recv", t0, from, with, fbytes(count, dt), c);
}
ALIASES(mpi_recv, MPI_RECV, dm_f_recv);

static void dm_f_isend(void *buf, F *count, F *dt, F *dest, F *tag, F *comm, F *req, F *ierr) {
    double t0 = NOW();
    MPI_Comm c = MPI_Comm_f2c(*comm);
    dm_flow_send(c, *dest, *tag, t0);
    pmpi_isend_(buf, count, dt, dest, tag, comm, req, ierr);
    dm_p2p_span("MPI_Isend", t0, *dest, *tag, fbytes(count, dt), c);
}
ALIASES(mpi_isend, MPI_ISEND, dm_f_isend);

static void dm_f_irecv(void *buf, F *count, F *dt, F *src, F *tag, F *comm, F *req, F *ierr) {
    double t0 = NOW();
    pmpi_irecv_(buf, count, dt, src, tag, comm, req, ierr);
    MPI_Comm c = MPI_Comm_f2c(*comm);
    if (*ierr == MPI_SUCCESS) dm_req_post(MPI_Request_f2c(*req), DM_REQ_RECV, c, *src, *tag);
    dm_p2p_span("MPI_Irecv", t0, *src, *tag, fbytes(count, dt), c);
}
ALIASES(mpi_irecv, MPI_IRECV, dm_f_irecv);

static void dm_f_sendrecv(void *sbuf, F *sc, F *st_, F *dest, F *stag, void *rbuf, F *rc, F *rt,
                          F *src, F *rtag, F *comm, F *status, F *ierr) {
    double t0 = NOW();
    MPI_Comm c = MPI_Comm_f2c(*comm);
    dm_flow_send(c, *dest, *stag, t0);
    pmpi_sendrecv_(sbuf, sc, st_, dest, stag, rbuf, rc, rt, src, rtag, comm, status, ierr);
    if (!dm_prof || *ierr != MPI_SUCCESS) return;
    MPI_Status cs, *st = fstatus(status, &cs);
    int from = st ? st->MPI_SOURCE : *src, with = st ? st->MPI_TAG : *rtag;
    if (with != MPI_ANY_TAG) dm_flow_recv(c, from, with, dasf_now());
    dm_p2p_span("MPI_Sendrecv", t0, *dest, *stag, fbytes(sc, st_), c);
}
ALIASES(mpi_sendrecv, MPI_SENDRECV, dm_f_sendrecv);

static void dm_f_wait(F *req, F *status, F *ierr) {
    double t0 = NOW();
    MPI_Request before = MPI_Request_f2c(*req);
    pmpi_wait_(req, status, ierr);
    if (!dm_prof || *ierr != MPI_SUCCESS) return;
    MPI_Request after = MPI_Request_f2c(*req);
    MPI_Status cs, *st = fstatus(status, &cs);
    dm_req_done(&before, &after, st, 1, dasf_now());
    dm_plain_span("MPI_Wait", t0, 1);
}
ALIASES(mpi_wait, MPI_WAIT, dm_f_wait);

static void dm_f_waitall(F *n, F *reqs, F *statuses, F *ierr) {
    if (!dm_prof || *n <= 0) {
        pmpi_waitall_(n, reqs, statuses, ierr);
        return;
    }
    double t0 = dasf_now();
    int k = *n;
    MPI_Request *before = malloc((size_t)k * sizeof *before);
    if (before)
        for (int i = 0; i < k; i++) before[i] = MPI_Request_f2c(reqs[i]);
    pmpi_waitall_(n, reqs, statuses, ierr);
    if (before && *ierr == MPI_SUCCESS) {
        bool ignored = statuses == mpi_fortran_statuses_ignore_;
        for (int i = 0; i < k; i++) {
            MPI_Request after = MPI_Request_f2c(reqs[i]);
            MPI_Status cs, *st = NULL;
            if (!ignored && PMPI_Status_f2c(statuses + (size_t)i * (sizeof(MPI_Status) / sizeof(F)), &cs) ==
                                MPI_SUCCESS)
                st = &cs;
            dm_req_done(&before[i], &after, st, 1, dasf_now());
        }
    }
    free(before);
    dm_plain_span("MPI_Waitall", t0, k);
}
ALIASES(mpi_waitall, MPI_WAITALL, dm_f_waitall);

static void dm_f_barrier(F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_barrier_(comm, ierr);
    dm_coll_span("MPI_Barrier", t0, -1, 0, MPI_Comm_f2c(*comm));
}
ALIASES(mpi_barrier, MPI_BARRIER, dm_f_barrier);

static void dm_f_bcast(void *buf, F *count, F *dt, F *root, F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_bcast_(buf, count, dt, root, comm, ierr);
    dm_coll_span("MPI_Bcast", t0, *root, fbytes(count, dt), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_bcast, MPI_BCAST, dm_f_bcast);

static void dm_f_reduce(void *s, void *r, F *count, F *dt, F *op, F *root, F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_reduce_(s, r, count, dt, op, root, comm, ierr);
    dm_coll_span("MPI_Reduce", t0, *root, fbytes(count, dt), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_reduce, MPI_REDUCE, dm_f_reduce);

static void dm_f_allreduce(void *s, void *r, F *count, F *dt, F *op, F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_allreduce_(s, r, count, dt, op, comm, ierr);
    dm_coll_span("MPI_Allreduce", t0, -1, fbytes(count, dt), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_allreduce, MPI_ALLREDUCE, dm_f_allreduce);

static void dm_f_gather(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *root, F *comm,
                        F *ierr) {
    double t0 = NOW();
    pmpi_gather_(s, sc, st, r, rc, rt, root, comm, ierr);
    dm_coll_span("MPI_Gather", t0, *root, fbytes(sc, st), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_gather, MPI_GATHER, dm_f_gather);

static void dm_f_scatter(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *root, F *comm,
                         F *ierr) {
    double t0 = NOW();
    pmpi_scatter_(s, sc, st, r, rc, rt, root, comm, ierr);
    dm_coll_span("MPI_Scatter", t0, *root, fbytes(rc, rt), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_scatter, MPI_SCATTER, dm_f_scatter);

static void dm_f_allgather(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_allgather_(s, sc, st, r, rc, rt, comm, ierr);
    dm_coll_span("MPI_Allgather", t0, -1, fbytes(sc, st), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_allgather, MPI_ALLGATHER, dm_f_allgather);

static void dm_f_alltoall(void *s, F *sc, F *st, void *r, F *rc, F *rt, F *comm, F *ierr) {
    double t0 = NOW();
    pmpi_alltoall_(s, sc, st, r, rc, rt, comm, ierr);
    dm_coll_span("MPI_Alltoall", t0, -1, fbytes(sc, st), MPI_Comm_f2c(*comm));
}
ALIASES(mpi_alltoall, MPI_ALLTOALL, dm_f_alltoall);
