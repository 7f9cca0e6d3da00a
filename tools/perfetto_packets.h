/*
 * perfetto_packets.h — TracePackets of a Perfetto export (perfetto_packets.c):
 * writing the packet buffer out (deflated into compressed_packets when
 * asked), a sequence's incremental state (interning, clocks, timestamps),
 * track descriptors, and the parts of a TrackEvent (name, category, track,
 * debug annotations).  Out of memory sets c->pk.oom; the caller checks it.
 */
#ifndef DASF_TRACE_PERFETTO_PACKETS_H
#define DASF_TRACE_PERFETTO_PACKETS_H

#include "perfetto_state.h"

/* Writes the whole packets buffered so far to the output.  0, or -1 out
 * of memory. */
int dt_pf_flush(pf_ctx *c);
/* The iid of s in sequence q's table m (InternedData entry `field` added
 * to the packet being built when new; 0 when out of memory). */
uint64_t dt_pf_intern(pf_ctx *c, pf_wseq *q, dt_strmap *m, uint64_t *next, uint32_t field,
                      const char *s, size_t n);
/* Opens an event packet on sequence q at ts (starting or restarting its
 * incremental state when due); returns the mark for dt_pf_pkt_end. */
size_t dt_pf_pkt_begin(pf_ctx *c, pf_wseq *q, int64_t ts);
/* Closes the packet, with the InternedData it needed. */
void dt_pf_pkt_end(pf_ctx *c, size_t m);
/* Process and thread track descriptors (again when a name arrives). */
void dt_pf_announce_process(pf_ctx *c, pf_seq *q);
void dt_pf_announce_thread(pf_ctx *c, pf_thread *t);
/* A named track (lane, async, counter, global) with an optional parent. */
void dt_pf_announce_track(pf_ctx *c, uint32_t seq_id, uint64_t uuid, uint64_t parent,
                          const char *name, size_t nlen, bool counter);
/* True the first time a hashed track is seen, so the caller announces it. */
bool dt_pf_first_sight(pf_ctx *c, uint64_t uuid);
/* A stable uuid for a track named by key (above the sequential ones). */
uint64_t dt_pf_hashed_uuid(const char *key, size_t n);
/* A map key as text (strings as they are, others as dt_id_text). */
const char *dt_pf_key_text(const dasf_value *k, char *buf, size_t *len);
/* One debug annotation into b; its name interned on q (q NULL: inline). */
void dt_pf_put_annotation(pf_ctx *c, pf_wseq *q, pb_buf *b, const char *k, size_t klen,
                          const dasf_value *v);
/* Every entry of an args map as a debug annotation. */
void dt_pf_put_args(pf_ctx *c, pf_wseq *q, pb_buf *b, const dasf_value *args);
/* The event's interned name and category. */
void dt_pf_put_name_cat(pf_ctx *c, pf_wseq *q, const char *name, const char *cat, size_t catlen);
/* The event's track, unless it is the sequence's default (its thread). */
void dt_pf_put_track(pf_ctx *c, const pf_wseq *q, uint64_t track);

#endif
