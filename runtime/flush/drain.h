/*
 * drain.h — rings → chunks (drain.c): the flusher's drain, and the pieces
 * of it the compression workers (workers.c) share.  Not installed.
 */
#ifndef DASF_DRAIN_H
#define DASF_DRAIN_H

#include "encode.h"
#include "rt.h"

/* Per-ring string memos (dasf_enc_memo): a ring's thread records the same
 * few names and arg keys over and over, copied into the ring at a new
 * address each time.  Kept by ring address (ring.h is not the drain's to
 * extend): a slot taken over by another ring, or a ring freed and its
 * address reused, only costs misses — every hit is checked by length and
 * content. */
#define DASF_DRAIN_MEMOS 32
typedef struct dasf_ring_memo {
    const dasf_ring *ring;
    dasf_enc_memo m;
} dasf_ring_memo;

/* What one draining thread keeps between records: the flusher has one,
 * each compression worker its own. */
typedef struct dasf_drain_state {
    dasf_ring_memo memos[DASF_DRAIN_MEMOS];
} dasf_drain_state;

/* ---- drain.c ------------------------------------------------------------- */
DASF_HIDDEN dasf_drain_state *dasf_drain_state_new(void);
DASF_HIDDEN void dasf_drain_state_free(dasf_drain_state *ds);
/* Encodes ring r's records [t, h) into enc, or until the chunk is full
 * (*full set); returns where it stopped.  Undecodable records are counted
 * in *bad.  Releases nothing. */
DASF_HIDDEN uint64_t dasf_drain_span(dasf_chunk_enc *enc, dasf_drain_state *ds,
                                     const dasf_ring *r, uint64_t t, uint64_t h, uint64_t *bad,
                                     int *full);
/* A "dasf.dropped" marker (args {count: n}) into enc.  @return 0 or the encoder's error. */
DASF_HIDDEN int dasf_enc_add_dropped(dasf_chunk_enc *enc, int64_t pid, int64_t tid, uint64_t n);
/* Flusher thread: a finished chunk (pc->bytes, pc->events; `markers` of
 * them dasf.dropped markers carrying `dropped`) into the pending list, the
 * DROP cap applied as for the flusher's own chunks.  Takes pc. */
DASF_HIDDEN int dasf_flusher_keep_chunk(dasf_filedb *db, dasf_pending *pc, uint64_t markers,
                                        uint64_t dropped);
/* Flusher thread: drops carried from chunks thrown away (DROP cap) go into
 * a chunk of their own now, ahead of the next chunk that is kept. */
DASF_HIDDEN int dasf_flusher_carry_drops(dasf_filedb *db);
/* Flusher thread: every ring's new records into db->enc, full chunks into
 * the pending list (anonymous rings' space released, shared rings' kept
 * for release_shared after the append); wakes producers blocked on a
 * full ring.  @return 0 or the error of a chunk that could not be
 * finished (its events are counted as dropped). */
DASF_HIDDEN int dasf_drain_all(dasf_filedb *db, dasf_drain_state *ds);

#endif
