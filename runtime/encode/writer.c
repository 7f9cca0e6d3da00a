/*
 * writer.c — dasf_writer: write already-formed events (read from another
 * file, or built by a tool) to a file of either layout.
 *
 * Used by `dasf-trace convert` / `merge` and tests, on the caller's thread.
 * Events are encoded as they are added (so their strings need only live for
 * the call), cut into chunks of commit_threshold events (fewer when a chunk
 * reaches the DASF_CHUNK_* limits of internal.h), and appended with
 * the FileDatabase's protocol (dasf_file_append: flock, one write, fsync,
 * truncate back on failure).  A chunk that could not be appended stays
 * encoded in memory and is retried first by the next flush: nothing is
 * lost and nothing is written twice.
 */
#include "append.h"
#include "archive.h"
#include "db.h"
#include "encode.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dasf_writer {
    char *path;
    dasf_append_fd out;
    int layout;
    int64_t threshold;
    double lock_timeout;
    bool flush;
    bool follow; /* follow a symbolic link at path */
    dasf_chunk_enc *enc;
    dasf_buf pending; /* encoded chunk(s) not yet appended */
    dasf_chunk_origin origin;
    char host[64], clock[32];
    int origin_given;
};

int dasf_writer_open(dasf_writer **out, const char *path, const dasf_file_db_options *opts) {
    if (!out) return DASF_EINVAL;
    dasf_file_db_options o;
    int trc = dasf_file_db_target(&o, opts, &path);
    if (trc) return trc;
    if (o.compression_level < 0 || o.compression_level > 19 ||
        o.default_byte_size < 1 || o.default_byte_size > 8 || o.commit_threshold < 1 ||
        !isfinite(o.lock_timeout) || o.lock_timeout < 0)
        return DASF_EINVAL;
    dasf_writer *w = calloc(1, sizeof *w);
    if (!w) return DASF_ENOMEM;
    w->out.fd = -1;
    w->path = strdup(path);
    int rc = w->path ? dasf_chunk_enc_create(&w->enc, o.compression_level, o.default_byte_size)
                     : DASF_ENOMEM;
    if (rc) {
        free(w->path);
        free(w);
        return rc;
    }
    w->layout = o.compression_level ? DASF_LAYOUT_ARCHIVE : DASF_LAYOUT_LEGACY;
    w->threshold = o.commit_threshold;
    w->lock_timeout = o.lock_timeout;
    w->flush = o.flush;
    w->follow = o.follow_symlinks;
    rc = o.remove_old_output_file ? dasf_trace_path_remove(path) : DASF_OK;
    if (rc == DASF_OK) rc = dasf_trace_path_check(path, w->follow);
    if (rc) {
        dasf_writer_close(w);
        return rc;
    }
    *out = w;
    return DASF_OK;
}

/* A value read back as a process/thread/event id → dasf_id. */
static int to_id(const dasf_value *v, dasf_id *id) {
    switch (v->type) {
    case DASF_VAL_INT: *id = dasf_id_int(v->v.i); return 0;
    case DASF_VAL_STR: *id = dasf_id_str(v->v.str.ptr); return 0;
    case DASF_VAL_NIL: *id = dasf_id_nil(); return 0;
    default: return DASF_EINVAL; /* ids are int, string or nil */
    }
}

/* Bytes of v in msgpack, stopping once past `limit` (returns limit + 1):
 * an event whose args encode to more than DASF_MAX_EVENT_BYTES is refused,
 * like the profiler refuses such a record, so what a dasf_writer writes
 * reads back within the reader's memory bound. */
static size_t hdr_size(size_t n, size_t small) {
    return n < small ? 1 : n < 65536 ? 3 : 5;
}
static size_t value_size(const dasf_value *v, size_t limit, int depth) {
    if (depth > 256) return limit + 1;
    switch (v->type) {
    case DASF_VAL_NIL:
    case DASF_VAL_BOOL: return 1;
    case DASF_VAL_INT:
    case DASF_VAL_UINT:
    case DASF_VAL_FLOAT: return 9;
    case DASF_VAL_STR: return hdr_size(v->v.str.len, 32) + 1 + v->v.str.len;
    case DASF_VAL_BIN: return 5 + v->v.str.len;
    case DASF_VAL_ARRAY: {
        size_t n = hdr_size(v->v.array.n, 16);
        for (uint32_t i = 0; i < v->v.array.n && n <= limit; i++)
            n += value_size(&v->v.array.items[i], limit, depth + 1);
        return n;
    }
    case DASF_VAL_MAP: {
        size_t n = hdr_size(v->v.map.n, 16);
        for (uint32_t i = 0; i < v->v.map.n && n <= limit; i++) {
            n += value_size(&v->v.map.items[i].key, limit, depth + 1);
            n += value_size(&v->v.map.items[i].val, limit, depth + 1);
        }
        return n;
    }
    }
    return limit + 1;
}

