/*
 * chunk_state.h — the chunk encoder's state (struct dasf_chunk_enc), shared
 * by the encode/ files (not installed).  Its own header so the string table
 * (strtab.h), whose inline fast paths read it, does not include the
 * encoder's entry points (chunk_enc.h), which use the string table: that
 * was an include cycle.
 *
 * One dasf_chunk_enc belongs to one thread (the flusher, or a dasf_writer's
 * caller); chunk_enc.h says which file owns which part of it.
 */
#ifndef DASF_CHUNK_STATE_H
#define DASF_CHUNK_STATE_H

#include "encode.h"
#include "ring_decode.h"

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

#endif
