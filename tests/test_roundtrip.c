/* test_roundtrip.c — the encoder's round-trip property: seeded random mixes
 * of events (every phase; typed, raw-msgpack, value-tree or no args; ids of
 * each kind; sequential, overlapping and nested X events so that every time
 * coding and the compact form are chosen) → codec → file → reader, in both
 * layouts, compared field by field; then reader → dasf_writer → the other
 * layout → reader.  Plus the regression tests of the compact-X crash and
 * args corruption (issue 15, tests/data/convert_mode2_crash.*).
 *
 * Deterministic: seeds 1..N (DASF_RT_ITERS, default 150); DASF_RT_SEED=S
 * runs seed S only.  Every failure message names the seed and the event. */
#include "archive.h"
#include "encode.h"
#include "value.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* ---- deterministic random numbers (splitmix64) ------------------------------ */
typedef struct rng {
    uint64_t s;
} rng;
static uint64_t rnext(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint64_t rbelow(rng *r, uint64_t n) { return n ? rnext(r) % n : 0; }
static int rchance(rng *r, int percent) { return (int)rbelow(r, 100) < percent; }
static int64_t rrange(rng *r, int64_t lo, int64_t hi) { /* [lo, hi] */
    return lo + (int64_t)rbelow(r, (uint64_t)(hi - lo) + 1);
}

/* ---- canonical msgpack (smallest forms, float64: what ormsgpack writes) ----- */
static int buf_write(void *data, const char *p, size_t n) {
    return dasf_buf_append(data, p, n) ? -1 : 0;
}
static void pack_value(msgpack_packer *pk, const dasf_value *v) {
    switch (v->type) {
    case DASF_VAL_NIL: msgpack_pack_nil(pk); break;
    case DASF_VAL_BOOL: v->v.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case DASF_VAL_INT: msgpack_pack_int64(pk, v->v.i); break;
    case DASF_VAL_UINT: msgpack_pack_uint64(pk, v->v.u); break;
    case DASF_VAL_FLOAT: msgpack_pack_double(pk, v->v.f); break;
    case DASF_VAL_STR:
        msgpack_pack_str(pk, v->v.str.len);
        msgpack_pack_str_body(pk, v->v.str.ptr, v->v.str.len);
        break;
    case DASF_VAL_BIN:
        msgpack_pack_bin(pk, v->v.bin.len);
        msgpack_pack_bin_body(pk, v->v.bin.ptr, v->v.bin.len);
        break;
    case DASF_VAL_ARRAY:
        msgpack_pack_array(pk, v->v.array.n);
        for (uint32_t i = 0; i < v->v.array.n; i++) pack_value(pk, &v->v.array.items[i]);
        break;
    case DASF_VAL_MAP:
        msgpack_pack_map(pk, v->v.map.n);
        for (uint32_t i = 0; i < v->v.map.n; i++) {
            pack_value(pk, &v->v.map.items[i].key);
            pack_value(pk, &v->v.map.items[i].val);
        }
        break;
    }
}
static void canon(dasf_buf *out, const dasf_value *v) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    pack_value(&pk, v);
}
static void canon_id(dasf_buf *out, const dasf_id *id) {
    dasf_value v = {.type = DASF_VAL_NIL};
    if (id->kind == DASF_ID_INT) v.type = DASF_VAL_INT, v.v.i = id->i;
    if (id->kind == DASF_ID_STR)
        v.type = DASF_VAL_STR, v.v.str.ptr = id->s, v.v.str.len = (uint32_t)strlen(id->s);
    canon(out, &v);
}

/* ---- the generator ----------------------------------------------------------- */
static const char *const k_names[] = {"task", "iteration", "io", "zz", "x",
                                      "a name that is longer than thirty-two bytes"};
static const char *const k_keys[] = {"n",  "zz", "k", "iter", "",
                                     "a_key_name_that_is_over_32_bytes_long", "\xc3\xa9t\xc3\xa9"};
#define NKEYS (sizeof k_keys / sizeof *k_keys)
static const char k_phases[] = "XBEIbnestfCNODMR";

enum { AF_NONE, AF_TYPED, AF_RAW, AF_VALUE, AF_COUNT };

/* One generated event and the storage it points into (all arena-owned). */
typedef struct gen_event {
    dasf_enc_event e;
    int form;       /* AF_* */
    dasf_buf args;  /* canonical msgpack of the args map the reader must return */
} gen_event;

static char *rstr(rng *r, dasf_arena *a, size_t maxlen) {
    static const size_t lens[] = {0, 1, 5, 31, 32, 255, 256, 300};
    size_t n = lens[rbelow(r, sizeof lens / sizeof *lens)];
    if (n > maxlen) n = maxlen;
    char *s = dasf_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + rbelow(r, 26));
    s[n] = 0;
    return s;
}

static double rdouble(rng *r) {
    switch (rbelow(r, 5)) {
    case 0: return (double)rrange(r, -1000000, 1000000);
    case 1: return 0.0;
    case 2: return -0.0;
    case 3: { /* any finite bits */
        uint64_t b;
        double d;
        do {
            b = rnext(r);
            memcpy(&d, &b, 8);
        } while (!isfinite(d));
        return d;
    }
    default: return (double)(int64_t)rnext(r) / 1e9;
    }
}

