/*
 * chunk_enc.h — the chunk encoder's state, shared by the encode/ files
 * (not installed; the interface for other stages is internal.h).
 *
 * One dasf_chunk_enc belongs to one thread (the flusher, or a dasf_writer's
 * caller).  chunk_enc.c owns its life cycle and the add/finish entry points,
 * legacy_enc.c the legacy layout, strtab.c the archive's string and stream
 * tables, archive_enc.c the archive's event arrays, archive_finish.c the
 * chunk's header, zstd frame and metadata.  Invariant kept by all of them:
 * an add either encodes the whole event or leaves the encoder as it was.
 */
#ifndef DASF_CHUNK_ENC_H
#define DASF_CHUNK_ENC_H

#include "encode.h"
#include "ring_decode.h"

#include <msgpack.h>
#include <zstd.h>

typedef struct str_ent {
    uint32_t off, len;
} str_ent;

typedef struct stream_ent {
    dasf_id pid, tid; /* string ids point at owned copies */
    char *pid_s, *tid_s;
    int64_t base, prev_end, prev_start;
} stream_ent;

/* Version 2 arg-key schema of one name: n key indices at off in schpool
 * (n == 0: the name has none). */
typedef struct schema_ent {
    uint32_t off, n;
} schema_ent;

/* Handles below this get a slot in the handle table (the rest use the
 * pointer cache): the table is cleared per chunk up to the highest used. */
#define DASF_ENC_HANDLES (1u << 16)

struct dasf_chunk_enc {
    int level, byte_size;
    size_t count;
    dasf_buf ev; /* legacy: the whole chunk; archive: the event arrays */
    /* archive only */
    ZSTD_CCtx *cctx;
    struct hslot {
        uint32_t idx1; /* string index + 1, 0 = empty */
        uint32_t len;
        uint64_t hash;
    } *htab;        /* open addressing; hash and length checked before bytes */
    uint32_t hcap;  /* power of two */
    dasf_buf strbytes, strents;
    uint32_t nstr;
    stream_ent *streams;
    uint32_t nstreams, capstreams, cur;
    int64_t ts_min, ts_max;
    dasf_buf raw, z, meta;
    struct icache {
        const char *p;
        uint32_t idx;
    } icache[1024]; /* pointer → string index, in front of htab */
    /* version 2: per-name arg-key schemas (indexed by the name's string
     * index), their key indices, and one event's key indices (scratch) */
    schema_ent *schemas;
    uint32_t capschemas, nschemas;
    dasf_buf schpool;
    uint32_t *kidx;
    size_t capkidx;
    uint64_t gen; /* chunk number: what a dasf_enc_memo's indices belong to */
    /* ring_enc.c: interned name handle → string index + 1 in this chunk
     * (0 = not yet; entries 0..hname_hi cleared by reset), and the generic
     * path's decoded args */
    uint32_t *hname;
    uint32_t caphname, hname_hi;
    dasf_decode_scratch rsc;
};

/* ---- chunk_enc.c ---------------------------------------------------------- */
DASF_HIDDEN int dasf_enc_pack_str(msgpack_packer *pk, const char *s, size_t n);
/* A value tree through msgpack-c's packer (cold: conversions, not the flusher). */
DASF_HIDDEN int dasf_enc_w_value(dasf_buf *b, const dasf_value *v);

static inline int dasf_enc_id_resolved(const dasf_id *id) {
    return (id->kind == DASF_ID_INT || id->kind == DASF_ID_NIL ||
            (id->kind == DASF_ID_STR && id->s));
}

/* What the event asked to keep (DASF_KEEP_*, internal.h), for both layouts. */
static inline int dasf_enc_has_args(const dasf_enc_event *ev) {
    return ev->n_args || ev->args_msgpack || ev->args_value;
}
static inline int dasf_enc_keep_args_nil(const dasf_enc_event *ev) {
    return (ev->kept & DASF_KEEP_ARGS_NIL) && !dasf_enc_has_args(ev);
}
/* A time kept as integer seconds: when asked and its ns are whole seconds. */
static inline int dasf_enc_keep_int(const dasf_enc_event *ev, unsigned bit, int64_t ns) {
    return (ev->kept & bit) && ns % 1000000000 == 0;
}

/* ---- legacy_enc.c --------------------------------------------------------- */
DASF_HIDDEN int dasf_enc_legacy_add(dasf_chunk_enc *e, const dasf_enc_event *ev);

/* ---- archive_enc.c -------------------------------------------------------- */
DASF_HIDDEN int dasf_enc_archive_add(dasf_chunk_enc *e, const dasf_enc_event *ev);

/* ---- archive_finish.c ----------------------------------------------------- */
DASF_HIDDEN int dasf_enc_archive_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o,
                                        dasf_buf *out);

#endif
