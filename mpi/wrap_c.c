/*
 * wrap_c.c — the C PMPI wrappers: each call is timed around its PMPI_
 * twin and recorded as a complete event named after it (args: peer or
 * root, tag, bytes, communicator size), plus a flow from each send to its
 * matching receive (mpi_trace.c says how both sides agree on its id).
 *
 * Thread: the caller's.  Invariant: every wrapper returns exactly what its
 * PMPI_ call returned and passes its arguments through untouched, except
 * that an ignored status is replaced by a local one (the receive's source
 * and tag name its flow).
 *
 * The collectives are in wrap_coll.c.
 */
#include "mpi_trace.h"

#include <stdlib.h>

/* ---- lifetime ----------------------------------------------------------- */

int MPI_Init(int *argc, char ***argv) {
    double t0 = dasf_now();
    int rc = PMPI_Init(argc, argv);
    if (rc == MPI_SUCCESS) dm_after_init(t0, "MPI_Init");
    return rc;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
    double t0 = dasf_now();
    int rc = PMPI_Init_thread(argc, argv, required, provided);
    if (rc == MPI_SUCCESS) dm_after_init(t0, "MPI_Init_thread");
    return rc;
}

int MPI_Finalize(void) {
    dm_before_finalize();
    double t0 = NOW();
    int rc = PMPI_Finalize();
    dm_after_finalize(t0);
    dm_prof = NULL;
    return rc;
}

/* ---- point to point ----------------------------------------------------- */

int MPI_Send(const void *buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) {
    double t0 = NOW();
    dm_flow_send(comm, dest, tag, t0);
    int rc = PMPI_Send(buf, count, t, dest, tag, comm);
    dm_p2p_span("MPI_Send", t0, dest, tag, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Ssend(const void *buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm) {
    double t0 = NOW();
    dm_flow_send(comm, dest, tag, t0);
    int rc = PMPI_Ssend(buf, count, t, dest, tag, comm);
    dm_p2p_span("MPI_Ssend", t0, dest, tag, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Recv(void *buf, int count, MPI_Datatype t, int source, int tag, MPI_Comm comm,
             MPI_Status *status) {
    double t0 = NOW();
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    int rc = PMPI_Recv(buf, count, t, source, tag, comm, st);
    if (dm_prof && rc == MPI_SUCCESS) {
        int got = 0;
        PMPI_Get_count(st, t, &got);
        dm_flow_recv(comm, st->MPI_SOURCE, st->MPI_TAG, dasf_now());
        dm_p2p_span("MPI_Recv", t0, st->MPI_SOURCE, st->MPI_TAG, dm_bytes(got, t), comm);
    }
    return rc;
}

int MPI_Isend(const void *buf, int count, MPI_Datatype t, int dest, int tag, MPI_Comm comm,
              MPI_Request *req) {
    double t0 = NOW();
    dm_flow_send(comm, dest, tag, t0);
    int rc = PMPI_Isend(buf, count, t, dest, tag, comm, req);
    dm_p2p_span("MPI_Isend", t0, dest, tag, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype t, int source, int tag, MPI_Comm comm,
              MPI_Request *req) {
    double t0 = NOW();
    int rc = PMPI_Irecv(buf, count, t, source, tag, comm, req);
    if (rc == MPI_SUCCESS) dm_req_post(*req, DM_REQ_RECV, comm, source, tag);
    dm_p2p_span("MPI_Irecv", t0, source, tag, dm_bytes(count, t), comm);
    return rc;
}

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype st_, int dest, int stag, void *rbuf,
                 int rcount, MPI_Datatype rt, int source, int rtag, MPI_Comm comm,
                 MPI_Status *status) {
    double t0 = NOW();
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    dm_flow_send(comm, dest, stag, t0);
    int rc = PMPI_Sendrecv(sbuf, scount, st_, dest, stag, rbuf, rcount, rt, source, rtag, comm, st);
    if (dm_prof && rc == MPI_SUCCESS) {
        dm_flow_recv(comm, st->MPI_SOURCE, st->MPI_TAG, dasf_now());
        dm_p2p_span("MPI_Sendrecv", t0, dest, stag, dm_bytes(scount, st_), comm);
    }
    return rc;
}

int MPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status) {
    double t0 = NOW();
    int rc = PMPI_Probe(source, tag, comm, status);
    dm_p2p_span("MPI_Probe", t0, source, tag, 0, comm);
    return rc;
}

int MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status) {
    double t0 = NOW();
    int rc = PMPI_Iprobe(source, tag, comm, flag, status);
    dm_p2p_span("MPI_Iprobe", t0, source, tag, 0, comm);
    return rc;
}

/* ---- completion ----------------------------------------------------------
 * The handles are copied before the call (completion frees them), and an
 * ignored status array is replaced so each receive's source and tag are
 * known.  Up to 64 requests live on the stack; more take the heap. */

typedef struct req_copy {
    MPI_Request small_r[64];
    MPI_Status small_s[64];
    MPI_Request *r;
    MPI_Status *s;
} req_copy;

static void copy_in(req_copy *c, int n, const MPI_Request *reqs, MPI_Status *user) {
    c->r = c->small_r;
    c->s = user == MPI_STATUSES_IGNORE ? c->small_s : user;
    if (n > 64) {
        c->r = malloc((size_t)n * sizeof *c->r);
        if (user == MPI_STATUSES_IGNORE) c->s = malloc((size_t)n * sizeof *c->s);
        if (!c->r || !c->s) { /* no memory: complete without flows */
            if (c->r != c->small_r) free(c->r);
            if (c->s != user && c->s != c->small_s) free(c->s);
            c->r = NULL;
            c->s = user;
            return;
        }
    }
    for (int i = 0; i < n; i++) c->r[i] = reqs[i];
}

static void copy_out(req_copy *c, MPI_Status *user) {
    if (c->r && c->r != c->small_r) free(c->r);
    if (c->s && c->s != user && c->s != c->small_s) free(c->s);
}

int MPI_Wait(MPI_Request *req, MPI_Status *status) {
    double t0 = NOW();
    MPI_Request before = *req;
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    int rc = PMPI_Wait(req, st);
    if (dm_prof && rc == MPI_SUCCESS) {
        dm_req_done(&before, req, st, 1, dasf_now());
        dm_plain_span("MPI_Wait", t0, 1);
    }
    return rc;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status sts[]) {
    if (!dm_prof) return PMPI_Waitall(n, reqs, sts);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, sts);
    int rc = PMPI_Waitall(n, reqs, c.s);
    if (rc == MPI_SUCCESS && c.r) dm_req_done(c.r, reqs, c.s, n, dasf_now());
    copy_out(&c, sts);
    dm_plain_span("MPI_Waitall", t0, n);
    return rc;
}

int MPI_Waitany(int n, MPI_Request reqs[], int *index, MPI_Status *status) {
    if (!dm_prof) return PMPI_Waitany(n, reqs, index, status);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, MPI_STATUSES_IGNORE);
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    int rc = PMPI_Waitany(n, reqs, index, st);
    if (rc == MPI_SUCCESS && c.r && *index != MPI_UNDEFINED)
        dm_req_done(&c.r[*index], &reqs[*index], st, 1, dasf_now());
    copy_out(&c, MPI_STATUSES_IGNORE);
    dm_plain_span("MPI_Waitany", t0, n);
    return rc;
}