/* A random value tree (depth-limited); map keys are strings unless any_keys. */
static void rvalue(rng *r, dasf_arena *a, dasf_value *v, int depth, int any_keys);
static void rmap(rng *r, dasf_arena *a, dasf_value *v, int depth, int any_keys, uint32_t n) {
    v->type = DASF_VAL_MAP;
    v->v.map.n = n;
    v->v.map.items = n ? dasf_arena_alloc(a, n * sizeof(dasf_kv)) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        dasf_kv *kv = &v->v.map.items[i];
        if (any_keys && rchance(r, 40)) {
            rvalue(r, a, &kv->key, depth + 1, 0);
            if (kv->key.type == DASF_VAL_MAP || kv->key.type == DASF_VAL_ARRAY)
                kv->key = (dasf_value){.type = DASF_VAL_INT, .v.i = (int64_t)i};
        } else {
            const char *k = k_keys[(i + rbelow(r, 2)) % NKEYS]; /* some repeat */
            kv->key.type = DASF_VAL_STR;
            kv->key.v.str.ptr = k;
            kv->key.v.str.len = (uint32_t)strlen(k);
        }
        rvalue(r, a, &kv->val, depth + 1, any_keys);
    }
}
static void rvalue(rng *r, dasf_arena *a, dasf_value *v, int depth, int any_keys) {
    int t = (int)rbelow(r, depth > 2 ? 7 : 9);
    switch (t) {
    case 0: v->type = DASF_VAL_NIL; break;
    case 1: v->type = DASF_VAL_BOOL, v->v.b = rchance(r, 50); break;
    case 2: {
        static const int64_t edge[] = {0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536,
                                       INT32_MIN, INT64_MIN, INT64_MAX, 4294967295ll};
        v->type = DASF_VAL_INT;
        v->v.i = rchance(r, 50) ? edge[rbelow(r, sizeof edge / sizeof *edge)] : (int64_t)rnext(r);
        break;
    }
    case 3: v->type = DASF_VAL_UINT, v->v.u = (uint64_t)INT64_MAX + 1 + rbelow(r, 1000); break;
    case 4: v->type = DASF_VAL_FLOAT, v->v.f = rdouble(r); break;
    case 5: {
        char *s = rstr(r, a, 300);
        v->type = DASF_VAL_STR, v->v.str.ptr = s, v->v.str.len = (uint32_t)strlen(s);
        break;
    }
    case 6: {
        char *s = rstr(r, a, 40);
        v->type = DASF_VAL_BIN, v->v.bin.ptr = s, v->v.bin.len = (uint32_t)strlen(s);
        break;
    }
    case 7: {
        uint32_t n = (uint32_t)rbelow(r, 4);
        v->type = DASF_VAL_ARRAY;
        v->v.array.n = n;
        v->v.array.items = n ? dasf_arena_alloc(a, n * sizeof(dasf_value)) : NULL;
        for (uint32_t i = 0; i < n; i++) rvalue(r, a, &v->v.array.items[i], depth + 1, any_keys);
        break;
    }
    default: rmap(r, a, v, depth, any_keys, (uint32_t)rbelow(r, 4)); break;
    }
}

static void rid(rng *r, dasf_arena *a, dasf_id *id, int allow_auto) {
    switch (rbelow(r, allow_auto ? 4 : 3)) {
    case 0: *id = dasf_id_int(rchance(r, 50) ? rrange(r, -3, 3) : (int64_t)rnext(r)); break;
    case 1: *id = dasf_id_str(rchance(r, 70) ? "node-07" : rstr(r, a, 40)); break;
    case 2: *id = dasf_id_nil(); break;
    default: id->kind = DASF_ID_AUTO; break;
    }
}

/* Typed args: keys from the pool (so names meet their schema again), every
 * arg type; the expected map is built alongside. */
static void rtyped(rng *r, dasf_arena *a, gen_event *g) {
    size_t n = 1 + rbelow(r, 9);
    dasf_arg *args = dasf_arena_alloc(a, n * sizeof *args);
    uint32_t *klen = dasf_arena_alloc(a, n * sizeof *klen);
    int shape = (int)rbelow(r, 3); /* 0: a fixed key list (schema hits) */
    msgpack_packer pk;
    msgpack_packer_init(&pk, &g->args, buf_write);
    msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++) {
        dasf_arg *x = &args[i];
        x->key = k_keys[shape == 0 ? i % NKEYS : rbelow(r, NKEYS)];
        klen[i] = (uint32_t)strlen(x->key);
        msgpack_pack_str(&pk, klen[i]);
        msgpack_pack_str_body(&pk, x->key, klen[i]);
        switch (rbelow(r, 6)) {
        case 0:
            *x = DASF_ARG_I64(x->key, rchance(r, 50) ? rrange(r, -40, 300) : (int64_t)rnext(r));
            msgpack_pack_int64(&pk, x->v.i);
            break;
        case 1:
            *x = DASF_ARG_U64(x->key, rnext(r));
            msgpack_pack_uint64(&pk, x->v.u);
            break;
        case 2:
            *x = DASF_ARG_F64(x->key, rdouble(r));
            msgpack_pack_double(&pk, x->v.d);
            break;
        case 3:
            *x = DASF_ARG_BOOL(x->key, rchance(r, 50));
            x->v.b ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
            break;
        case 4: {
            char *s = rstr(r, a, 300);
            *x = DASF_ARG_STR(x->key, s);
            msgpack_pack_str(&pk, strlen(s));
            msgpack_pack_str_body(&pk, s, strlen(s));
            break;
        }
        default: {
            dasf_value v;
            rvalue(r, a, &v, 1, 1);
            size_t at = g->args.len;
            canon(&g->args, &v);
            size_t sz = g->args.len - at;
            void *raw = dasf_arena_alloc(a, sz);
            memcpy(raw, g->args.data + at, sz);
            *x = DASF_ARG_MSGPACK(x->key, raw, sz);
            break;
        }
        }
    }
    g->e.args = args;
    g->e.n_args = n;
    g->e.key_lens = rchance(r, 50) ? klen : NULL;
}

/* Per-stream time state: what the generator builds the next start from. */
typedef struct tstate {
    int64_t prev_start, prev_end;
    int64_t open_start[8], open_end[8]; /* enclosing X events (nesting) */
    int depth;
} tstate;

static int64_t sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

/* Start and duration: sequential, overlapping (start close to the previous
 * start, long and shrinking: the start-to-start coding), nested inside an
 * open X event, ending close to the previous end, or anywhere at all. */
static void rtime(rng *r, tstate *t, int is_x, int64_t *start, int64_t *dur) {
    int mode = (int)rbelow(r, 10);
    int64_t s, d = 0;
    if (mode <= 2) { /* sequential */
        s = sat_add(t->prev_end, rrange(r, 0, rchance(r, 50) ? 100 : 10000000));
        d = rrange(r, 0, rchance(r, 50) ? 200 : 2000000000);
    } else if (mode <= 4) { /* overlapping, as the issue-15 reproduction */
        s = sat_add(t->prev_start, rrange(r, 0, 2000));
        d = rrange(r, 1000000000, 10000000000);
    } else if (mode <= 6 && t->depth > 0) { /* nested in the innermost open event */
        int64_t ps = t->open_start[t->depth - 1], pe = t->open_end[t->depth - 1];
        int64_t span = pe > ps ? pe - ps : 0;
        int64_t off = span > 0 ? (int64_t)rbelow(r, (uint64_t)span) : 0;
        s = ps + off;
        d = span - off > 0 ? (int64_t)rbelow(r, (uint64_t)(span - off)) : 0;
        if (rchance(r, 30)) t->depth--; /* leave the parent */
    } else if (mode <= 8) { /* ending just before / after the previous end */
        d = rrange(r, 0, 5000000000);
        s = sat_add(sat_add(t->prev_end, rrange(r, -100, 100)), -d);
    } else { /* anywhere: huge deltas, wrap-around */
        s = (int64_t)rnext(r);
        d = rchance(r, 20) ? INT64_MAX : (int64_t)rbelow(r, (uint64_t)INT64_MAX);
    }
    if (!is_x) d = 0;
    if (is_x && t->depth < 8 && rchance(r, 40) && sat_add(s, d) != INT64_MAX) {
        t->open_start[t->depth] = s;
        t->open_end[t->depth] = s + d;
        t->depth++;
    }
    *start = s;
    *dur = d;
    t->prev_start = s;
    t->prev_end = (int64_t)((uint64_t)s + (uint64_t)d);
}

