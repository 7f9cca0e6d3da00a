/*
 * archive_finish.c — the end of an archive chunk: header, zstd, metadata.
 *
 * Runs on the encoding thread when a chunk is finished (once per chunk, so
 * msgpack-c's packer is fast enough here).  The chunk is a zstd skippable
 * frame holding the metadata (events, sizes, CRC-32C of the data frame,
 * time range, writer identity) followed by one zstd frame holding the
 * string table, the stream table, the schemas and the event arrays
 * (docs/FORMAT.md).  Every chunk is self-contained: nothing refers to an
 * earlier one.  The zstd context is reused from chunk to chunk.
 */
#include "chunk_enc.h"
#include "mp_write.h"

#include <string.h>

static int pack_id(msgpack_packer *pk, const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT: return msgpack_pack_int64(pk, id->i);
    case DASF_ID_STR: return dasf_enc_pack_str(pk, id->s, strlen(id->s));
    case DASF_ID_NIL: return msgpack_pack_nil(pk);
    default: return -1;
    }
}

#define KEY(pk, lit) dasf_enc_pack_str((pk), (lit), sizeof(lit) - 1)

static int pack_header(dasf_chunk_enc *e, msgpack_packer *pk) {
    const str_ent *ents = (const str_ent *)e->strents.data;
    int rc = msgpack_pack_map(pk, e->nschemas ? 5 : 4);
    rc |= KEY(pk, "dasf") | msgpack_pack_int(pk, DASF_FORMAT_VERSION);
    rc |= KEY(pk, "events") | msgpack_pack_uint64(pk, e->count);
    rc |= KEY(pk, "strings") | msgpack_pack_array(pk, e->nstr);
    for (uint32_t i = 0; i < e->nstr && !rc; i++)
        rc |= dasf_enc_pack_str(pk, (const char *)e->strbytes.data + ents[i].off, ents[i].len);
    rc |= KEY(pk, "streams") | msgpack_pack_array(pk, e->nstreams);
    for (uint32_t i = 0; i < e->nstreams && !rc; i++) {
        const stream_ent *s = &e->streams[i];
        rc |= msgpack_pack_array(pk, 3) | pack_id(pk, &s->pid) | pack_id(pk, &s->tid) |
              msgpack_pack_int64(pk, s->base);
    }
    if (e->nschemas) {
        const uint32_t *pool = (const uint32_t *)e->schpool.data;
        rc |= KEY(pk, "schemas") | msgpack_pack_map(pk, e->nschemas);
        for (uint32_t i = 0; i < e->capschemas && !rc; i++) {
            const schema_ent *sc = &e->schemas[i];
            if (!sc->n) continue;
            rc |= msgpack_pack_uint32(pk, i) | msgpack_pack_array(pk, sc->n);
            for (uint32_t j = 0; j < sc->n; j++) rc |= msgpack_pack_uint32(pk, pool[sc->off + j]);
        }
    }
    return rc;
}

