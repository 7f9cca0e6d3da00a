/*
 * fuzz_encoder.c — libFuzzer target: bytes → random events → written by a
 * real writer → read back → compared field by field; any difference aborts.
 *
 * Input: byte 0 picks the writer and the layout, byte 1 the chunking, then
 * events until the input runs out (at most 256).  Writers:
 *   0  the chunk encoder itself (dasf_chunk_enc: typed args with or without
 *      key lengths, raw msgpack args, value-tree args; any int64 times)
 *   1  a FileDatabase (dasf_db_record → ring → flusher → encoder → append):
 *      what the profiler does; commits at chunk boundaries
 *   2  dasf_writer (what convert and merge use: value-tree args and ids)
 * Layouts: archive zstd level 1 or 3, legacy with 8- or 2-byte prefixes.
 * Events: all 16 phases (X favoured, so compact X events, schemas and every
 * time mode are reached), overlapping and out-of-order times, doubles off
 * the nanosecond grid, durations up to int64, scopes, cats, int/str/nil
 * ids and automatic pid/tid, args of every msgpack type (non-string keys,
 * nesting, ext, float32, NaN).  Expected args are decoded by msgpack-c, an
 * independent decoder, and compared with what our reader returns.
 *
 * What must round-trip (docs/FORMAT.md, format version 3): the doubles bit
 * for bit in both layouts; archive: the ns given (from doubles:
 * dasf_seconds_to_ns), legacy: dasf_seconds_to_ns(double); integer seconds
 * and nil args kept as such (timestamp_is_int, duration_is_int, args_nil:
 * writers 0 and 2); names, phases, scopes (legacy writes 'g' for an I event
 * without one), cats, ids, args by value.
 */
#include "archive.h"
#include "encode.h"
#include "fuzz_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 160
#define MAX_ARGS 6

typedef struct fz_ev {
    dasf_enc_event e;     /* for the encoder (ids resolved) */
    dasf_event api;       /* for dasf_db_record */
    dasf_trace_event tev; /* for dasf_writer */
    dasf_arg args[MAX_ARGS];
    uint32_t key_lens[MAX_ARGS];
    size_t n_args;
    msgpack_sbuffer raw;    /* args_msgpack bytes, when the event uses them */
    msgpack_sbuffer wantb;  /* the expected args map, packed ... */
    msgpack_unpacked want;  /* ... and decoded by msgpack-c (pointing into wantb) */
    dasf_value want_tree;   /* the same as a dasf_value (value-tree writers) */
    dasf_value pid_v, tid_v, id_v;
    int64_t want_ts_ns, want_dur_ns;
    bool want_ts_int, want_dur_int, want_args_nil; /* kept as the file had them */
} fz_ev;

static fz_ev g_ev[MAX_EVENTS];
static size_t g_n;

static const char k_phases[16] = "XBEIbnestfCNODMR";
static const char *const k_names[] = {"k", "compute", "x y", "\xc3\xbc\xff"};
static const char *const k_keys[] = {"n", "m", "zz", "iter"};

/* a + b wrapping like the int64 it stands for (time deltas may overflow on
 * purpose: the encoder must take any int64). */
static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

static double off_grid(fz_in *in, int64_t ns) {
    /* ns seconds plus up to +-127 ps: not representable in whole ns */
    return (double)ns * 1e-9 + (double)((int)fz_u8(in) - 128) * 1e-12;
}

static double finite_bits(fz_in *in, double fallback) {
    uint64_t b = fz_bits(in, 8);
    double d;
    memcpy(&d, &b, sizeof d);
    return isfinite(d) ? d : fallback;
}

static int pack_write(void *data, const char *buf, size_t len) {
    return msgpack_sbuffer_write((msgpack_sbuffer *)data, buf, len);
}