/* The seconds the caller gave for a time, and its nanoseconds as the
 * library computes them: on the ns grid (dasf_ns_to_seconds: the clock,
 * *_ns calls), a few ulps off it (any double a program computes), whole
 * seconds given as an integer (a Python int: *is_int), time.time()-like
 * values and their differences (multiples of 2^-22 s), or any bits at all
 * (-0.0, NaN and infinities included: a legacy file may hold them). */
static void rseconds(rng *r, int64_t *ns, double *s, int *is_int) {
    *is_int = 0;
    switch (rbelow(r, 10)) {
    case 0: case 1: case 2: case 3: *s = dasf_ns_to_seconds(*ns); return;
    case 4: case 5: {
        double g = dasf_ns_to_seconds(*ns);
        uint64_t b;
        memcpy(&b, &g, 8);
        b += rbelow(r, 7) - 3;
        memcpy(s, &b, 8);
        if (!isfinite(*s)) *s = g;
        *ns = dasf_seconds_to_ns(*s);
        return;
    }
    case 6: {
        int64_t k = *ns / 1000000000;
        *ns = k * 1000000000;
        *s = (double)k;
        *is_int = 1;
        return;
    }
    case 7: case 8: {
        double base = rchance(r, 50) ? 1764547200.0 : 0.0; /* 2025-12-01, or a difference */
        *s = base + (double)(rbelow(r, (uint64_t)1 << 30)) * 0x1p-22;
        *ns = dasf_seconds_to_ns(*s);
        return;
    }
    default: {
        uint64_t b = rnext(r);
        if (rchance(r, 30)) b = rchance(r, 50) ? 0x8000000000000000ull : 0x7ff0000000000000ull;
        memcpy(s, &b, 8);
        *ns = dasf_seconds_to_ns(*s);
        return;
    }
    }
}

typedef struct gen_set {
    gen_event *ev;
    size_t n;
    dasf_arena arena;
} gen_set;

static void gen(uint64_t seed, size_t n, gen_set *out) {
    rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    memset(out, 0, sizeof *out);
    out->ev = calloc(n, sizeof *out->ev);
    out->n = n;
    dasf_arena *a = &out->arena;
    enum { NSTREAMS = 4 };
    dasf_id pids[NSTREAMS], tids[NSTREAMS];
    tstate ts[NSTREAMS] = {{0}};
    for (int k = 0; k < NSTREAMS; k++) {
        rid(&r, a, &pids[k], 0);
        rid(&r, a, &tids[k], 0);
        ts[k].prev_start = ts[k].prev_end = (int64_t)rbelow(&r, 2000000000000000000ull);
    }
    for (size_t i = 0; i < n; i++) {
        gen_event *g = &out->ev[i];
        dasf_enc_event *e = &g->e;
        int k = rchance(&r, 80) ? (int)(i / 20 % NSTREAMS) : (int)rbelow(&r, NSTREAMS);
        e->pid = pids[k];
        e->tid = tids[k];
        e->phase = rchance(&r, 60) ? 'X' : k_phases[rbelow(&r, 16)];
        e->name = rchance(&r, 85) ? k_names[rbelow(&r, 6)] : rstr(&r, a, 300);
        e->name_len = rchance(&r, 50) ? strlen(e->name) : 0;
        if (rchance(&r, 30)) e->scope = "gpt"[rbelow(&r, 3)];
        if (rchance(&r, 15)) {
            e->cat = rchance(&r, 50) ? "io" : rstr(&r, a, 40);
            e->cat_len = rchance(&r, 50) ? strlen(e->cat) : 0;
        }
        if (rchance(&r, 15)) rid(&r, a, &e->id, 1);
        rtime(&r, &ts[k], e->phase == 'X', &e->ts_ns, &e->dur_ns);
        int ts_int, dur_int;
        rseconds(&r, &e->ts_ns, &e->ts, &ts_int);
        rseconds(&r, &e->dur_ns, &e->dur, &dur_int);
        if (ts_int) e->kept |= DASF_KEEP_TS_INT;
        if (dur_int) e->kept |= DASF_KEEP_DUR_INT;
        if (e->phase != 'X' && rchance(&r, 30)) e->dur_ns = 12345, e->dur = 1.5; /* ignored */
        g->form = (int)rbelow(&r, AF_COUNT);
        if (g->form == AF_TYPED) {
            rtyped(&r, a, g);
        } else if (g->form == AF_RAW || g->form == AF_VALUE) {
            dasf_value *m = dasf_arena_alloc(a, sizeof *m);
            int any_keys = rchance(&r, 15); /* non-string keys: the verbatim-map form */
            uint32_t np = (uint32_t)rbelow(&r, 6);
            rmap(&r, a, m, 0, any_keys, np);
            canon(&g->args, m);
            if (g->form == AF_RAW) {
                void *raw = dasf_arena_alloc(a, g->args.len);
                memcpy(raw, g->args.data, g->args.len);
                e->args_msgpack = raw;
                e->args_msgpack_size = g->args.len;
            } else {
                e->args_value = m;
            }
        } else {
            dasf_value empty = {.type = DASF_VAL_MAP};
            canon(&g->args, &empty);
            if (rchance(&r, 50)) e->kept |= DASF_KEEP_ARGS_NIL; /* Python's args=None */
        }
    }
}

static void gen_free(gen_set *s) {
    for (size_t i = 0; i < s->n; i++) dasf_buf_free(&s->ev[i].args);
    free(s->ev);
    dasf_arena_free(&s->arena);
}

/* ---- what the reader returned, kept (deep copy) ------------------------------ */
typedef struct snap {
    char *name, *cat;
    int phase, scope;
    bool has_dur, has_id, ts_int, dur_int, args_nil;
    double ts, dur;
    int64_t ts_ns, dur_ns;
    dasf_buf pid, tid, id, args; /* canonical msgpack */
} snap;

typedef struct snap_set {
    snap *s;
    size_t n, cap;
} snap_set;

static void snap_free(snap_set *ss) {
    for (size_t i = 0; i < ss->n; i++) {
        snap *s = &ss->s[i];
        free(s->name);
        free(s->cat);
        dasf_buf_free(&s->pid);
        dasf_buf_free(&s->tid);
        dasf_buf_free(&s->id);
        dasf_buf_free(&s->args);
    }
    free(ss->s);
    memset(ss, 0, sizeof *ss);
}

