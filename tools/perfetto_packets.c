/*
 * perfetto_packets.c — the TracePackets of a Perfetto export
 * (perfetto_packets.h).  The wire bytes come from pb.h.  Compression:
 * deflate in the zlib format (what trace processor inflates), by
 * libdeflate: whole-buffer compression is exactly this use, and at level 1
 * it runs about 3x faster than zlib's deflate, which was most of the
 * export's time.
 */
#include "perfetto_packets.h"

#include "ids.h"
#include "json.h"

#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output ---------------------------------------------------------------- */

int dt_pf_flush(pf_ctx *c) {
    if (!c->pk.len || c->pk.oom) return c->pk.oom ? -1 : 0;
    if (!c->compress) {
        dt_outfile_write(&c->out, c->pk.p, c->pk.len);
        c->pk.len = 0;
        return 0;
    }
    if (!c->deflater && !(c->deflater = libdeflate_alloc_compressor(1))) return -1;
    size_t bound = libdeflate_zlib_compress_bound(c->deflater, c->pk.len);
    if (bound > c->zcap) {
        uint8_t *q = realloc(c->z, bound);
        if (!q) return -1;
        c->z = q;
        c->zcap = bound;
    }
    /* zlib format (what trace processor inflates), level 1: the packets are
     * repetitive, and higher levels cost the rate */
    size_t zlen = libdeflate_zlib_compress(c->deflater, c->pk.p, c->pk.len, c->z, c->zcap);
    if (!zlen) return -1;
    /* Trace.packet { compressed_packets: bytes }, the header in front */
    uint8_t hb[32];
    size_t hl = 0;
    size_t inner = 2 + pb_varint_size(zlen) + zlen; /* field 50's tag is 2 bytes */
    uint64_t parts[4] = {(uint64_t)F_TRACE_PACKET << 3 | PB_LEN, inner,
                         (uint64_t)F_COMPRESSED_PACKETS << 3 | PB_LEN, zlen};
    for (int i = 0; i < 4; i++) {
        uint64_t v = parts[i];
        while (v >= 0x80) {
            hb[hl++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        hb[hl++] = (uint8_t)v;
    }
    dt_outfile_write(&c->out, hb, hl);
    dt_outfile_write(&c->out, c->z, zlen);
    c->pk.len = 0;
    return 0;
}

/* ---- sequences, interning, timestamps -------------------------------------- */

static void put_clock(pb_buf *b, uint32_t id, uint64_t ts, bool incremental) {
    size_t m = pb_begin(b, F_CLOCKS);
    pb_u64(b, F_CLOCK_ID, id);
    pb_u64(b, F_CLOCK_TIMESTAMP, ts);
    if (incremental) pb_u64(b, F_CLOCK_INCREMENTAL, 1);
    pb_end(b, m);
}

/* Starts (or restarts) the sequence's incremental state at time t: packet
 * defaults (clock 64) and the clock snapshot. */
static void seq_restart(pf_ctx *c, pf_wseq *q, int64_t t) {
    if (t < 0) t = 0;
    if (!q->started) {
        q->base_abs = t > ABS_MARGIN ? t - ABS_MARGIN : 0;
        q->started = true;
    }
    dt_strmap_free(&q->names);
    dt_strmap_free(&q->cats);
    dt_strmap_free(&q->anames);
    q->n_interned = 0;
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, q->id);
    pb_u64(b, F_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
    size_t d = pb_begin(b, F_PACKET_DEFAULTS);
    pb_u64(b, F_DEFAULTS_CLOCK_ID, CLOCK_INC);
    if (q->default_track) {
        size_t ted = pb_begin(b, F_DEFAULTS_TRACK_EVENT);
        pb_u64(b, F_TED_TRACK, q->default_track);
        pb_end(b, ted);
    }
    pb_end(b, d);
    size_t cs = pb_begin(b, F_CLOCK_SNAPSHOT);
    put_clock(b, CLOCK_INC, (uint64_t)t, true);
    put_clock(b, CLOCK_ABS, (uint64_t)(t - q->base_abs), false);
    put_clock(b, CLOCK_BOOTTIME, (uint64_t)t, false);
    pb_end(b, cs);
    pb_end(b, m);
    q->last_inc = t;
}

static void put_ts(pf_ctx *c, pf_wseq *q, int64_t ts) {
    if (ts < 0) {
        ts = 0;
        c->clamped++;
    }
    if (ts >= q->last_inc) {
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)(ts - q->last_inc));
        q->last_inc = ts;
    } else if (ts >= q->base_abs) {
        pb_u64(&c->pk, F_TIMESTAMP_CLOCK_ID, CLOCK_ABS);
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)(ts - q->base_abs));
    } else {
        pb_u64(&c->pk, F_TIMESTAMP_CLOCK_ID, CLOCK_BOOTTIME);
        pb_u64(&c->pk, F_TIMESTAMP, (uint64_t)ts);
    }
}