static void make_id(fz_in *in, dasf_id *id, dasf_value *v, bool allow_auto, bool is_event_id) {
    int kind = fz_u8(in) % 4;
    memset(v, 0, sizeof *v);
    if (kind == 0 && !allow_auto) kind = 1;
    switch (kind) {
    case 0:
        *id = (dasf_id){DASF_ID_AUTO, 0, NULL};
        if (is_event_id) {
            v->type = DASF_VAL_NIL;
        } else { /* the real ids, as the library resolves them */
            v->type = DASF_VAL_INT; /* v.i: set by the caller */
        }
        break;
    case 1: {
        int64_t i = (int64_t)fz_bits(in, 1 + fz_u8(in) % 8);
        if (fz_u8(in) & 1) i = -i;
        *id = dasf_id_int(i);
        v->type = DASF_VAL_INT;
        v->v.i = i;
        break;
    }
    case 2: {
        const char *s = fz_str(in, 16);
        *id = dasf_id_str(s);
        v->type = DASF_VAL_STR;
        v->v.str.ptr = s;
        v->v.str.len = (uint32_t)strlen(s);
        break;
    }
    default:
        *id = dasf_id_nil();
        v->type = DASF_VAL_NIL;
        break;
    }
}

/* Builds event i from the input for writer `path_kind`. */
static void make_event(fz_in *in, fz_ev *ev, int path_kind, int64_t *prev_ns) {
    memset(&ev->e, 0, sizeof ev->e);
    memset(&ev->api, 0, sizeof ev->api);
    memset(&ev->tev, 0, sizeof ev->tev);
    ev->n_args = 0;
    uint8_t b = fz_u8(in);
    char phase = (b & 0x30) ? 'X' : k_phases[b & 15];
    uint8_t nb = fz_u8(in) % 8;
    const char *name = nb < 4 ? k_names[nb] : nb == 4 ? "" : fz_str(in, 24);

    /* times */
    int64_t ns, dns = 0;
    double s, ds = 0;
    uint8_t tm = fz_u8(in) % 5;
    switch (tm) {
    case 0: ns = wrap_add(*prev_ns, (int16_t)fz_bits(in, 2)); break; /* overlaps, reordering */
    case 1: ns = (int64_t)fz_bits(in, 8); break;           /* anywhere, wrap-around */
    case 2: ns = wrap_add(*prev_ns, (int64_t)fz_bits(in, 3)); break;
    case 3: ns = -(int64_t)fz_bits(in, 5); break;
    default: ns = (int64_t)fz_bits(in, 4) * 1000; break;
    }
    *prev_ns = ns;
    s = tm == 1 && (fz_u8(in) & 1) ? finite_bits(in, 0.5) : off_grid(in, ns);
    if (path_kind == 2 && ns == 0) s = 0; /* dasf_writer derives ns from s when ns is 0 */
    if (phase == 'X') {
        uint8_t dm = fz_u8(in) % 4;
        dns = dm == 0 ? (int64_t)fz_bits(in, 1)
            : dm == 1 ? (int64_t)fz_bits(in, 3)
            : dm == 2 ? (int64_t)(fz_bits(in, 8) >> 1)
                      : (int64_t)fz_bits(in, 5);
        ds = off_grid(in, dns);
        if (ds < 0 || (path_kind == 2 && dns == 0)) ds = 0;
    }
    /* Integer seconds kept as such (a Python int; writers 0 and 2 only). */
    ev->want_ts_int = ev->want_dur_int = ev->want_args_nil = false;
    if (path_kind != 1 && fz_u8(in) % 8 == 0) {
        ns = ns / 1000000000 * 1000000000;
        s = (double)(ns / 1000000000);
        *prev_ns = ns;
        ev->want_ts_int = true;
    }
    if (path_kind != 1 && phase == 'X' && fz_u8(in) % 8 == 0) {
        dns = dns / 1000000000 * 1000000000;
        ds = (double)(dns / 1000000000);
        ev->want_dur_int = true;
    }
    if (path_kind == 2 && ns == 0) s = 0; /* as above, after the rounding */
    if (path_kind == 1) { /* API: the library converts the doubles */
        ev->want_ts_ns = dasf_seconds_to_ns(s);
        ev->want_dur_ns = phase == 'X' ? dasf_seconds_to_ns(ds) : 0;
    } else {
        ev->want_ts_ns = ns;
        ev->want_dur_ns = dns;
    }
    char scope = 0;
    if (phase == 'I') {
        static const char sc[4] = {0, 'g', 'p', 't'};
        scope = sc[fz_u8(in) % 4];
    }
    dasf_id pid, tid, id;
    make_id(in, &pid, &ev->pid_v, path_kind == 1, false);
    make_id(in, &tid, &ev->tid_v, path_kind == 1, false);
    if (pid.kind == DASF_ID_AUTO) ev->pid_v.v.i = getpid();
    if (tid.kind == DASF_ID_AUTO) ev->tid_v.v.i = gettid();
    const char *cat = fz_u8(in) % 4 == 0 ? fz_str(in, 12) : NULL;
    make_id(in, &id, &ev->id_v, true, true);
    if (path_kind == 2 && id.kind == DASF_ID_AUTO) ev->id_v.type = DASF_VAL_NIL;

    /* args: the expected map is packed here and decoded by msgpack-c */
    msgpack_sbuffer *wantp = &ev->wantb;
    msgpack_sbuffer_clear(wantp);
    msgpack_packer pk;
    msgpack_packer_init(&pk, wantp, pack_write);
    msgpack_sbuffer_clear(&ev->raw);
    uint8_t am = fz_u8(in) % 4;
    bool typed = false, raw = false;
    if (path_kind == 2 && am != 0) am = 2; /* dasf_writer takes value trees */
    if (am == 0) {
        msgpack_pack_map(&pk, 0);
        ev->want_args_nil = path_kind != 1 && fz_u8(in) % 4 == 0; /* Python's None */
    } else if (am == 2) { /* one raw map (or, for writers 0/2, a value tree) */
        msgpack_packer rp;
        msgpack_packer_init(&rp, &ev->raw, pack_write);
        size_t n = fz_u8(in) % 5;
        bool str_keys = fz_u8(in) % 2;
        msgpack_pack_map(&rp, n);
        for (size_t i = 0; i < n; i++) {
            if (str_keys || fz_u8(in) % 3) {
                const char *k = fz_u8(in) % 2 ? k_keys[fz_u8(in) % 4] : fz_str(in, 10);
                msgpack_pack_str(&rp, strlen(k));
                msgpack_pack_str_body(&rp, k, strlen(k));
            } else {
                fz_pack_value(in, &rp, 0, true);
            }
            fz_pack_value(in, &rp, 3, false);
        }
        msgpack_sbuffer_write(wantp, ev->raw.data, ev->raw.size);
        raw = true;
    } else { /* typed args (am 3: with a nested msgpack value among them) */
        size_t n = fz_u8(in) % (MAX_ARGS + 1);
        msgpack_pack_map(&pk, n);
        for (size_t i = 0; i < n; i++) {
            dasf_arg *a = &ev->args[i];
            memset(a, 0, sizeof *a);
            a->key = fz_u8(in) % 4 ? k_keys[fz_u8(in) % 4] : fz_str(in, 10);
            ev->key_lens[i] = (uint32_t)strlen(a->key);
            msgpack_pack_str(&pk, ev->key_lens[i]);
            msgpack_pack_str_body(&pk, a->key, ev->key_lens[i]);
            int t = fz_u8(in) % (am == 3 ? 6 : 5);
            switch (t) {
            case 0:
                a->type = DASF_ARG_INT;
                a->v.i = (int64_t)fz_bits(in, 1 + fz_u8(in) % 8);
                if (fz_u8(in) & 1) a->v.i = -a->v.i;
                msgpack_pack_int64(&pk, a->v.i);
                break;
            case 1:
                a->type = DASF_ARG_UINT;
                a->v.u = fz_bits(in, 1 + fz_u8(in) % 8);
                msgpack_pack_uint64(&pk, a->v.u);
                break;
            case 2: {
                a->type = DASF_ARG_DOUBLE;
                uint64_t bits = fz_bits(in, 8);
                memcpy(&a->v.d, &bits, sizeof a->v.d);
                msgpack_pack_double(&pk, a->v.d);
                break;
            }
            case 3:
                a->type = DASF_ARG_BOOL;
                a->v.b = fz_u8(in) & 1;
                if (a->v.b)
                    msgpack_pack_true(&pk);
                else
                    msgpack_pack_false(&pk);
                break;
            case 4:
                a->type = DASF_ARG_STR;
                a->v.s = fz_str(in, 20);
                msgpack_pack_str(&pk, strlen(a->v.s));
                msgpack_pack_str_body(&pk, a->v.s, strlen(a->v.s));
                break;
            default: {
                msgpack_sbuffer one;
                msgpack_sbuffer_init(&one);
                msgpack_packer op;
                msgpack_packer_init(&op, &one, pack_write);
                fz_pack_value(in, &op, 3, false);
                char *raw_copy = malloc(one.size);
                if (!raw_copy) abort();
                memcpy(raw_copy, one.data, one.size);
                a->type = DASF_ARG_MSGPACK;
                a->v.raw.data = raw_copy;
                a->v.raw.size = one.size;
                msgpack_sbuffer_write(wantp, one.data, one.size);
                msgpack_sbuffer_destroy(&one);
                break;
            }
            }
        }
        ev->n_args = n;
        typed = true;
    }
    msgpack_unpacked_destroy(&ev->want);
    msgpack_unpacked_init(&ev->want);
    size_t off = 0;
    if (msgpack_unpack_next(&ev->want, wantp->data, wantp->size, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != wantp->size || ev->want.data.type != MSGPACK_OBJECT_MAP)
        fz_fail("the harness packed an args map msgpack-c cannot read back");
    ev->want_tree = fz_value_from(&ev->want.data);

    /* the three writers' views of the event */
    dasf_enc_event *e = &ev->e;
    e->name = name;
    e->name_len = strlen(name);
    e->phase = phase;
    e->scope = scope;
    e->ts_ns = ns;
    e->ts = s;
    if (phase == 'X') {
        e->dur_ns = dns;
        e->dur = ds;
    }
    e->pid = pid.kind == DASF_ID_AUTO ? dasf_id_int(ev->pid_v.v.i) : pid;
    e->tid = tid.kind == DASF_ID_AUTO ? dasf_id_int(ev->tid_v.v.i) : tid;
    e->cat = cat;
    e->cat_len = cat ? strlen(cat) : 0;
    e->id = id;
    e->kept = (unsigned char)((ev->want_ts_int ? DASF_KEEP_TS_INT : 0) |
                              (ev->want_dur_int ? DASF_KEEP_DUR_INT : 0) |
                              (ev->want_args_nil ? DASF_KEEP_ARGS_NIL : 0));
    uint8_t form = fz_u8(in) % 3;
    if (typed) {
        e->args = ev->args;
        e->n_args = ev->n_args;
        e->key_lens = form ? ev->key_lens : NULL;
    } else if (raw) {
        if (form == 0) {
            e->args_value = &ev->want_tree;
        } else {
            e->args_msgpack = ev->raw.data;
            e->args_msgpack_size = ev->raw.size;
        }
    }
    dasf_event *a = &ev->api;
    a->name = name;
    a->timestamp = s;
    a->duration = ds;
    a->phase = (dasf_phase)phase;
    a->scope = (dasf_scope)scope;
    a->process_id = pid;
    a->thread_id = tid;
    a->cat = cat;
    a->id = id;
    if (typed) {
        a->args = ev->args;
        a->n_args = ev->n_args;
    } else if (raw) {
        a->args_msgpack = ev->raw.data;
        a->args_msgpack_size = ev->raw.size;
    }
    dasf_trace_event *t = &ev->tev;
    t->name = name;
    t->phase = (dasf_phase)phase;
    t->scope = (dasf_scope)scope;
    t->timestamp = s;
    t->timestamp_ns = ns;
    if (phase == 'X') {
        t->duration = ds;
        t->duration_ns = dns;
        t->has_duration = true;
    }
    t->process_id = ev->pid_v;
    t->thread_id = ev->tid_v;
    t->cat = cat;
    t->has_id = id.kind != DASF_ID_AUTO;
    t->id = ev->id_v;
    t->args = ev->want_tree;
    t->timestamp_is_int = ev->want_ts_int;
    t->duration_is_int = ev->want_dur_int;
    t->args_nil = ev->want_args_nil;
}

static void free_event_args(fz_ev *ev) {
    for (size_t i = 0; i < ev->n_args; i++)
        if (ev->args[i].type == DASF_ARG_MSGPACK) free((void *)ev->args[i].v.raw.data);
    ev->n_args = 0;
}

static bool id_eq(const dasf_value *got, const dasf_value *want) {
    if (got->type != want->type) return false;
    switch (want->type) {
    case DASF_VAL_INT: return got->v.i == want->v.i;
    case DASF_VAL_STR:
        return got->v.str.len == want->v.str.len &&
               !memcmp(got->v.str.ptr, want->v.str.ptr, want->v.str.len);
    default: return true;
    }
}

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void compare(const char *what, size_t i, const fz_ev *w, const dasf_trace_event *g,
                    bool legacy) {
    const dasf_enc_event *e = &w->e;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "%s, event %zu (%c %s): ", what, i, e->phase, e->name);                   \
        fz_fail(__VA_ARGS__);                                                                      \
    } while (0)
    if (strcmp(g->name, e->name)) BAD("name '%s' read back as '%s'", e->name, g->name);
    if ((char)g->phase != e->phase) BAD("phase read back as %c", (char)g->phase);
    char want_scope = e->phase == 'I' ? (e->scope ? e->scope : legacy ? 'g' : 0) : 0;
    if ((char)g->scope != want_scope) BAD("scope %d read back as %d", want_scope, g->scope);
    /* Format version 3: both layouts keep the doubles bit for bit. */
    double want_ts = w->api.timestamp;
    if (!same_bits(g->timestamp, want_ts))
        BAD("timestamp %.17g read back as %.17g", want_ts, g->timestamp);
    int64_t want_ns = legacy ? dasf_seconds_to_ns(want_ts) : w->want_ts_ns;
    if (g->timestamp_ns != want_ns)
        BAD("timestamp_ns %lld read back as %lld", (long long)want_ns, (long long)g->timestamp_ns);
    if (g->timestamp_is_int != w->want_ts_int) BAD("timestamp_is_int %d", g->timestamp_is_int);
    if (e->phase == 'X') {
        if (!g->has_duration) BAD("X event without a duration");
        if (!same_bits(g->duration, w->api.duration))
            BAD("duration %.17g read back as %.17g", w->api.duration, g->duration);
        int64_t want_dns = legacy ? dasf_seconds_to_ns(w->api.duration) : w->want_dur_ns;
        if (g->duration_ns != want_dns)
            BAD("duration_ns %lld read back as %lld", (long long)want_dns,
                (long long)g->duration_ns);
        if (g->duration_is_int != w->want_dur_int) BAD("duration_is_int %d", g->duration_is_int);
    } else if (g->has_duration || g->duration_ns != 0 || g->duration_is_int) {
        BAD("a duration on a non-X event");
    }
    if (g->args_nil != w->want_args_nil) BAD("args_nil %d read back as %d", w->want_args_nil, g->args_nil);
    if (!id_eq(&g->process_id, &w->pid_v)) BAD("process_id differs");
    if (!id_eq(&g->thread_id, &w->tid_v)) BAD("thread_id differs");
    bool want_has_id = e->id.kind != DASF_ID_AUTO;
    if (g->has_id != want_has_id) BAD("has_id %d read back as %d", want_has_id, g->has_id);
    if (want_has_id && !id_eq(&g->id, &w->id_v)) BAD("id differs");
    if (!!g->cat != !!e->cat || (e->cat && strcmp(g->cat, e->cat)))
        BAD("cat '%s' read back as '%s'", e->cat ? e->cat : "(none)", g->cat ? g->cat : "(none)");
    const char *why = "";
    if (!fz_value_eq(&g->args, &w->want.data, &why)) BAD("args differ (%s)", why);
