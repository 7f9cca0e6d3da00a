/* test_codec.c — every phase, arg type and id kind survives a round trip
 * through the codec, a file and the reader, in both layouts. */
#include "archive.h"
#include "encode.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_phases[] = "XBEIbnestfCNODMR";

/* A nested msgpack value: {"deps": [1, "two", nil], "ok": true}. */
static const uint8_t k_nested[] = {0x82, 0xa4, 'd', 'e', 'p', 's', 0x93, 0x01, 0xa3, 't',
                                   'w',  'o',  0xc0, 0xa2, 'o', 'k', 0xc3};

static dasf_arg g_args[7];

static void fill_args(void) {
    g_args[0] = DASF_ARG_I64("i", -1234567890123ll);
    g_args[1] = DASF_ARG_U64("u", 18446744073709551000ull); /* > INT64_MAX */
    g_args[2] = DASF_ARG_F64("d", 3.141592653589793);
    g_args[3] = DASF_ARG_BOOL("b", true);
    g_args[4] = DASF_ARG_STR("s", "hello, world");
    g_args[5] = DASF_ARG_MSGPACK("m", k_nested, sizeof k_nested);
    g_args[6] = DASF_ARG_I64("small", 7);
}

/* Event i of the test set: phase i % 16, ids and cat varied by i. */
static dasf_enc_event make_event(int i) {
    dasf_enc_event e = {0};
    static char names[64][32];
    snprintf(names[i % 64], sizeof names[0], "event-%d", i);
    e.name = names[i % 64];
    e.name_len = strlen(e.name);
    e.phase = k_phases[i % 16];
    e.ts_ns = 1700000000123456789ll + (int64_t)i * 1001 - (i % 3) * 50000;
    e.ts = 1700000.000123456789 + i * 1.5e-6 + 1e-10 * i; /* arbitrary double bits */
    if (e.phase == 'X') {
        e.dur_ns = 1000 + i * 37;
        e.dur = 1e-6 * (1 + i * 0.037) + 1e-13;
    }
    if (e.phase == 'I') e.scope = "gpt"[i % 3];
    switch (i % 3) {
    case 0: e.pid = dasf_id_int(4000 + i % 2); break;
    case 1: e.pid = dasf_id_str("node-07.cluster"); break;
    default: e.pid = dasf_id_nil(); break;
    }
    e.tid = (i % 4 == 0) ? dasf_id_nil() : dasf_id_int(-5 + i % 7);
    if (strchr("bnestfNOD", e.phase)) {
        e.cat = "io";
        e.cat_len = 2;
        switch (i % 3) {
        case 0: e.id = dasf_id_int(-42); break;
        case 1: e.id = dasf_id_str("req-9"); break;
        default: e.id = dasf_id_nil(); break;
        }
    }
    e.args = g_args;
    e.n_args = (size_t)(i % 8);
    return e;
}

static const char *write_chunks(int level, int n, int per_chunk) {
    const char *path = th_tmp_file(level ? "t.msgpack.zst" : "t.msgpack");
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, level, 8), 0);
    dasf_buf out = {0};
    for (int i = 0; i < n; i++) {
        dasf_enc_event e = make_event(i);
        cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0, "event %d", i);
        if ((i + 1) % per_chunk == 0) cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    }
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    dasf_chunk_enc_destroy(enc);
    cr_assert_eq(th_write_file(path, out.data, out.len), 0);
    dasf_buf_free(&out);
    return path;
}

static void check_id(const dasf_value *v, const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_INT:
        cr_assert_eq(v->type, DASF_VAL_INT);
        cr_assert_eq(v->v.i, id->i);
        break;
    case DASF_ID_STR:
        cr_assert_eq(v->type, DASF_VAL_STR);
        cr_assert_str_eq(v->v.str.ptr, id->s);
        break;
    default: cr_assert_eq(v->type, DASF_VAL_NIL);
    }
}