/* Reads a whole file; the reader must see no damage. */
static void read_snaps(const char *path, snap_set *ss, uint64_t seed) {
    dasf_trace *r;
    memset(ss, 0, sizeof *ss);
    cr_assert_eq(dasf_trace_open(&r, path), 0, "seed %llu: open %s", (unsigned long long)seed, path);
    const dasf_trace_event *ev;
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        if (ss->n == ss->cap) {
            ss->cap = ss->cap ? ss->cap * 2 : 256;
            ss->s = realloc(ss->s, ss->cap * sizeof *ss->s);
        }
        snap *s = &ss->s[ss->n++];
        memset(s, 0, sizeof *s);
        s->name = strdup(ev->name);
        s->cat = ev->cat ? strdup(ev->cat) : NULL;
        s->phase = (int)ev->phase;
        s->scope = (int)ev->scope;
        s->has_dur = ev->has_duration;
        s->has_id = ev->has_id;
        s->ts_int = ev->timestamp_is_int;
        s->dur_int = ev->duration_is_int;
        s->args_nil = ev->args_nil;
        s->ts = ev->timestamp;
        s->dur = ev->duration;
        s->ts_ns = ev->timestamp_ns;
        s->dur_ns = ev->duration_ns;
        canon(&s->pid, &ev->process_id);
        canon(&s->tid, &ev->thread_id);
        canon(&s->id, &ev->id);
        canon(&s->args, &ev->args);
    }
    cr_assert_eq(rc, 0, "seed %llu: read error %d", (unsigned long long)seed, rc);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.chunks_damaged, 0, "seed %llu: %s: %s", (unsigned long long)seed, path,
                 st.first_damage);
    dasf_trace_close(r);
}

static int buf_eq(const dasf_buf *a, const dasf_buf *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}
static int bits_eq(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The expected read-back of generated event g from a layout. */
static void expect(const gen_event *g, int layout, snap *x) {
    const dasf_enc_event *e = &g->e;
    memset(x, 0, sizeof *x);
    x->name = (char *)e->name;
    x->cat = (char *)e->cat;
    x->phase = e->phase;
    x->has_dur = e->phase == 'X';
    x->has_id = e->id.kind != DASF_ID_AUTO;
    /* Both layouts give back the caller's doubles bit for bit (the
     * archive from version 3), integer times as integers, nil args as nil. */
    x->ts = e->ts;
    x->dur = x->has_dur ? e->dur : 0;
    x->ts_int = (e->kept & DASF_KEEP_TS_INT) != 0;
    x->dur_int = x->has_dur && (e->kept & DASF_KEEP_DUR_INT);
    x->args_nil = (e->kept & DASF_KEEP_ARGS_NIL) != 0;
    if (layout == DASF_LAYOUT_LEGACY) {
        x->scope = e->phase == 'I' ? (e->scope ? e->scope : 'g') : 0;
    } else {
        x->scope = e->phase == 'I' ? e->scope : 0;
        x->ts_ns = e->ts_ns;
        x->dur_ns = x->has_dur ? e->dur_ns : 0;
    }
    canon_id(&x->pid, &e->pid);
    canon_id(&x->tid, &e->tid);
    canon_id(&x->id, x->has_id ? &e->id : &(dasf_id){.kind = DASF_ID_NIL});
    x->args = g->args; /* borrowed */
}

enum { CMP_DOUBLES = 1, CMP_NS = 2 };

static void compare(const snap *got, const snap *want, int what, uint64_t seed, size_t i,
                    const char *stage) {
#define CK(cond, field)                                                                    \
    cr_assert(cond, "seed %llu, %s, event %zu: %s differs (DASF_RT_SEED=%llu reproduces)", \
              (unsigned long long)seed, stage, i, field, (unsigned long long)seed)
    CK(strcmp(got->name, want->name) == 0, "name");
    CK(got->phase == want->phase, "phase");
    CK(got->scope == want->scope, "scope");
    CK((got->cat == NULL) == (want->cat == NULL), "cat presence");
    CK(!got->cat || strcmp(got->cat, want->cat) == 0, "cat");
    CK(got->has_dur == want->has_dur, "has_duration");
    CK(got->has_id == want->has_id, "has_id");
    CK(got->ts_int == want->ts_int, "timestamp_is_int");
    CK(got->dur_int == want->dur_int, "duration_is_int");
    CK(got->args_nil == want->args_nil, "args_nil");
    CK(buf_eq(&got->pid, &want->pid), "process_id");
    CK(buf_eq(&got->tid, &want->tid), "thread_id");
    CK(buf_eq(&got->id, &want->id), "id");
    CK(buf_eq(&got->args, &want->args), "args");
    if (what & CMP_DOUBLES) {
        CK(bits_eq(got->ts, want->ts), "timestamp (bits)");
        CK(bits_eq(got->dur, want->dur), "duration (bits)");
    }
    if (what & CMP_NS) {
        CK(got->ts_ns == want->ts_ns, "timestamp_ns");
        CK(got->dur_ns == want->dur_ns, "duration_ns");
    }
#undef CK
}

/* ---- which codings the archive encoder chose (coverage of the property) ----- */
enum { CD_FULL_SPE, CD_FULL_EPE, CD_COMPACT_SPE, CD_COMPACT_EPE, CD_COMPACT_SPS, CD_SCHEMA,
       CD_COMPACT_FIX, CD_COUNT };
static uint64_t g_cover[AF_COUNT][CD_COUNT];

/* Walks the event arrays of the archive chunks in buf; event k of the file
 * is generated event k, so its coding is counted against its args form. */
static void cover(const dasf_buf *buf, const gen_set *gs) {
    size_t pos = 0, k = 0;
    while (pos + 8 <= buf->len) {
        cr_assert_eq(dasf_load_le32(buf->data + pos), DASF_CHUNK_MAGIC);
        pos += 8 + dasf_load_le32(buf->data + pos + 4);
        size_t zn = ZSTD_findFrameCompressedSize(buf->data + pos, buf->len - pos);
        cr_assert(!ZSTD_isError(zn));
        unsigned long long rn = ZSTD_getFrameContentSize(buf->data + pos, zn);
        uint8_t *raw = malloc(rn ? rn : 1);
        cr_assert_eq(ZSTD_decompress(raw, rn, buf->data + pos, zn), rn);
        pos += zn;
        dasf_mp c = {raw, raw + rn};
        cr_assert_eq(dasf_mp_skip(&c), 0); /* the chunk header */
        while (c.p < c.end) {
            uint32_t n = 0;
            int64_t code = 0;
            cr_assert_eq(dasf_mp_array(&c, &n), 0);
            cr_assert_eq(dasf_mp_int(&c, &code), 0);
            for (uint32_t j = 1; j < n; j++) cr_assert_eq(dasf_mp_skip(&c), 0);
            cr_assert_lt(k, gs->n);
            int cd;
            if (code < 0) {
                unsigned cc = (unsigned)(-1 - code);
                unsigned tm = (cc & DASF_CC_TMODE) >> 1;
                if (cc & DASF_CC_SCHEMA) g_cover[gs->ev[k].form][CD_SCHEMA]++;
                if (cc & DASF_CC_FIX) g_cover[gs->ev[k].form][CD_COMPACT_FIX]++;
                cd = tm == DASF_TM_START_PREV_START ? CD_COMPACT_SPS
                     : tm == DASF_TM_END_PREV_END   ? CD_COMPACT_EPE
                                                    : CD_COMPACT_SPE;
            } else {
                cd = (code & DASF_EC_TSEND) ? CD_FULL_EPE : CD_FULL_SPE;
            }
            g_cover[gs->ev[k].form][cd]++;
            k++;
        }
        free(raw);
    }
    cr_assert_eq(k, gs->n);
}

/* ---- one seed ----------------------------------------------------------------- */

/* Encodes gs into one layout (random chunk cuts); returns the file bytes. */
static void encode(const gen_set *gs, int level, int byte_size, rng *r, dasf_buf *out,
                   uint64_t seed) {
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, level, byte_size), 0);
    size_t cut = 1 + rbelow(r, 200);
    for (size_t i = 0; i < gs->n; i++) {
        int rc = dasf_chunk_enc_add(enc, &gs->ev[i].e);
        cr_assert_eq(rc, 0, "seed %llu level %d: event %zu refused (%d)", (unsigned long long)seed,
                     level, i, rc);
        if ((i + 1) % cut == 0) {
            cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, out), 0);
            cut = 1 + rbelow(r, 200);
        }
    }
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, out), 0);
    dasf_chunk_enc_destroy(enc);
}