uint64_t dt_pf_intern(pf_ctx *c, pf_wseq *q, dt_strmap *m, uint64_t *next, uint32_t field,
                      const char *s, size_t n) {
    bool created;
    dt_strent *e = dt_strmap_get(m, s, n, &created);
    if (!e) {
        c->pk.oom = true;
        return 0;
    }
    if (created) {
        e->val = (size_t)++ * next; /* iid 0 means unset */
        q->n_interned++;
        size_t mk = pb_begin(&c->idata, field);
        pb_u64(&c->idata, F_IE_IID, e->val);
        pb_bytes(&c->idata, F_IE_NAME, s, n);
        pb_end(&c->idata, mk);
    }
    return e->val;
}

/* An event packet on sequence q at ts; returns the packet's mark. */
size_t dt_pf_pkt_begin(pf_ctx *c, pf_wseq *q, int64_t ts) {
    if (!q->started) /* clocks start at the first timed event (M events carry 0) */
        seq_restart(c, q, ts);
    else if (q->n_interned >= PF_MAX_INTERNED)
        seq_restart(c, q, q->last_inc);
    size_t m = pb_begin(&c->pk, F_TRACE_PACKET);
    pb_u64(&c->pk, F_SEQUENCE_ID, q->id);
    pb_u64(&c->pk, F_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
    put_ts(c, q, ts);
    c->idata.len = 0;
    return m;
}

void dt_pf_pkt_end(pf_ctx *c, size_t m) {
    if (c->idata.len) pb_bytes(&c->pk, F_INTERNED_DATA, c->idata.p, c->idata.len);
    pb_end(&c->pk, m);
}

/* ---- descriptors ------------------------------------------------------------ */

void dt_pf_announce_process(pf_ctx *c, pf_seq *q) {
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, q->w.id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, q->uuid);
    size_t pd = pb_begin(b, F_TD_PROCESS);
    pb_i64(b, F_PD_PID, q->pid);
    if (q->show_label) pb_bytes(b, F_PD_NAME, q->label, strlen(q->label));
    pb_end(b, pd);
    pb_end(b, td);
    pb_end(b, m);
}

void dt_pf_announce_thread(pf_ctx *c, pf_thread *t) {
    pf_seq *q = &c->seqs[t->seq];
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, t->w.id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, t->uuid);
    pb_u64(b, F_TD_PARENT, q->uuid);
    size_t thd = pb_begin(b, F_TD_THREAD);
    pb_i64(b, F_THD_PID, q->pid);
    pb_i64(b, F_THD_TID, t->tid);
    if (t->show_label) pb_bytes(b, F_THD_NAME, t->label, strlen(t->label));
    pb_end(b, thd);
    pb_end(b, td);
    pb_end(b, m);
}

/* A named track (lane, async, counter, global) with an optional parent. */
void dt_pf_announce_track(pf_ctx *c, uint32_t seq_id, uint64_t uuid, uint64_t parent,
                          const char *name, size_t nlen, bool counter) {
    pb_buf *b = &c->pk;
    size_t m = pb_begin(b, F_TRACE_PACKET);
    pb_u64(b, F_SEQUENCE_ID, seq_id);
    size_t td = pb_begin(b, F_TRACK_DESCRIPTOR);
    pb_u64(b, F_TD_UUID, uuid);
    if (parent) pb_u64(b, F_TD_PARENT, parent);
    pb_bytes(b, F_TD_NAME, name, nlen);
    if (counter) {
        size_t cd = pb_begin(b, F_TD_COUNTER);
        pb_end(b, cd);
    }
    pb_end(b, td);
    pb_end(b, m);
}

/* True the first time a hashed track is seen, so the caller announces it
 * (again after the cache is emptied: a repeated identical descriptor is
 * harmless). */
bool dt_pf_first_sight(pf_ctx *c, uint64_t uuid) {
    if (c->announced.len >= PF_MAX_ANNOUNCED) dt_strmap_free(&c->announced);
    bool created;
    dt_strent *e = dt_strmap_get(&c->announced, (const char *)&uuid, sizeof uuid, &created);
    if (!e) {
        c->pk.oom = true;
        return false;
    }
    return created;
}