#undef BAD
}

static void read_and_compare(const char *path, const char *what, bool legacy) {
    dasf_trace *t;
    int rc = dasf_trace_open(&t, path);
    if (g_n == 0 && (rc == 0 || rc == DASF_ENOENT)) {
        if (rc == 0) {
            const dasf_trace_event *ev;
            if (dasf_trace_next(t, &ev) != 0) fz_fail("%s: events in an empty trace", what);
            dasf_trace_close(t);
        }
        return;
    }
    if (rc) fz_fail("%s: cannot open what was written: %s", what, dasf_strerror(rc));
    const dasf_trace_event *ev;
    size_t i = 0;
    while ((rc = dasf_trace_next(t, &ev)) == 1) {
        if (i >= g_n) fz_fail("%s: more events read than written (%zu)", what, g_n);
        compare(what, i, &g_ev[i], ev, legacy);
        i++;
    }
    if (rc < 0) fz_fail("%s: read error %s", what, dasf_strerror(rc));
    if (i != g_n) fz_fail("%s: %zu of %zu events read back", what, i, g_n);
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    if (st.chunks_damaged || st.bytes_damaged)
        fz_fail("%s: what we wrote reads as damaged: %s", what, st.first_damage);
    dasf_trace_close(t);
}

typedef struct layout_cfg {
    int level, byte_size;
} layout_cfg;
static const layout_cfg k_layouts[4] = {{1, 8}, {3, 8}, {0, 8}, {0, 2}};