int MPI_Waitsome(int n, MPI_Request reqs[], int *outcount, int idx[], MPI_Status sts[]) {
    if (!dm_prof) return PMPI_Waitsome(n, reqs, outcount, idx, sts);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, sts);
    int rc = PMPI_Waitsome(n, reqs, outcount, idx, c.s);
    if (rc == MPI_SUCCESS && c.r && *outcount != MPI_UNDEFINED)
        for (int i = 0; i < *outcount; i++)
            dm_req_done(&c.r[idx[i]], &reqs[idx[i]], &c.s[i], 1, dasf_now());
    copy_out(&c, sts);
    dm_plain_span("MPI_Waitsome", t0, n);
    return rc;
}

int MPI_Test(MPI_Request *req, int *flag, MPI_Status *status) {
    double t0 = NOW();
    MPI_Request before = *req;
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    int rc = PMPI_Test(req, flag, st);
    if (dm_prof && rc == MPI_SUCCESS) {
        if (*flag) dm_req_done(&before, req, st, 1, dasf_now());
        dm_plain_span("MPI_Test", t0, 1);
    }
    return rc;
}

int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status sts[]) {
    if (!dm_prof) return PMPI_Testall(n, reqs, flag, sts);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, sts);
    int rc = PMPI_Testall(n, reqs, flag, c.s);
    if (rc == MPI_SUCCESS && *flag && c.r) dm_req_done(c.r, reqs, c.s, n, dasf_now());
    copy_out(&c, sts);
    dm_plain_span("MPI_Testall", t0, n);
    return rc;
}

int MPI_Testany(int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *status) {
    if (!dm_prof) return PMPI_Testany(n, reqs, index, flag, status);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, MPI_STATUSES_IGNORE);
    MPI_Status local;
    MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
    int rc = PMPI_Testany(n, reqs, index, flag, st);
    if (rc == MPI_SUCCESS && *flag && c.r && *index != MPI_UNDEFINED)
        dm_req_done(&c.r[*index], &reqs[*index], st, 1, dasf_now());
    copy_out(&c, MPI_STATUSES_IGNORE);
    dm_plain_span("MPI_Testany", t0, n);
    return rc;
}

int MPI_Testsome(int n, MPI_Request reqs[], int *outcount, int idx[], MPI_Status sts[]) {
    if (!dm_prof) return PMPI_Testsome(n, reqs, outcount, idx, sts);
    double t0 = dasf_now();
    req_copy c;
    copy_in(&c, n, reqs, sts);
    int rc = PMPI_Testsome(n, reqs, outcount, idx, c.s);
    if (rc == MPI_SUCCESS && c.r && *outcount != MPI_UNDEFINED)
        for (int i = 0; i < *outcount; i++)
            dm_req_done(&c.r[idx[i]], &reqs[idx[i]], &c.s[i], 1, dasf_now());
    copy_out(&c, sts);
    dm_plain_span("MPI_Testsome", t0, n);
    return rc;
}
