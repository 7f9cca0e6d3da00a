/*
 * chunk_enc.c — events → the exact bytes of one chunk, in either layout:
 * the encoder's life cycle and its add / finish entry points.
 *
 * Runs on the flusher thread (and in dasf_writer); one encoder per thread.
 * Level 0 writes the Python FileDatabase layout byte for byte
 * (legacy_enc.c).  Levels 1..19 write one archive chunk (docs/FORMAT.md): a
 * skippable metadata frame, then one zstd frame holding a string table, a
 * stream table and one small msgpack array per event (strtab.c,
 * archive_enc.c, archive_finish.c).  Invariants: add() either encodes the
 * whole event or leaves the encoder as it was; finish() emits a
 * self-contained chunk and resets, so chunks never depend on each other.
 * Hot paths emit msgpack with the inline writers of mp_write.h; msgpack-c's
 * packer writes the cold parts (chunk header, metadata, value trees).  Both
 * produce the same smallest-form encodings, which are also ormsgpack's.
 */
#include "chunk_enc.h"
#include "mp_write.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dasf_chunk_enc_create(dasf_chunk_enc **out, int level, int byte_size) {
    if (!out || level < 0 || level > 19 || (level == 0 && (byte_size < 1 || byte_size > 8)))
        return DASF_EINVAL;
    dasf_chunk_enc *e = calloc(1, sizeof *e);
    if (!e) return DASF_ENOMEM;
    e->level = level;
    e->byte_size = byte_size;
    e->ts_min = INT64_MAX;
    e->ts_max = INT64_MIN;
    e->cur = UINT32_MAX;
    if (level > 0) {
        e->hcap = 1024;
        e->htab = calloc(e->hcap, sizeof *e->htab);
        e->cctx = ZSTD_createCCtx();
        /* strbytes is never NULL: a chunk whose only strings are empty
         * would otherwise offset a NULL pointer (UB, found by fuzz_encoder). */
        if (!e->htab || !e->cctx || dasf_buf_reserve(&e->strbytes, 256) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_contentSizeFlag, 1)) ||
            /* Event arrays are 6-10 bytes: at the fast levels, 6-byte minimum
             * matches measured smallest over the regular and random
             * workloads with the version 2 compact events (bench_codec: 4
             * and 5 compress slower, 7 misses the keyless leaf events'
             * repeats: 6.6 B/event instead of 5.2 on regular). */
            (level <= 2 &&
             ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_minMatch, 6)))) {
            dasf_chunk_enc_destroy(e);
            return DASF_ENOMEM;
        }
    }
    *out = e;
    return DASF_OK;
}

void dasf_chunk_enc_destroy(dasf_chunk_enc *e) {
    if (!e) return;
    dasf_enc_streams_clear(e);
    free(e->streams);
    free(e->htab);
    ZSTD_freeCCtx(e->cctx);
    free(e->schemas);
    free(e->kidx);
    free(e->hname);
    free(e->rsc.args);
    free(e->rsc.klens);
    dasf_buf_free(&e->schpool);
    dasf_buf_free(&e->ev);
    dasf_buf_free(&e->strbytes);
    dasf_buf_free(&e->strents);
    dasf_buf_free(&e->raw);
    dasf_buf_free(&e->z);
    dasf_buf_free(&e->meta);
    free(e);
}

size_t dasf_chunk_enc_count(const dasf_chunk_enc *e) { return e ? e->count : 0; }

int dasf_chunk_enc_full(const dasf_chunk_enc *e) {
    return e && (e->count >= DASF_CHUNK_MAX_EVENTS || e->nstr >= DASF_CHUNK_MAX_EVENTS ||
                 e->nstreams >= DASF_CHUNK_MAX_EVENTS ||
                 e->ev.len + e->strbytes.len + e->schpool.len >= DASF_CHUNK_TARGET_BYTES);
}

/* ---- msgpack-c helpers (cold parts) ----------------------------------------- */

int dasf_enc_pack_str(msgpack_packer *pk, const char *s, size_t n) {
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

static int pack_value(msgpack_packer *pk, const dasf_value *v, int depth);
int dasf_enc_w_value(dasf_buf *b, const dasf_value *v) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, buf_write);
    return pack_value(&pk, v, 0);
}