/* Re-writes a read file through dasf_writer (what convert and merge do). */
static void rewrite_bs(const char *in, const char *out, int level, int byte_size) {
    unlink(out);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = level;
    o.default_byte_size = byte_size;
    o.commit_threshold = 97;
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, out, &o), 0);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, in), 0);
    const dasf_trace_event *ev;
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) cr_assert_eq(dasf_writer_add(w, ev), 0);
    cr_assert_eq(rc, 0);
    dasf_trace_close(r);
    cr_assert_eq(dasf_writer_close(w), 0);
}
static void rewrite(const char *in, const char *out, int level) { rewrite_bs(in, out, level, 8); }

static void files_equal(const char *a, const char *b, uint64_t seed, const char *what) {
    size_t na, nb;
    uint8_t *x = th_read_file(a, &na), *y = th_read_file(b, &nb);
    cr_assert(x && y);
    size_t i = 0;
    while (i < na && i < nb && x[i] == y[i]) i++;
    cr_assert(na == nb && i == na, "seed %llu: %s: files differ at byte %zu (%zu vs %zu bytes)",
              (unsigned long long)seed, what, i, na, nb);
    free(x);
    free(y);
}

static void one_seed(uint64_t seed, size_t n) {
    gen_set gs;
    gen(seed, n, &gs);
    rng r = {seed ^ 0x5bd1e995u};
    static const int levels[] = {1, 1, 1, 3, 19};
    int level = levels[rbelow(&r, 5)];
    const char *pa = th_tmp_file("rt.zst"), *pl = th_tmp_file("rt.msgpack");
    const char *pa2 = th_tmp_file("rt2.zst"), *pl2 = th_tmp_file("rt2.msgpack");

    dasf_buf arch = {0}, leg = {0};
    encode(&gs, level, 8, &r, &arch, seed);
    int byte_size = rchance(&r, 50) ? 8 : 4;
    encode(&gs, 0, byte_size, &r, &leg, seed);
    cover(&arch, &gs);
    cr_assert_eq(th_write_file(pa, arch.data, arch.len), 0);
    cr_assert_eq(th_write_file(pl, leg.data, leg.len), 0);
    dasf_buf_free(&arch);
    dasf_buf_free(&leg);

    snap_set A, L, A2, L2;
    read_snaps(pa, &A, seed);
    read_snaps(pl, &L, seed);
    cr_assert_eq(A.n, n, "seed %llu: archive has %zu events", (unsigned long long)seed, A.n);
    cr_assert_eq(L.n, n, "seed %llu: legacy has %zu events", (unsigned long long)seed, L.n);
    for (size_t i = 0; i < n; i++) {
        snap x;
        expect(&gs.ev[i], DASF_LAYOUT_ARCHIVE, &x);
        compare(&A.s[i], &x, CMP_NS | CMP_DOUBLES, seed, i, "archive");
        dasf_buf_free(&x.pid), dasf_buf_free(&x.tid), dasf_buf_free(&x.id);
        expect(&gs.ev[i], DASF_LAYOUT_LEGACY, &x);
        compare(&L.s[i], &x, CMP_DOUBLES, seed, i, "legacy");
        dasf_buf_free(&x.pid), dasf_buf_free(&x.tid), dasf_buf_free(&x.id);
    }

    /* Reader → writer → the other layout → reader: what each layout keeps
     * survives (value-tree args: the encoder's third args form). */
    rewrite(pa, pl2, 0);
    rewrite(pl, pa2, level);
    read_snaps(pl2, &L2, seed);
    read_snaps(pa2, &A2, seed);
    cr_assert_eq(L2.n, n);
    cr_assert_eq(A2.n, n);
    for (size_t i = 0; i < n; i++) {
        snap want = A.s[i];
        if (want.phase == 'I' && !want.scope) want.scope = 'g'; /* legacy writes the default */
        compare(&L2.s[i], &want, CMP_DOUBLES, seed, i, "archive -> legacy");
        want = L.s[i];
        compare(&A2.s[i], &want, CMP_NS | CMP_DOUBLES, seed, i, "legacy -> archive");
    }
    /* legacy -> archive -> legacy is byte for byte the original */
    const char *pl3 = th_tmp_file("rt3.msgpack");
    rewrite_bs(pa2, pl3, 0, byte_size);
    files_equal(pl, pl3, seed, "legacy -> archive -> legacy");
    snap_free(&A), snap_free(&L), snap_free(&A2), snap_free(&L2);
    gen_free(&gs);
}

static long env_long(const char *name, long def) {
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : def;
}