static int pack_meta(dasf_chunk_enc *e, msgpack_packer *pk, const dasf_chunk_origin *o,
                     uint64_t raw, uint64_t stored, uint32_t crc) {
    const char *host = o->host ? o->host : "";
    const char *clock = o->clock ? o->clock : "monotonic";
    int src = o->src && *o->src;
    int rc = msgpack_pack_map(pk, 13 + (src ? 1 : 0) + (o->n_ranges ? 1 : 0) +
                                      (o->recovered ? 2 : 0) + (o->shm_fallback ? 1 : 0) +
                                      (o->snapshot ? 3 : 0));
    rc |= KEY(pk, "dasf") | msgpack_pack_int(pk, DASF_FORMAT_VERSION);
    rc |= KEY(pk, "events") | msgpack_pack_uint64(pk, e->count);
    rc |= KEY(pk, "raw_size") | msgpack_pack_uint64(pk, raw);
    rc |= KEY(pk, "stored_size") | msgpack_pack_uint64(pk, stored);
    rc |= KEY(pk, "crc32c") | msgpack_pack_uint32(pk, crc);
    rc |= KEY(pk, "ts_min") | msgpack_pack_int64(pk, e->ts_min);
    rc |= KEY(pk, "ts_max") | msgpack_pack_int64(pk, e->ts_max);
    rc |= KEY(pk, "pid") | msgpack_pack_int64(pk, o->pid);
    rc |= KEY(pk, "host") | dasf_enc_pack_str(pk, host, strnlen(host, 63));
    rc |= KEY(pk, "clock") | dasf_enc_pack_str(pk, clock, strnlen(clock, 31));
    rc |= KEY(pk, "rt_offset") | msgpack_pack_int64(pk, o->realtime_offset_ns);
    rc |= KEY(pk, "dropped") | msgpack_pack_uint64(pk, o->dropped);
    rc |= KEY(pk, "level") | msgpack_pack_int(pk, e->level);
    if (src) rc |= KEY(pk, "src") | dasf_enc_pack_str(pk, o->src, strnlen(o->src, 63));
    if (o->n_ranges) {
        rc |= KEY(pk, "rings") | msgpack_pack_array(pk, (uint32_t)o->n_ranges);
        for (size_t i = 0; i < o->n_ranges; i++)
            rc |= msgpack_pack_array(pk, 3) | msgpack_pack_uint64(pk, o->ranges[i].index) |
                  msgpack_pack_uint64(pk, o->ranges[i].from) |
                  msgpack_pack_uint64(pk, o->ranges[i].to);
    }
    if (o->recovered) {
        rc |= KEY(pk, "recovered") | msgpack_pack_int(pk, 1);
        rc |= KEY(pk, "torn") | msgpack_pack_uint64(pk, o->torn);
    }
    if (o->shm_fallback) rc |= KEY(pk, "shm_fallback") | msgpack_pack_uint32(pk, o->shm_fallback);
    if (o->snapshot) {
        rc |= KEY(pk, "snapshot") | msgpack_pack_uint64(pk, o->snapshot);
        rc |= KEY(pk, "overwritten") | msgpack_pack_uint64(pk, o->overwritten);
        rc |= KEY(pk, "overwritten_bytes") | msgpack_pack_uint64(pk, o->overwritten_bytes);
    }
    return rc;
}

int dasf_enc_archive_finish(dasf_chunk_enc *e, const dasf_chunk_origin *o, dasf_buf *out) {
    msgpack_packer pk;
    e->raw.len = 0;
    msgpack_packer_init(&pk, &e->raw, buf_write);
    if (pack_header(e, &pk) || dasf_buf_append(&e->raw, e->ev.data, e->ev.len))
        return DASF_ENOMEM;

    size_t bound = ZSTD_compressBound(e->raw.len);
    e->z.len = 0;
    if (dasf_buf_reserve(&e->z, bound)) return DASF_ENOMEM;
    ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_only);
    size_t zn = ZSTD_compress2(e->cctx, e->z.data, bound, e->raw.data, e->raw.len);
    if (ZSTD_isError(zn)) return DASF_ENOMEM;
    e->z.len = zn;
    uint32_t crc = dasf_crc32c(0, e->z.data, zn);

    e->meta.len = 0;
    msgpack_packer_init(&pk, &e->meta, buf_write);
    if (pack_meta(e, &pk, o, e->raw.len, zn, crc)) return DASF_ENOMEM;
    if (e->meta.len > DASF_MAX_META_SIZE) return DASF_EINVAL;

    uint8_t hdr[8];
    dasf_store_le32(hdr, DASF_CHUNK_MAGIC);
    dasf_store_le32(hdr + 4, (uint32_t)e->meta.len);
    if (dasf_buf_reserve(out, sizeof hdr + e->meta.len + zn)) return DASF_ENOMEM;
    dasf_buf_append(out, hdr, sizeof hdr);
    dasf_buf_append(out, e->meta.data, e->meta.len);
    dasf_buf_append(out, e->z.data, zn);
    return DASF_OK;
}