static int64_t ns_of(double s, int64_t ns) {
    if (ns != 0 || s == 0) return ns;
    return dasf_seconds_to_ns(s); /* an event built by hand with seconds only */
}

int dasf_writer_add(dasf_writer *w, const dasf_trace_event *ev) {
    if (!w || !ev || !ev->name || !dasf_phase_valid((int)ev->phase)) return DASF_EINVAL;
    if (ev->args.type != DASF_VAL_MAP) return DASF_EINVAL;
    if (value_size(&ev->args, DASF_MAX_EVENT_BYTES, 0) > DASF_MAX_EVENT_BYTES) return DASF_EINVAL;
    dasf_enc_event e = {0};
    e.name = ev->name;
    e.name_len = strlen(ev->name);
    e.phase = (char)ev->phase;
    e.scope = ev->phase == DASF_PHASE_INSTANT ? (char)ev->scope : 0;
    e.ts = ev->timestamp;
    e.ts_ns = ns_of(ev->timestamp, ev->timestamp_ns);
    if (ev->phase == DASF_PHASE_COMPLETE) {
        e.dur = ev->duration;
        e.dur_ns = ns_of(ev->duration, ev->duration_ns);
    }
    if (to_id(&ev->process_id, &e.pid) || to_id(&ev->thread_id, &e.tid)) return DASF_EINVAL;
    if (ev->has_id && to_id(&ev->id, &e.id)) return DASF_EINVAL;
    if (ev->cat) {
        e.cat = ev->cat;
        e.cat_len = strlen(ev->cat);
    }
    /* Kept as the file had them: integer seconds, nil args. */
    if (ev->timestamp_is_int) e.kept |= DASF_KEEP_TS_INT;
    if (ev->duration_is_int) e.kept |= DASF_KEEP_DUR_INT;
    if (ev->args_nil && ev->args.v.map.n == 0)
        e.kept |= DASF_KEEP_ARGS_NIL;
    else
        e.args_value = &ev->args;
    int rc = dasf_chunk_enc_add(w->enc, &e);
    if (rc) return rc;
    if ((int64_t)dasf_chunk_enc_count(w->enc) >= w->threshold || dasf_chunk_enc_full(w->enc))
        return dasf_writer_flush(w);
    return DASF_OK;
}

int dasf_writer_set_origin(dasf_writer *w, const dasf_chunk_info *origin) {
    if (!w || !origin) return DASF_EINVAL;
    int rc = dasf_writer_flush(w); /* earlier events keep the earlier origin */
    if (rc) return rc;
    w->origin.pid = origin->writer_pid;
    memcpy(w->host, origin->host, sizeof w->host);
    w->host[sizeof w->host - 1] = 0;
    memcpy(w->clock, origin->clock, sizeof w->clock);
    w->clock[sizeof w->clock - 1] = 0;
    w->origin.host = w->host;
    w->origin.clock = w->clock[0] ? w->clock : "monotonic";
    w->origin.realtime_offset_ns = origin->realtime_offset_ns;
    w->origin.dropped = origin->dropped;
    w->origin_given = 1;
    return DASF_OK;
}

int dasf_writer_flush(dasf_writer *w) {
    if (!w) return DASF_EINVAL;
    for (;;) {
        if (w->pending.len) {
            int rc = dasf_file_append(&w->out, w->path, w->layout, w->pending.data,
                                      w->pending.len, w->lock_timeout, w->flush, w->follow);
            if (rc) return rc; /* kept in pending: the next flush retries */
            w->pending.len = 0;
        }
        if (dasf_chunk_enc_count(w->enc) == 0) return DASF_OK;
        dasf_chunk_origin def = {0};
        const dasf_chunk_origin *o = &w->origin;
        if (!w->origin_given) {
            def.pid = getpid();
            def.host = dasf_hostname();
            def.clock = "monotonic";
            def.realtime_offset_ns = dasf_realtime_offset_ns();
            o = &def;
        }
        int rc = dasf_chunk_enc_finish(w->enc, o, &w->pending);
        if (rc) return rc;
        w->origin.dropped = 0; /* counted once, in the chunk just made */
    }
}

int dasf_writer_close(dasf_writer *w) {
    if (!w) return DASF_OK;
    int rc = dasf_writer_flush(w);
    if (w->out.fd >= 0) close(w->out.fd);
    dasf_chunk_enc_destroy(w->enc);
    dasf_buf_free(&w->pending);
    free(w->path);
    free(w);
    return rc;
}