Test(roundtrip, random_event_mixes_both_layouts, .timeout = 600) {
    long only = env_long("DASF_RT_SEED", 0), iters = env_long("DASF_RT_ITERS", 150);
    memset(g_cover, 0, sizeof g_cover);
    for (long s = only ? only : 1; s <= (only ? only : iters); s++) one_seed((uint64_t)s, 400);
    if (only) return;
    /* The property covered what it claims: each args form met the compact
     * start-to-start coding (the issue-15 crash path) and the full forms;
     * typed args met their schema. */
    static const char *const form[] = {"none", "typed", "raw msgpack", "value tree"};
    for (int f = 0; f < AF_COUNT; f++) {
        cr_assert_gt(g_cover[f][CD_COMPACT_SPS], 0, "no compact start-to-start event with %s args",
                     form[f]);
        cr_assert_gt(g_cover[f][CD_FULL_SPE], 0, "no full-form start coding with %s args", form[f]);
        cr_assert_gt(g_cover[f][CD_FULL_EPE], 0, "no full-form end coding with %s args", form[f]);
    }
    cr_assert_gt(g_cover[AF_TYPED][CD_SCHEMA], 0, "no schema event");
    cr_assert_gt(g_cover[AF_TYPED][CD_COMPACT_FIX], 0, "no compact event with exact doubles");
    cr_assert_gt(g_cover[AF_TYPED][CD_COMPACT_EPE], 0, "no compact end coding");
    cr_assert_gt(g_cover[AF_TYPED][CD_COMPACT_SPE], 0, "no compact start coding");
    for (int f = 0; f < AF_COUNT; f++)
        if (f != AF_TYPED) cr_assert_eq(g_cover[f][CD_SCHEMA], 0, "%s args used a schema", form[f]);
}

/* ---- regressions: issue 15's compact-X reproductions ------------------------------ */

/* Three overlapping X events (start-to-start coding is shortest) with raw
 * msgpack args {"n": 1}, after one typed-args event {"zz": 77}: the flusher
 * crashed, or wrote {"zz": 77} for every {"n": 1}. */
static void overlapping_raw_args(int level, int typed_first) {
    const char *path = th_tmp_file(level ? "ov.zst" : "ov.msgpack");
    unlink(path);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = level;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    static const unsigned char mp[] = {0x81, 0xa1, 'n', 0x01};
    if (typed_first) {
        dasf_arg a = DASF_ARG_I64("zz", 77);
        cr_assert_eq(dasf_record_complete_args(p, "typed", 0.5, 0.1, &a, 1), 0);
    }
    for (int i = 0; i < 3; i++) {
        dasf_record_opts ro = {.args_msgpack = mp, .args_msgpack_size = sizeof mp};
        cr_assert_eq(dasf_profiler_record_complete_event(p, "task", 1.0 + i * 1e-6, 10.0 - 3.0 * i,
                                                         &ro),
                     0);
    }
    cr_assert_eq(dasf_profiler_commit(p), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    snap_set ss;
    read_snaps(path, &ss, 0);
    cr_assert_eq(ss.n, 3u + (unsigned)typed_first);
    static const uint8_t zz[] = {0x81, 0xa2, 'z', 'z', 77};
    size_t i = 0;
    if (typed_first) {
        cr_assert_eq(ss.s[0].args.len, sizeof zz);
        cr_assert_eq(memcmp(ss.s[0].args.data, zz, sizeof zz), 0);
        i = 1;
    }
    for (; i < ss.n; i++) {
        cr_assert_str_eq(ss.s[i].name, "task");
        cr_assert_eq(ss.s[i].args.len, sizeof mp, "event %zu", i);
        cr_assert_eq(memcmp(ss.s[i].args.data, mp, sizeof mp), 0, "event %zu: args changed", i);
    }
    snap_free(&ss);
}

Test(roundtrip, overlapping_x_with_raw_msgpack_args_does_not_crash_the_flusher) {
    overlapping_raw_args(1, 0);
    overlapping_raw_args(0, 0);
}

Test(roundtrip, raw_args_after_typed_args_keep_their_own_values) {
    overlapping_raw_args(1, 1);
    overlapping_raw_args(0, 1);
}

/* The same pattern read from a file and written again (convert, merge):
 * value-tree args on the compact path segfaulted. */
static void check_convert_input(const char *in) {
    snap_set src, dst;
    read_snaps(in, &src, 0);
    cr_assert_eq(src.n, 3);
    const char *out[2] = {th_tmp_file("cv.zst"), th_tmp_file("cv.msgpack")};
    for (int k = 0; k < 2; k++) {
        rewrite(in, out[k], k == 0 ? 1 : 0);
        read_snaps(out[k], &dst, 0);
        cr_assert_eq(dst.n, src.n);
        for (size_t i = 0; i < src.n; i++) {
            cr_assert(buf_eq(&dst.s[i].args, &src.s[i].args), "event %zu: args changed", i);
            cr_assert_eq(dst.s[i].ts_ns, src.s[i].ts_ns);
            cr_assert_eq(dst.s[i].dur_ns, src.s[i].dur_ns);
        }
        snap_free(&dst);
    }
    snap_free(&src);
}

Test(roundtrip, convert_input_with_overlapping_x_events_rewrites) {
    check_convert_input(DASF_TEST_DATA "/convert_mode2_crash.zst");
    check_convert_input(DASF_TEST_DATA "/convert_mode2_crash.msgpack");
}

/* The verbs themselves, when the CLI is built. */
Test(roundtrip, convert_and_merge_verbs_on_the_crash_inputs) {
    const char *bin = th_dasf_trace();
    cr_assert_not_null(bin, "DASF_TRACE_BIN is not set (ctest sets it)");
    char cmd[4096];
    const char *z = DASF_TEST_DATA "/convert_mode2_crash.zst";
    const char *m = DASF_TEST_DATA "/convert_mode2_crash.msgpack";
    const char *o1 = th_tmp_file("cli-conv.zst"), *o2 = th_tmp_file("cli-merge.zst");
    snprintf(cmd, sizeof cmd, "'%s' convert --to archive '%s' '%s'", bin, m, o1);
    cr_assert_eq(th_run(cmd, NULL), 0, "%s", cmd);
    cr_assert_eq(th_count_events(o1), 3);
    snprintf(cmd, sizeof cmd, "'%s' merge -o '%s' '%s' '%s'", bin, o2, z, m);
    cr_assert_eq(th_run(cmd, NULL), 0, "%s", cmd);
    cr_assert_eq(th_count_events(o2), 6);
    snap_set ss;
    read_snaps(o2, &ss, 0);
    static const uint8_t mp[] = {0x81, 0xa1, 'n', 0x01};
    for (size_t i = 0; i < ss.n; i++)
        cr_assert(ss.s[i].args.len == sizeof mp && !memcmp(ss.s[i].args.data, mp, sizeof mp));
    snap_free(&ss);
}

/* ---- files written by the Python module: legacy -> archive -> legacy is
 * byte for byte the original (doubles off the ns grid, ints, None args) --- */

static void python_file_round_trips(const char *in) {
    const char *a = th_tmp_file("py.zst"), *l = th_tmp_file("py2.msgpack");
    rewrite(in, a, 1);
    rewrite(a, l, 0);
    files_equal(in, l, 0, "dasf_writer: legacy -> archive -> legacy");
    /* the archive itself gives back the file's doubles bit for bit */
    snap_set x, y;
    read_snaps(in, &x, 0);
    read_snaps(a, &y, 0);
    cr_assert_eq(x.n, y.n);
    for (size_t i = 0; i < x.n; i++) compare(&y.s[i], &x.s[i], CMP_DOUBLES | CMP_NS, 0, i, "archive");
    snap_free(&x);
    snap_free(&y);
    /* the verbs */
    const char *bin = th_dasf_trace();
    cr_assert_not_null(bin, "DASF_TRACE_BIN is not set (ctest sets it)");
    const char *a2 = th_tmp_file("py-cli.zst"), *l2 = th_tmp_file("py-cli.msgpack");
    char cmd[4096];
    unlink(a2), unlink(l2);
    snprintf(cmd, sizeof cmd, "'%s' convert --to archive '%s' '%s' && '%s' convert --to legacy '%s' '%s'",
             bin, in, a2, bin, a2, l2);
    cr_assert_eq(th_run(cmd, NULL), 0, "%s", cmd);
    files_equal(in, l2, 0, "dasf-trace convert: legacy -> archive -> legacy");
}

Test(roundtrip, python_written_file_converts_back_byte_for_byte) {
    python_file_round_trips(DASF_TEST_DATA "/python_lossless.msgpack");
    python_file_round_trips(DASF_TEST_DATA "/python_bb.msgpack");
}

/* The committed file is what today's Python module writes (when the peer
 * copy is there, ../shared beside the clone), and a fresh one round-trips. */
Test(roundtrip, python_module_output_converts_back_byte_for_byte) {
    const char *peer = DASF_SOURCE_DIR "/../shared/peers/dasf/profiler.py";
    FILE *f = fopen(peer, "r");
    if (!f) {
        cr_log_info("no %s: only the committed golden file is checked", peer);
        return;
    }
    fclose(f);
    const char *fresh = th_tmp_file("fresh.msgpack");
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "PYTHONPATH='%s/../shared/peers/dasf' %s '%s/tests/py/write_python_lossless.py' '%s' 2>&1",
             DASF_SOURCE_DIR, TH_PYTHON, DASF_SOURCE_DIR, fresh);
    cr_assert_eq(th_run(cmd, &out), 0, "%s", out);
    free(out);
    files_equal(fresh, DASF_TEST_DATA "/python_lossless.msgpack", 0,
                "the golden file is not the module's output");
    python_file_round_trips(fresh);
}

