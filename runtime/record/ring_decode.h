/*
 * ring_decode.h — a ring record → one event for the encoder, the inverse of
 * record.c's payload writer (not installed).
 *
 * Called by the flusher thread only.  The record layout and the payload
 * items (DASF_RF_*, DASF_PT_*) are in rt.h.
 */
#ifndef DASF_RING_DECODE_H
#define DASF_RING_DECODE_H

#include "rt.h"

/* Scratch for one decoded record (flusher-private, reused). */
typedef struct dasf_decode_scratch {
    dasf_arg *args;
    uint32_t *klens; /* each arg key's length, from the payload */
    size_t cap;
} dasf_decode_scratch;

/* Decodes rec (a record of ring r, not a PAD) into e, whose strings then
 * point into the ring (or the interned names) and into sc; memo is passed
 * through to the encoder (e->memo).  @return 0, DASF_ENOMEM, or
 * DASF_ECORRUPT for a record whose name handle is unknown or whose payload
 * does not parse within its bounds. */
DASF_HIDDEN int dasf_ring_decode(const dasf_ring *r, const dasf_rec *rec, dasf_enc_event *e,
                                 dasf_decode_scratch *sc, dasf_enc_memo *memo);

#endif