static int pack_value(msgpack_packer *pk, const dasf_value *v, int depth) {
    if (depth > 256) return -1;
    switch (v->type) {
    case DASF_VAL_NIL: return msgpack_pack_nil(pk);
    case DASF_VAL_BOOL: return v->v.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case DASF_VAL_INT: return msgpack_pack_int64(pk, v->v.i);
    case DASF_VAL_UINT: return msgpack_pack_uint64(pk, v->v.u);
    case DASF_VAL_FLOAT: return msgpack_pack_double(pk, v->v.f);
    case DASF_VAL_STR: return dasf_enc_pack_str(pk, v->v.str.ptr, v->v.str.len);
    case DASF_VAL_BIN:
        return msgpack_pack_bin(pk, v->v.bin.len) |
               msgpack_pack_bin_body(pk, v->v.bin.ptr, v->v.bin.len);
    case DASF_VAL_ARRAY: {
        int rc = msgpack_pack_array(pk, v->v.array.n);
        for (uint32_t i = 0; i < v->v.array.n && !rc; i++)
            rc = pack_value(pk, &v->v.array.items[i], depth + 1);
        return rc;
    }
    case DASF_VAL_MAP: {
        int rc = msgpack_pack_map(pk, v->v.map.n);
        for (uint32_t i = 0; i < v->v.map.n && !rc; i++)
            rc = pack_value(pk, &v->v.map.items[i].key, depth + 1) |
                 pack_value(pk, &v->v.map.items[i].val, depth + 1);
        return rc;
    }
    }
    return -1;
}

/* ---- adding events ----------------------------------------------------------- */

/* Checks what the encoder relies on and cannot check cheaply later. */
static int check_args(const dasf_enc_event *ev) {
    int forms = (ev->n_args > 0) + (ev->args_msgpack != NULL) + (ev->args_value != NULL);
    if (forms > 1) return DASF_EINVAL;
    if (ev->n_args && !ev->args) return DASF_EINVAL;
    for (size_t i = 0; i < ev->n_args; i++) {
        const dasf_arg *a = &ev->args[i];
        if (!a->key) return DASF_EINVAL;
        if (a->type == DASF_ARG_STR && !a->v.s) return DASF_EINVAL;
        if (a->type == DASF_ARG_MSGPACK && dasf_msgpack_check(a->v.raw.data, a->v.raw.size, 0))
            return DASF_EINVAL;
        if (a->type < DASF_ARG_INT || a->type > DASF_ARG_MSGPACK) return DASF_EINVAL;
    }
    if (ev->args_msgpack && dasf_msgpack_check(ev->args_msgpack, ev->args_msgpack_size, 1))
        return DASF_EINVAL;
    if (ev->args_value && ev->args_value->type != DASF_VAL_MAP) return DASF_EINVAL;
    return DASF_OK;
}

int dasf_chunk_enc_add(dasf_chunk_enc *e, const dasf_enc_event *ev) {
    if (!e || !ev || !ev->name || dasf_phase_fast_index(ev->phase) < 0) return DASF_EINVAL;
    if (ev->scope && ev->scope != 'g' && ev->scope != 'p' && ev->scope != 't')
        return DASF_EINVAL;
    int rc = check_args(ev);
    if (rc) return rc;
    if (e->level == 0) {
        if (!dasf_enc_id_resolved(&ev->pid) || !dasf_enc_id_resolved(&ev->tid))
            return DASF_EINVAL;
        if (ev->id.kind != DASF_ID_AUTO && !dasf_enc_id_resolved(&ev->id))
            return DASF_EINVAL;
        rc = dasf_enc_legacy_add(e, ev);
    } else {
        rc = dasf_enc_archive_add(e, ev);
    }
    if (rc == DASF_OK) e->count++;
    return rc;
}

/* ---- finishing a chunk ---------------------------------------------------------- */

static void reset(dasf_chunk_enc *e) {
    e->count = 0;
    e->gen++; /* every caller's memo of this chunk's string indices is stale */
    e->ev.len = 0;
    if (e->level == 0) return;
    memset(e->htab, 0, e->hcap * sizeof *e->htab);
    memset(e->icache, 0, sizeof e->icache);
    e->nstr = 0;
    e->strbytes.len = e->strents.len = 0;
    dasf_enc_streams_clear(e);
    if (e->nschemas) memset(e->schemas, 0, e->capschemas * sizeof *e->schemas);
    e->nschemas = 0;
    e->schpool.len = 0;
    if (e->caphname) memset(e->hname, 0, ((size_t)e->hname_hi + 1) * sizeof *e->hname);
    e->hname_hi = 0;
    e->ts_min = INT64_MAX;
    e->ts_max = INT64_MIN;
}

int dasf_chunk_enc_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o, dasf_buf *out) {
    if (!e || !out) return DASF_EINVAL;
    if (e->count == 0) return DASF_OK;
    int rc;
    if (e->level == 0) {
        rc = dasf_buf_append(out, e->ev.data, e->ev.len);
    } else {
        dasf_chunk_origin def = {0};
        if (!o) {
            def.pid = getpid();
            def.host = dasf_hostname();
            def.clock = "monotonic";
            def.realtime_offset_ns = dasf_realtime_offset_ns();
            o = &def;
        }
        rc = dasf_enc_archive_finish(e, o, out);
    }
    if (rc == DASF_OK) reset(e);
    return rc;
}