/* ---- older format versions still read ---------------------------------------
 * tests/data/format_v2.zst: four version 2 chunks (compact events, schemas,
 * start-to-start coding, ext fields) written by the format-2 library from
 * tests/data/format_v2_gen.c, with format_v2_twin.msgpack, the same events
 * in the legacy layout.  (Version 1 chunks: test_reader.) */
Test(roundtrip, version_2_archive_reads_as_its_legacy_twin) {
    snap_set a, l;
    read_snaps(DASF_TEST_DATA "/format_v2.zst", &a, 0);
    read_snaps(DASF_TEST_DATA "/format_v2_twin.msgpack", &l, 0);
    cr_assert_eq(a.n, 156);
    cr_assert_eq(l.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        snap want = l.s[i];
        /* version 2 stored nanoseconds only: its doubles are ns / 1e9 */
        want.ts = dasf_ns_to_seconds(want.ts_ns);
        want.dur = dasf_ns_to_seconds(want.dur_ns);
        compare(&a.s[i], &want, CMP_NS | CMP_DOUBLES, 0, i, "version 2 archive vs legacy twin");
    }
    snap_free(&a);
    snap_free(&l);
}

/* ---- the one seconds <-> nanoseconds rule, at its edges ------------------------ */
Test(roundtrip, seconds_to_ns_is_exact_rounds_halves_away_and_saturates) {
    /* exact values (computed with Python's fractions, not with doubles) */
    cr_assert_eq(dasf_seconds_to_ns(1764547200.123456789), 1764547200123456717ll);
    cr_assert_eq(dasf_seconds_to_ns(0.7107808589935303), 710780859);
    cr_assert_eq(dasf_seconds_to_ns(9223372036.854774), 9223372036854774475ll);
    cr_assert_eq(dasf_seconds_to_ns(-9223372036.854774), -9223372036854774475ll);
    cr_assert_eq(dasf_seconds_to_ns(123.45678901234568), 123456789012ll);
    /* near-halves: the double is below or above the half, whatever f * 1e9
     * rounds to (values from Python's fractions) */
    cr_assert_eq(dasf_seconds_to_ns(1.5e-9), 1);
    cr_assert_eq(dasf_seconds_to_ns(-1.5e-9), -1);
    cr_assert_eq(dasf_seconds_to_ns(2.5e-9), 3);
    cr_assert_eq(dasf_seconds_to_ns(-2.5e-9), -3);
    cr_assert_eq(dasf_seconds_to_ns(3.5e-9), 3);
    cr_assert_eq(dasf_seconds_to_ns(4.5e-9), 4);
    cr_assert_eq(dasf_seconds_to_ns(0.5e-9), 1);
    cr_assert_eq(dasf_seconds_to_ns(-0.5e-9), -1);
    cr_assert_eq(dasf_seconds_to_ns(1.0000000005), 1000000001);
    /* halves (exact in binary) go away from zero */
    cr_assert_eq(dasf_seconds_to_ns(0x1p-10), 976563);   /* 976562.5 ns */
    cr_assert_eq(dasf_seconds_to_ns(-0x1p-10), -976563);
    cr_assert_eq(dasf_seconds_to_ns(0x1p-31), 0);        /* 0.4657 ns */
    cr_assert_eq(dasf_seconds_to_ns(0.0), 0);
    cr_assert_eq(dasf_seconds_to_ns(-0.0), 0);
    cr_assert_eq(dasf_seconds_to_ns(5e-324), 0);
    /* one overflow rule: saturate; NaN is 0 */
    cr_assert_eq(dasf_seconds_to_ns(9223372036.854775807), INT64_MAX);
    cr_assert_eq(dasf_seconds_to_ns(1e300), INT64_MAX);
    cr_assert_eq(dasf_seconds_to_ns(-1e300), INT64_MIN);
    cr_assert_eq(dasf_seconds_to_ns(INFINITY), INT64_MAX);
    cr_assert_eq(dasf_seconds_to_ns(-INFINITY), INT64_MIN);
    cr_assert_eq(dasf_seconds_to_ns(NAN), 0);
    /* monotone over the last doubles below the limit */
    double s = 9223372036.854774;
    int64_t prev = dasf_seconds_to_ns(s);
    for (int i = 0; i < 4; i++) {
        s = nextafter(s, INFINITY);
        int64_t v = dasf_seconds_to_ns(s);
        cr_assert_geq(v, prev);
        prev = v;
    }
    /* ns -> s -> ns is the identity below 2^52 ns, s -> ns -> s for every
     * double of at least 2^-22 s resolution (time.time() values) */
    rng r = {42};
    for (int i = 0; i < 100000; i++) {
        int64_t n = (int64_t)(rnext(&r) >> 12) * (rchance(&r, 50) ? 1 : -1);
        cr_assert_eq(dasf_seconds_to_ns(dasf_ns_to_seconds(n)), n, "%lld", (long long)n);
        double t = 1764547200.0 + (double)rbelow(&r, (uint64_t)1 << 30) * 0x1p-22;
        cr_assert_eq(dasf_ns_to_seconds(dasf_seconds_to_ns(t)), t, "%.17g", t);
    }
    cr_assert_eq(dasf_ns_to_seconds(INT64_MAX), 9223372036.854775807);
    cr_assert_eq(dasf_ns_to_seconds(INT64_MIN), -9223372036.854775808);
    cr_assert_eq(dasf_ns_to_seconds(1500000000), 1.5);
}