/* A stable uuid for a track named by key (above the sequential ones). */
uint64_t dt_pf_hashed_uuid(const char *key, size_t n) {
    return dt_hash(key, n) | (1ull << 62);
}

/* ---- event bodies ------------------------------------------------------------- */

const char *dt_pf_key_text(const dasf_value *k, char *buf, size_t *len) {
    if (k->type == DASF_VAL_STR) {
        *len = k->v.str.len;
        return k->v.str.ptr;
    }
    dt_id_text(k, buf, DT_ID_TEXT_MAX);
    *len = strlen(buf);
    return buf;
}

/* A map or array value as JSON text (legacy_json_value). */
static void put_json_value(pf_ctx *c, pb_buf *b, const dasf_value *v) {
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    dt_json j;
    if (!mf || dt_json_init(&j, mf)) {
        if (mf) fclose(mf);
        free(text);
        c->pk.oom = true;
        return;
    }
    int rc = dt_json_value(&j, v);
    dt_json_free(&j);
    if (fclose(mf) || rc) {
        free(text);
        c->pk.oom = true;
        return;
    }
    pb_bytes(b, F_DA_JSON, text, len);
    free(text);
}

static void put_value(pf_ctx *c, pb_buf *b, const dasf_value *v) {
    switch (v->type) {
    case DASF_VAL_NIL: pb_bytes(b, F_DA_STRING, "null", 4); break;
    case DASF_VAL_BOOL: pb_u64(b, F_DA_BOOL, v->v.b); break;
    case DASF_VAL_INT: pb_i64(b, F_DA_INT, v->v.i); break;
    case DASF_VAL_UINT: pb_u64(b, F_DA_UINT, v->v.u); break;
    case DASF_VAL_FLOAT: pb_double(b, F_DA_DOUBLE, v->v.f); break;
    case DASF_VAL_STR: pb_bytes(b, F_DA_STRING, v->v.str.ptr, v->v.str.len); break;
    case DASF_VAL_BIN: {
        if (!pb_reserve(b, 2 * (size_t)v->v.bin.len + 16)) return;
        pb_tag(b, F_DA_STRING, PB_LEN);
        pb_varint(b, 2 * (uint64_t)v->v.bin.len);
        for (uint32_t i = 0; i < v->v.bin.len; i++) {
            unsigned char x = (unsigned char)v->v.bin.ptr[i];
            b->p[b->len++] = (uint8_t) "0123456789abcdef"[x >> 4];
            b->p[b->len++] = (uint8_t) "0123456789abcdef"[x & 15];
        }
        break;
    }
    case DASF_VAL_ARRAY:
    case DASF_VAL_MAP: put_json_value(c, b, v); break;
    }
}

/* One debug annotation; name interned on q (q NULL: the name inline). */
void dt_pf_put_annotation(pf_ctx *c, pf_wseq *q, pb_buf *b, const char *k, size_t klen,
                          const dasf_value *v) {
    size_t m = pb_begin(b, F_TE_ANNOTATIONS);
    if (q)
        pb_u64(b, F_DA_NAME_IID,
               dt_pf_intern(c, q, &q->anames, &q->next_aname, F_ID_ANNOTATION_NAMES, k, klen));
    else
        pb_bytes(b, F_DA_NAME, k, klen);
    put_value(c, b, v);
    pb_end(b, m);
}

void dt_pf_put_args(pf_ctx *c, pf_wseq *q, pb_buf *b, const dasf_value *args) {
    if (args->type != DASF_VAL_MAP) return;
    char buf[DT_ID_TEXT_MAX];
    for (uint32_t i = 0; i < args->v.map.n; i++) {
        const dasf_kv *kv = &args->v.map.items[i];
        size_t klen;
        const char *k = dt_pf_key_text(&kv->key, buf, &klen);
        dt_pf_put_annotation(c, q, b, k, klen, &kv->val);
    }
}

void dt_pf_put_name_cat(pf_ctx *c, pf_wseq *q, const char *name, const char *cat, size_t catlen) {
    if (!name) name = "";
    pb_u64(&c->pk, F_TE_NAME_IID,
           dt_pf_intern(c, q, &q->names, &q->next_name, F_ID_NAMES, name, strlen(name)));
    if (cat)
        pb_u64(&c->pk, F_TE_CATEGORY_IIDS,
               dt_pf_intern(c, q, &q->cats, &q->next_cat, F_ID_CATEGORIES, cat, catlen));
}

/* The event's track, unless it is the sequence's default (its thread). */
void dt_pf_put_track(pf_ctx *c, const pf_wseq *q, uint64_t track) {
    if (track != q->default_track) pb_u64(&c->pk, F_TE_TRACK, track);
}