static void check_args(const dasf_value *args, size_t n) {
    cr_assert_eq(args->type, DASF_VAL_MAP);
    cr_assert_eq(args->v.map.n, n);
    for (size_t k = 0; k < n; k++) {
        const dasf_value *v = dasf_value_map_get(args, g_args[k].key);
        cr_assert_not_null(v, "arg %s", g_args[k].key);
        switch (g_args[k].type) {
        case DASF_ARG_INT:
            cr_assert_eq(v->type, DASF_VAL_INT);
            cr_assert_eq(v->v.i, g_args[k].v.i);
            break;
        case DASF_ARG_UINT:
            cr_assert_eq(v->type, DASF_VAL_UINT);
            cr_assert_eq(v->v.u, g_args[k].v.u);
            break;
        case DASF_ARG_DOUBLE:
            cr_assert_eq(v->type, DASF_VAL_FLOAT);
            cr_assert_eq(memcmp(&v->v.f, &g_args[k].v.d, 8), 0);
            break;
        case DASF_ARG_BOOL:
            cr_assert_eq(v->type, DASF_VAL_BOOL);
            cr_assert_eq(v->v.b, true);
            break;
        case DASF_ARG_STR:
            cr_assert_eq(v->type, DASF_VAL_STR);
            cr_assert_str_eq(v->v.str.ptr, "hello, world");
            break;
        case DASF_ARG_MSGPACK: {
            cr_assert_eq(v->type, DASF_VAL_MAP);
            const dasf_value *deps = dasf_value_map_get(v, "deps");
            cr_assert_not_null(deps);
            cr_assert_eq(deps->type, DASF_VAL_ARRAY);
            cr_assert_eq(deps->v.array.n, 3);
            cr_assert_eq(deps->v.array.items[0].v.i, 1);
            cr_assert_str_eq(deps->v.array.items[1].v.str.ptr, "two");
            cr_assert_eq(deps->v.array.items[2].type, DASF_VAL_NIL);
            cr_assert_eq(dasf_value_map_get(v, "ok")->v.b, true);
            break;
        }
        }
    }
}

static void read_back(const char *path, int level, int n) {
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    int i = 0, rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        dasf_enc_event e = make_event(i);
        cr_assert_str_eq(ev->name, e.name);
        cr_assert_eq((int)ev->phase, (int)e.phase, "event %d phase", i);
        if (level == 0) {
            cr_assert_eq(memcmp(&ev->timestamp, &e.ts, 8), 0, "legacy ts bits, event %d", i);
            if (e.phase == 'X') cr_assert_eq(memcmp(&ev->duration, &e.dur, 8), 0);
            cr_assert_eq((int)ev->scope, e.phase == 'I' ? (int)e.scope : 0);
        } else {
            cr_assert_eq(ev->timestamp_ns, e.ts_ns, "archive ts ns, event %d", i);
            if (e.phase == 'X') cr_assert_eq(ev->duration_ns, e.dur_ns);
            cr_assert_eq((int)ev->scope, e.phase == 'I' ? (int)e.scope : 0);
        }
        cr_assert_eq(ev->has_duration, e.phase == 'X');
        check_id(&ev->process_id, &e.pid);
        check_id(&ev->thread_id, &e.tid);
        if (e.cat)
            cr_assert_str_eq(ev->cat, e.cat);
        else
            cr_assert_null(ev->cat);
        cr_assert_eq(ev->has_id, e.id.kind != DASF_ID_AUTO);
        if (ev->has_id) check_id(&ev->id, &e.id);
        check_args(&ev->args, e.n_args);
        i++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(i, n);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.layout, level ? DASF_LAYOUT_ARCHIVE : DASF_LAYOUT_LEGACY);
    cr_assert_eq(st.chunks_damaged, 0);
    cr_assert_eq(st.events, (uint64_t)n);
    dasf_trace_close(r);
}

Test(codec, roundtrip_archive_every_phase_arg_and_id) {
    fill_args();
    const char *p = write_chunks(1, 160, 37);
    read_back(p, 1, 160);
}

Test(codec, roundtrip_archive_level_19) {
    fill_args();
    const char *p = write_chunks(19, 50, 1000);
    read_back(p, 19, 50);
}

Test(codec, roundtrip_legacy_every_phase_arg_and_id) {
    fill_args();
    const char *p = write_chunks(0, 160, 37);
    read_back(p, 0, 160);
}

Test(codec, chunk_metadata_is_readable) {
    fill_args();
    const char *p = write_chunks(3, 100, 40);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, p), 0);
    dasf_chunk_info ci;
    cr_assert_eq(dasf_trace_chunk(r, &ci), DASF_EINVAL); /* no chunk yet */
    const dasf_trace_event *ev;
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(dasf_trace_chunk(r, &ci), 0);
    cr_assert_eq(ci.index, 0);
    cr_assert_eq(ci.offset, 0);
    cr_assert_eq(ci.n_events, 40);
    cr_assert_eq(ci.compression_level, 3);
    cr_assert_str_eq(ci.clock, "monotonic");
    cr_assert_eq(ci.writer_pid, getpid());
    cr_assert_str_eq(ci.host, dasf_hostname());
    cr_assert(ci.ts_min_ns <= ev->timestamp_ns && ev->timestamp_ns <= ci.ts_max_ns);
    for (int i = 1; i < 41; i++) cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(dasf_trace_chunk(r, &ci), 0);
    cr_assert_eq(ci.index, 1);
    cr_assert_gt(ci.offset, 0);
    dasf_trace_close(r);
}