static void via_encoder(const layout_cfg *L, size_t per_chunk) {
    static fz_file f;
    fz_file_init(&f, "encoder-out");
    dasf_chunk_enc *enc;
    if (dasf_chunk_enc_create(&enc, L->level, L->byte_size)) abort();
    dasf_buf out = {0};
    dasf_chunk_origin o = {.pid = 4242, .host = "fuzzhost", .clock = "monotonic", .realtime_offset_ns = 7};
    for (size_t i = 0; i < g_n; i++) {
        int rc = dasf_chunk_enc_add(enc, &g_ev[i].e);
        if (rc) fz_fail("encoder refused valid event %zu: %s", i, dasf_strerror(rc));
        if ((i + 1) % per_chunk == 0 && dasf_chunk_enc_finish(enc, &o, &out)) abort();
    }
    if (dasf_chunk_enc_finish(enc, &o, &out)) abort();
    dasf_chunk_enc_destroy(enc);
    fz_file_set(&f, out.data, out.len);
    dasf_buf_free(&out);
    read_and_compare(f.path, "chunk encoder", L->level == 0);
}

static void via_filedb(int li, size_t per_chunk) {
    static dasf_db *dbs[4];
    static char paths[4][4200];
    const layout_cfg *L = &k_layouts[li];
    if (!dbs[li]) {
        snprintf(paths[li], sizeof paths[li], "%s/filedb-%d", fz_dir(), li);
        dasf_file_db_options o = dasf_file_db_options_default();
        o.flush = false;
        o.compression_level = L->level;
        o.default_byte_size = L->byte_size;
        o.commit_threshold = 1 << 20; /* chunks only where the input commits */
        o.flush_interval = 3600;
        if (dasf_file_db_open(&dbs[li], paths[li], &o)) abort();
    }
    for (size_t i = 0; i < g_n; i++) {
        int rc = dasf_db_record(dbs[li], &g_ev[i].api);
        if (rc) fz_fail("FileDatabase refused valid event %zu: %s", i, dasf_strerror(rc));
        if ((i + 1) % per_chunk == 0 && (rc = dasf_db_commit(dbs[li])))
            fz_fail("commit: %s", dasf_strerror(rc));
    }
    int rc = dasf_db_commit(dbs[li]);
    if (rc) fz_fail("commit: %s", dasf_strerror(rc));
    read_and_compare(paths[li], "FileDatabase", L->level == 0);
    if (truncate(paths[li], 0) != 0 && g_n) abort(); /* the next input starts empty */
}

