/*
 * chunk_enc.h — the chunk encoder's cold entry points and the helpers the
 * encode/ files share (not installed; the interface for other stages is
 * encode.h).  The encoder's state is chunk_state.h.
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

#include "chunk_state.h"

#include <msgpack.h>

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