Test(codec, timestamps_extremes_roundtrip_to_the_ns) {
    int64_t ts[] = {0, -1, INT64_MAX, INT64_MIN, 1, 999999999999999999ll, -77};
    int64_t du[] = {0, INT64_MAX, 5, 1, 0, 123456789, 3};
    const char *path = th_tmp_file("x.zst");
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, 1, 8), 0);
    dasf_buf out = {0};
    for (int i = 0; i < 7; i++) {
        dasf_enc_event e = {.name = "x", .phase = 'X', .ts_ns = ts[i], .dur_ns = du[i]};
        e.pid = dasf_id_int(1);
        e.tid = dasf_id_int(i % 2);
        cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0);
    }
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    cr_assert_eq(dasf_chunk_enc_count(enc), 0);
    dasf_chunk_enc_destroy(enc);
    th_write_file(path, out.data, out.len);
    dasf_buf_free(&out);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(dasf_trace_next(r, &ev), 1);
        cr_assert_eq(ev->timestamp_ns, ts[i]);
        cr_assert_eq(ev->duration_ns, du[i]);
        cr_assert_eq(ev->thread_id.v.i, i % 2);
    }
    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_close(r);
}

Test(codec, bad_events_are_refused_and_leave_the_chunk_intact) {
    for (int level = 0; level <= 1; level++) {
        dasf_chunk_enc *enc;
        cr_assert_eq(dasf_chunk_enc_create(&enc, level, 8), 0);
        dasf_enc_event ok = {.name = "ok", .phase = 'B', .pid = dasf_id_int(1),
                             .tid = dasf_id_int(2)};
        cr_assert_eq(dasf_chunk_enc_add(enc, &ok), 0);
        dasf_enc_event bad = ok;
        bad.phase = 'Q';
        cr_assert_eq(dasf_chunk_enc_add(enc, &bad), DASF_EINVAL);
        bad = ok;
        uint8_t arr[] = {0x91, 0x01}; /* an array, not a map */
        bad.args_msgpack = arr;
        bad.args_msgpack_size = sizeof arr;
        cr_assert_eq(dasf_chunk_enc_add(enc, &bad), DASF_EINVAL);
        bad = ok;
        bad.pid.kind = DASF_ID_AUTO; /* unresolved */
        cr_assert_eq(dasf_chunk_enc_add(enc, &bad), DASF_EINVAL);
        cr_assert_eq(dasf_chunk_enc_count(enc), 1);
        dasf_buf out = {0};
        cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
        cr_assert_gt(out.len, 0);
        dasf_buf_free(&out);
        dasf_chunk_enc_destroy(enc);
    }
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, 20, 8), DASF_EINVAL);
    cr_assert_eq(dasf_chunk_enc_create(&enc, 0, 9), DASF_EINVAL);
}

Test(codec, empty_chunk_appends_nothing) {
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, 1, 8), 0);
    dasf_buf out = {0};
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    cr_assert_eq(out.len, 0);
    dasf_chunk_enc_destroy(enc);
}

Test(codec, args_map_with_non_string_keys_roundtrips) {
    /* {1: "one", "k": 2}: a Python dict may have int keys. */
    const uint8_t m[] = {0x82, 0x01, 0xa3, 'o', 'n', 'e', 0xa1, 'k', 0x02};
    for (int level = 0; level <= 1; level++) {
        const char *path = th_tmp_file(level ? "k.zst" : "k.msgpack");
        dasf_chunk_enc *enc;
        cr_assert_eq(dasf_chunk_enc_create(&enc, level, 8), 0);
        dasf_enc_event e = {.name = "n", .phase = 'I', .pid = dasf_id_int(1),
                            .tid = dasf_id_int(2), .args_msgpack = m, .args_msgpack_size = sizeof m};
        cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0);
        dasf_buf out = {0};
        cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
        th_write_file(path, out.data, out.len);
        dasf_buf_free(&out);
        dasf_chunk_enc_destroy(enc);
        dasf_trace *r;
        const dasf_trace_event *ev;
        cr_assert_eq(dasf_trace_open(&r, path), 0);
        cr_assert_eq(dasf_trace_next(r, &ev), 1);
        cr_assert_eq(ev->args.v.map.n, 2);
        cr_assert_eq(ev->args.v.map.items[0].key.type, DASF_VAL_INT);
        cr_assert_str_eq(ev->args.v.map.items[0].val.v.str.ptr, "one");
        cr_assert_eq(dasf_value_map_get(&ev->args, "k")->v.i, 2);
        dasf_trace_close(r);
    }
}

