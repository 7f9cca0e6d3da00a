/*
 * perfetto_tracks.h — the tracks of a Perfetto export (perfetto_tracks.c):
 * one process track and sequence per (host, process id), one thread track
 * and sequence per thread, real pids/tids where they fit and synthetic
 * ones otherwise, and the lanes that keep slices nested on a thread.
 */
#ifndef DASF_TRACE_PERFETTO_TRACKS_H
#define DASF_TRACE_PERFETTO_TRACKS_H

#include "infile.h"
#include "perfetto_state.h"

/* Notes the host of ev's chunk (a new host: new processes). */
void dt_pf_update_host(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev);
/* The sequence of the event's process (made and announced when new);
 * SIZE_MAX when out of memory. */
size_t dt_pf_seq_of(pf_ctx *c, const dasf_trace_event *ev);
/* Sequence *si and thread *ti of ev (made when new; the last pair again
 * for the same int ids, file and host).  0, or -1 out of memory. */
int dt_pf_lookup(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev, size_t *si, size_t *ti);
/* The track uuid [s, e] goes to on thread t: the first lane it nests on,
 * else a new lane (announced), else (PF_MAX_LANES) the last. */
uint64_t dt_pf_lane_for(pf_ctx *c, pf_thread *t, int64_t s, int64_t e);

#endif