static void via_writer(const layout_cfg *L, size_t per_chunk) {
    static char path[4200];
    if (!path[0]) snprintf(path, sizeof path, "%s/writer-out", fz_dir());
    unlink(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.compression_level = L->level;
    o.default_byte_size = L->byte_size;
    o.commit_threshold = (int64_t)per_chunk;
    dasf_writer *w;
    if (dasf_writer_open(&w, path, &o)) abort();
    for (size_t i = 0; i < g_n; i++) {
        int rc = dasf_writer_add(w, &g_ev[i].tev);
        if (rc) fz_fail("dasf_writer refused valid event %zu: %s", i, dasf_strerror(rc));
    }
    int rc = dasf_writer_close(w);
    if (rc) fz_fail("dasf_writer_close: %s", dasf_strerror(rc));
    read_and_compare(path, "dasf_writer", L->level == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    uint8_t cfg = fz_u8(&in);
    int path_kind = cfg % 3;
    int li = (cfg / 3) % 4;
    size_t per_chunk = 1 + fz_u8(&in) % 48; /* commits are round trips to the flusher */
    int64_t prev = 1000000000;
    g_n = 0;
    while (in.n > 0 && g_n < MAX_EVENTS) {
        make_event(&in, &g_ev[g_n], path_kind, &prev);
        g_n++;
    }
    switch (path_kind) {
    case 0: via_encoder(&k_layouts[li], per_chunk); break;
    case 1: via_filedb(li, per_chunk); break;
    default: via_writer(&k_layouts[li], per_chunk); break;
    }
    for (size_t i = 0; i < g_n; i++) free_event_args(&g_ev[i]);
    fz_pool_reset();
    return 0;
}