Test(codec, crc32c_known_values_hw_and_portable_agree) {
    cr_assert_eq(dasf_crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(dasf_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    uint8_t buf[1031];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 131 + 7);
    for (size_t off = 0; off < 9; off++) {
        uint32_t a = dasf_crc32c(0, buf + off, sizeof buf - off);
        cr_assert_eq(a, dasf_crc32c_portable(0, buf + off, sizeof buf - off));
        /* chaining equals one pass */
        uint32_t c = dasf_crc32c(0, buf + off, 100);
        c = dasf_crc32c(c, buf + off + 100, sizeof buf - off - 100);
        cr_assert_eq(a, c);
    }
}

/* Times given in ns only (ns_exact: how the flusher hands over records made
 * in ns or ticks) encode exactly as the same event with its doubles set to
 * dasf_ns_to_seconds(ns) — which is what the encoder was given before the
 * flusher stopped computing them — in both layouts, over random events. */
static int64_t rand_ns(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t r = *s >> 11;
    switch (r % 6) {
    case 0: return (int64_t)(r >> 3);                    /* beyond 2^53 at times */
    case 1: return -(int64_t)(r % 4000000000000ll);      /* negative */
    case 2: return (int64_t)(r % 1000) * 1000000000;     /* whole seconds */
    case 3: return r & 8 ? INT64_MAX : INT64_MIN;
    default: return 1700000000000000000ll + (int64_t)(r % 100000000000ll);
    }
}

Test(codec, ns_exact_times_encode_as_their_doubles) {
    dasf_chunk_origin o = {.pid = 4242, .host = "node1", .clock = "monotonic",
                           .realtime_offset_ns = 1700000000000000000ll};
    uint64_t seed = 99;
    fill_args();
    for (int level = 0; level <= 1; level++) {
        dasf_chunk_enc *a, *b;
        cr_assert_eq(dasf_chunk_enc_create(&a, level, 8), 0);
        cr_assert_eq(dasf_chunk_enc_create(&b, level, 8), 0);
        dasf_buf oa = {0}, ob = {0};
        for (int i = 0; i < 20000; i++) {
            dasf_enc_event e = make_event(i);
            e.ts_ns = rand_ns(&seed);
            e.dur_ns = e.phase == 'X' ? rand_ns(&seed) : 0;
            e.kept = (unsigned char)(i % 7 == 0 ? DASF_KEEP_TS_INT | DASF_KEEP_DUR_INT : 0);
            dasf_enc_event x = e;
            e.ts = dasf_ns_to_seconds(e.ts_ns);
            e.dur = dasf_ns_to_seconds(e.dur_ns);
            x.ts = x.dur = 12345.678; /* ignored */
            x.ns_exact = 1;
            cr_assert_eq(dasf_chunk_enc_add(a, &e), 0, "level %d event %d", level, i);
            cr_assert_eq(dasf_chunk_enc_add(b, &x), 0);
            if (i % 997 == 0) {
                cr_assert_eq(dasf_chunk_enc_finish(a, &o, &oa), 0);
                cr_assert_eq(dasf_chunk_enc_finish(b, &o, &ob), 0);
            }
        }
        cr_assert_eq(dasf_chunk_enc_finish(a, &o, &oa), 0);
        cr_assert_eq(dasf_chunk_enc_finish(b, &o, &ob), 0);
        cr_assert_gt(oa.len, 0);
        cr_assert_eq(oa.len, ob.len, "level %d", level);
        cr_assert(memcmp(oa.data, ob.data, oa.len) == 0, "level %d: bytes differ", level);
        dasf_buf_free(&oa);
        dasf_buf_free(&ob);
        dasf_chunk_enc_destroy(a);
        dasf_chunk_enc_destroy(b);
    }
}