/* ---- the flusher's per-ring string memo (issue 14) ------------------------------
 * Names and arg keys copied into a ring are interned through a memo verified
 * by length and content.  Property: every event's name and keys read back as
 * recorded when the caller reuses one name buffer and one buffer per key
 * position with changing contents (same lengths, different bytes; different
 * lengths; more keys than the memo has slots), from two threads (two rings),
 * with chunks cut at random points (commits and a small threshold). */
#include <pthread.h>

#define MEMO_EVENTS 6000
#define MEMO_MAXARGS 11 /* > DASF_ENC_MEMO_KEYS */
static const char *const memo_names[] = {
    "aaaa", "aaab", "baaa", "abca", "compute", "computf", "x", "y",
    "halo_exchange_long_name_12345", "halo_exchange_long_name_12346", "halo_exchange_long_name_2234"};
static const char *const memo_keys[] = {"step", "stex", "blk", "blc", "kk", "k"};
#define NELEM(a) (sizeof(a) / sizeof(a)[0])

typedef struct memo_plan {
    uint8_t name, nargs, key[MEMO_MAXARGS];
} memo_plan;

typedef struct memo_job {
    dasf_profiler *p;
    int who;
    memo_plan plan[MEMO_EVENTS];
    int fails;
} memo_job;

static void memo_key(char *out, size_t cap, unsigned variant, unsigned pos) {
    snprintf(out, cap, "%s%u", memo_keys[variant], pos); /* distinct across positions */
}

static void *memo_record(void *arg) {
    memo_job *j = arg;
    rng r = {(uint64_t)j->who * 7919 + 11};
    char name[64], keys[MEMO_MAXARGS][32];
    for (int k = 0; k < MEMO_EVENTS; k++) {
        memo_plan *pl = &j->plan[k];
        /* runs of one name, then switches: what the memo sees in practice */
        pl->name = k && rchance(&r, 60) ? j->plan[k - 1].name : (uint8_t)rbelow(&r, NELEM(memo_names));
        pl->nargs = (uint8_t)(rchance(&r, 80) ? 2 : rbelow(&r, MEMO_MAXARGS + 1));
        strcpy(name, memo_names[pl->name]);
        dasf_arg a[MEMO_MAXARGS + 2];
        a[0] = (dasf_arg)DASF_ARG_I64("who", j->who);
        a[1] = (dasf_arg)DASF_ARG_I64("seq", k);
        for (unsigned i = 0; i < pl->nargs; i++) {
            pl->key[i] = (uint8_t)(k && rchance(&r, 70) ? j->plan[k - 1].key[i] % NELEM(memo_keys)
                                                        : rbelow(&r, NELEM(memo_keys)));
            memo_key(keys[i], sizeof keys[i], pl->key[i], i);
            a[2 + i] = (dasf_arg)DASF_ARG_I64(keys[i], (int64_t)k * 100 + i);
        }
        if (dasf_record_complete_args(j->p, name, 1.0 + k * 1e-6, 1e-7, a, 2 + pl->nargs) != 0)
            j->fails++;
        if (rchance(&r, 1)) dasf_profiler_commit(j->p);
        /* the buffers now hold other bytes before the flusher reads the ring */
        memset(name, 'z', sizeof name - 1);
        name[sizeof name - 1] = 0;
        for (unsigned i = 0; i < pl->nargs; i++) strcpy(keys[i], "stale");
    }
    return NULL;
}

Test(roundtrip, reused_name_and_key_buffers_read_back_as_recorded) {
    const char *path = th_path(th_tmpdir(), "memo.msgpack.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.commit_threshold = 300;
    o.overflow = DASF_OVERFLOW_BLOCK;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    static memo_job jobs[2];
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].p = p;
        jobs[t].who = t;
        cr_assert_eq(pthread_create(&th[t], NULL, memo_record, &jobs[t]), 0);
    }
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    cr_assert_eq(jobs[0].fails + jobs[1].fails, 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);

    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    static unsigned char seen[2][MEMO_EVENTS];
    memset(seen, 0, sizeof seen);
    long n = 0;
    while (dasf_trace_next(r, &ev) == 1) {
        const dasf_value *who = dasf_value_map_get(&ev->args, "who");
        const dasf_value *seq = dasf_value_map_get(&ev->args, "seq");
        cr_assert(who && seq && who->type == DASF_VAL_INT && seq->type == DASF_VAL_INT);
        cr_assert(who->v.i >= 0 && who->v.i < 2 && seq->v.i >= 0 && seq->v.i < MEMO_EVENTS);
        int w = (int)who->v.i, k = (int)seq->v.i;
        const memo_plan *pl = &jobs[w].plan[k];
        cr_assert_str_eq(ev->name, memo_names[pl->name], "thread %d event %d", w, k);
        cr_assert_eq(ev->args.v.map.n, 2u + pl->nargs, "thread %d event %d: %u args", w, k,
                     ev->args.v.map.n);
        for (unsigned i = 0; i < pl->nargs; i++) {
            char key[32];
            memo_key(key, sizeof key, pl->key[i], i);
            const dasf_value *v = dasf_value_map_get(&ev->args, key);
            cr_assert(v && v->type == DASF_VAL_INT && v->v.i == (int64_t)k * 100 + i,
                      "thread %d event %d: key %s", w, k, key);
        }
        cr_assert_eq(seen[w][k]++, 0, "thread %d event %d twice", w, k);
        n++;
    }
    dasf_trace_close(r);
    cr_assert_eq(n, 2L * MEMO_EVENTS);
}
