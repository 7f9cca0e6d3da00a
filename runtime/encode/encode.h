/*
 * encode.h — the chunk encoder's interface for the other stages: events →
 * the exact bytes of one chunk (chunk_enc.c and its parts; not installed).
 *
 * Called by the flusher thread and by dasf_writer's caller; one encoder
 * belongs to one thread.  The bounds writers keep (DASF_CHUNK_*,
 * DASF_MAX_EVENT_BYTES) are archive.h's.
 */
#ifndef DASF_ENCODE_H
#define DASF_ENCODE_H

#include "archive.h"

/* A caller-held memo of the strings it hands the encoder again and again
 * from storage whose address changes every event (the flusher keeps one
 * per ring: names and arg keys copied into the ring).  Slot → string
 * index in the encoder's current chunk; a hit is verified by length and
 * content against the chunk's own copy, so a new buffer with the same
 * bytes is recognised and a reused buffer with new bytes never aliases.
 * Belongs to one encoder chunk at a time (owner, gen): the encoder clears
 * it when the chunk changed.  Zero-initialised = empty. */
#define DASF_ENC_MEMO_KEYS 8  /* arg keys by position */
#define DASF_ENC_MEMO_NAMES 32 /* names by (length, first, last byte) */
typedef struct dasf_enc_memo {
    const void *owner;
    uint64_t gen;
    uint32_t key1[DASF_ENC_MEMO_KEYS];   /* string index + 1; 0 = empty */
    uint32_t name1[DASF_ENC_MEMO_NAMES]; /* string index + 1; 0 = empty */
    uint32_t stream1; /* the ring's stream index + 1 (checked by its ids); 0 = none */
} dasf_enc_memo;

/* One event ready to encode.  Ids are resolved (never DASF_ID_AUTO for
 * process_id/thread_id).  Timestamps come in both forms so each layout
 * gets what it needs bit-exactly: the legacy layout stores ts/dur (the
 * caller's doubles); the archive stores ts_ns/dur_ns plus, from version 3,
 * what turns dasf_ns_to_seconds(ns) back into the caller's double.  Exactly one of the
 * three args forms is used: args/n_args, args_msgpack (one msgpack map),
 * or args_value (a DASF_VAL_MAP tree); none → empty map. */
typedef struct dasf_enc_event {
    const char *name;
    size_t name_len;
    int64_t ts_ns, dur_ns;
    double ts, dur;
    char phase;
    char scope;        /* 0 = absent (written as 'g' for phase I in legacy) */
    dasf_id pid, tid;  /* resolved */
    const char *cat;   /* NULL = absent */
    size_t cat_len;
    dasf_id id;        /* DASF_ID_AUTO = absent */
    const dasf_arg *args;
    size_t n_args;
    const uint32_t *key_lens; /* strlen of each args[i].key, or NULL: unknown */
    const void *args_msgpack;
    size_t args_msgpack_size;
    const dasf_value *args_value;
    unsigned char kept; /* DASF_KEEP_*: how a file being converted held the values */
    dasf_enc_memo *memo; /* NULL = none; used for keys of known length, and for */
    unsigned char name_copied; /* a name of known length when set: its address
                                  changes every event (a copy in a ring); else
                                  the name is found by its pointer (interned) */
    unsigned char ns_exact; /* the event's times are ts_ns/dur_ns (recorded in
                               ns or ticks): ts/dur are not set, the encoder
                               takes dasf_ns_to_seconds of them where a layout
                               needs doubles, and there is no version-3 fix */
} dasf_enc_event;

/* dasf_enc_event.kept: integer seconds (applied only when ts_ns / dur_ns is
 * a whole number of seconds), nil args (only when there are none). */
enum { DASF_KEEP_TS_INT = 1, DASF_KEEP_DUR_INT = 2, DASF_KEEP_ARGS_NIL = 4 };

/* Writer identity recorded in an archive chunk's metadata. */
/* Per chunk: which part of which shared ring it holds (chunk metadata
 * "rings", what makes recovery idempotent). */
#define DASF_CHUNK_MAX_RANGES 64
typedef struct dasf_ring_range {
    uint64_t index, from, to;
} dasf_ring_range;

typedef struct dasf_chunk_origin {
    int64_t pid;
    const char *host;
    const char *clock;          /* "monotonic" */
    int64_t realtime_offset_ns; /* CLOCK_REALTIME - clock at write time */
    uint64_t dropped;           /* events dropped since the previous chunk */
    /* Shared-memory rings (docs/FORMAT.md "src", "rings", "recovered"):
     * the writer's "<pid>-<starttime>" and the ring ranges [from, to) this
     * chunk holds; recovered: written by a recoverer for a dead writer,
     * with `torn` half-written records dropped. */
    const char *src;
    const dasf_ring_range *ranges;
    size_t n_ranges;
    int recovered;
    uint64_t torn;
    /* Rings of this chunk that were in anonymous memory although shared
     * memory was configured (metadata "shm_fallback"; 0: key left out). */
    uint32_t shm_fallback;
    /* Flight recorder (docs/FORMAT.md "snapshot"): the writer's n-th
     * snapshot (0: not a snapshot chunk; no keys written), records and
     * bytes overwritten since the thread's previous snapshot. */
    uint64_t snapshot, overwritten, overwritten_bytes;
} dasf_chunk_origin;

typedef struct dasf_chunk_enc dasf_chunk_enc;


/* level 0: legacy layout with byte_size-byte big-endian length prefixes;
 * level 1..19: archive chunk compressed at that zstd level. */
DASF_HIDDEN int dasf_chunk_enc_create(dasf_chunk_enc **out, int level, int byte_size);
/* Adds one event (DASF_EINVAL on a bad args_msgpack/args_value, nothing added). */
DASF_HIDDEN int dasf_chunk_enc_add(dasf_chunk_enc *e, const dasf_enc_event *ev);
/* Adds one ring record (common/rt.h: header + payload) of ring r (only its
 * pid and tid are read), with the ring's memo (or NULL): straight into the
 * chunk when it has a hot shape, else through a dasf_enc_event
 * (encode/ring_enc.c).  DASF_ECORRUPT for a malformed record, DASF_ENOMEM;
 * nothing added then.  The _generic variant always takes the second way
 * (the same bytes: tests/test_ringenc.c). */
struct dasf_ring;
struct dasf_rec;
DASF_HIDDEN int dasf_chunk_enc_add_rec(dasf_chunk_enc *e, const struct dasf_ring *r,
                                       const struct dasf_rec *rec, dasf_enc_memo *memo);
DASF_HIDDEN int dasf_chunk_enc_add_rec_generic(dasf_chunk_enc *e, const struct dasf_ring *r,
                                               const struct dasf_rec *rec, dasf_enc_memo *memo);
DASF_HIDDEN size_t dasf_chunk_enc_count(const dasf_chunk_enc *e);
/* The chunk is full (DASF_CHUNK_* above): finish it before adding more. */
DASF_HIDDEN int dasf_chunk_enc_full(const dasf_chunk_enc *e);
/* Appends the whole chunk (the exact bytes to write to the file) to out
 * and resets the encoder for the next chunk.  0 events → nothing appended. */
DASF_HIDDEN int dasf_chunk_enc_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o,
                                      dasf_buf *out);
DASF_HIDDEN void dasf_chunk_enc_destroy(dasf_chunk_enc *e);

#endif
