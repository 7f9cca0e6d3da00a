/*
 * mpi_trace.h — what the C and the Fortran PMPI wrappers of
 * libdasf-profiler-mpi share (not installed).
 *
 * Thread: any thread that calls MPI.  The wrappers only read `dm_prof`
 * (set once in MPI_Init, cleared in MPI_Finalize) and record through the
 * public API, which is thread-safe; the request table and the message
 * sequence counters are guarded by one mutex (they are touched once per
 * message, not per byte).
 */
#ifndef DASF_MPI_TRACE_H
#define DASF_MPI_TRACE_H

#include <dasf/profiler.h>
#include <mpi.h>
#include <stdint.h>

extern dasf_profiler *dm_prof; /* NULL: not tracing (before Init, after Finalize) */

/* A span's start time: the clock only while tracing. */
#define NOW() (dm_prof ? dasf_now() : 0.0)

/* The profiler and the clock sync, after PMPI_Init / PMPI_Init_thread. */
void dm_after_init(double t0, const char *name);
/* The clock sync and the commit, before PMPI_Finalize; then the span. */
void dm_before_finalize(void);
void dm_after_finalize(double t0);

/* Bytes of count elements of t (0 when unknown). */
int64_t dm_bytes(int count, MPI_Datatype t);

/* A point-to-point span: name, peer (rank in comm), tag, bytes. */
void dm_p2p_span(const char *name, double t0, int peer, int tag, int64_t bytes, MPI_Comm comm);
/* A collective span: root (-1: none), bytes sent by this rank. */
void dm_coll_span(const char *name, double t0, int root, int64_t bytes, MPI_Comm comm);
/* A span with no message arguments (Wait, Test, Probe, ...). */
void dm_plain_span(const char *name, double t0, int n);

/* The flow of one message: the sender's side (at the send) and the
 * receiver's side (once the source and tag are known). */
void dm_flow_send(MPI_Comm comm, int dest, int tag, double t);
void dm_flow_recv(MPI_Comm comm, int source, int tag, double t);

/* Non-blocking operations: remember a posted request, and settle the
 * completed ones (a receive's flow end, from its status). */
enum { DM_REQ_SEND = 1, DM_REQ_RECV = 2 };
void dm_req_post(MPI_Request req, int kind, MPI_Comm comm, int peer, int tag);
/* reqs[i] as it was before the completion call, st[i] its status. */
void dm_req_done(const MPI_Request *before, const MPI_Request *after, const MPI_Status *st,
                 int n, double t);

#endif
