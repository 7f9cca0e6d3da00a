/* test_legacy.c — the legacy layout is the Python FileDatabase's, byte for
 * byte: golden bytes, a cross-check against python3-msgpack, files written
 * by Python read correctly, and files we write read by the Python logic. */
#include "archive.h"
#include "encode.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CompleteEvent("compute", 1.5, 0.25, process_id=123, thread_id=456,
 * args={"n": 1}) as ormsgpack packs it, after its 8-byte length (93). */
static const uint8_t k_golden_x[] = {
    0, 0, 0, 0, 0, 0, 0, 93, 0x87,
    0xa4, 'n', 'a', 'm', 'e', 0xa7, 'c', 'o', 'm', 'p', 'u', 't', 'e',
    0xa9, 't', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    0xa8, 'd', 'u', 'r', 'a', 't', 'i', 'o', 'n', 0xcb, 0x3f, 0xd0, 0, 0, 0, 0, 0, 0,
    0xa5, 'p', 'h', 'a', 's', 'e', 0xa1, 'X',
    0xaa, 'p', 'r', 'o', 'c', 'e', 's', 's', '_', 'i', 'd', 0x7b,
    0xa9, 't', 'h', 'r', 'e', 'a', 'd', '_', 'i', 'd', 0xcd, 0x01, 0xc8,
    0xa4, 'a', 'r', 'g', 's', 0x81, 0xa1, 'n', 0x01};

/* InstantEvent("tick", 2.0, scope="p", process_id="host-a", thread_id=None). */
static const uint8_t k_golden_i[] = {
    0, 0, 0, 0, 0, 0, 0, 81, 0x87,
    0xa4, 'n', 'a', 'm', 'e', 0xa4, 't', 'i', 'c', 'k',
    0xa9, 't', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0,
    0xa5, 'p', 'h', 'a', 's', 'e', 0xa1, 'I',
    0xa5, 's', 'c', 'o', 'p', 'e', 0xa1, 'p',
    0xaa, 'p', 'r', 'o', 'c', 'e', 's', 's', '_', 'i', 'd', 0xa6, 'h', 'o', 's', 't', '-', 'a',
    0xa9, 't', 'h', 'r', 'e', 'a', 'd', '_', 'i', 'd', 0xc0,
    0xa4, 'a', 'r', 'g', 's', 0x80};

static dasf_enc_event golden_x(void) {
    static const dasf_arg a[] = {DASF_ARG_I64("n", 1)};
    dasf_enc_event e = {.name = "compute", .phase = 'X', .ts = 1.5, .dur = 0.25,
                        .ts_ns = 1500000000, .dur_ns = 250000000};
    e.pid = dasf_id_int(123);
    e.tid = dasf_id_int(456);
    e.args = a;
    e.n_args = 1;
    return e;
}

static dasf_enc_event golden_i(void) {
    dasf_enc_event e = {.name = "tick", .phase = 'I', .ts = 2.0, .scope = 'p'};
    e.pid = dasf_id_str("host-a");
    e.tid = dasf_id_nil();
    return e;
}

static dasf_buf encode(const dasf_enc_event *evs, int n, int byte_size) {
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, 0, byte_size), 0);
    for (int i = 0; i < n; i++) cr_assert_eq(dasf_chunk_enc_add(enc, &evs[i]), 0);
    dasf_buf out = {0};
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    dasf_chunk_enc_destroy(enc);
    return out;
}

Test(legacy, golden_bytes) {
    dasf_enc_event evs[2] = {golden_x(), golden_i()};
    dasf_buf out = encode(evs, 2, 8);
    cr_assert_eq(out.len, sizeof k_golden_x + sizeof k_golden_i);
    cr_assert_eq(memcmp(out.data, k_golden_x, sizeof k_golden_x), 0);
    cr_assert_eq(memcmp(out.data + sizeof k_golden_x, k_golden_i, sizeof k_golden_i), 0);
    dasf_buf_free(&out);
}

/* The same dicts packed by python3-msgpack, printed as hex. */
Test(legacy, bytes_equal_python_msgpack) {
    const char *cmd =
        TH_PYTHON " -c 'import msgpack,sys\n"
        "evs=[dict(name=\"compute\",timestamp=1.5,duration=0.25,phase=\"X\",process_id=123,"
        "thread_id=456,args={\"n\":1}),\n"
        "dict(name=\"tick\",timestamp=2.0,phase=\"I\",scope=\"p\",process_id=\"host-a\","
        "thread_id=None,args={}),\n"
        "dict(name=\"e\"*40,timestamp=-0.1,phase=\"E\",process_id=-70000,thread_id=2**33,"
        "args={\"u\":2**64-1,\"s\":\"x\"*300,\"f\":True,\"d\":0.1})]\n"
        "out=b\"\"\n"
        "for e in evs:\n"
        "    d=msgpack.packb(e); out+=len(d).to_bytes(8,\"big\")+d\n"
        "sys.stdout.write(out.hex())'";
    char *hex = NULL;
    cr_assert_eq(th_run(cmd, &hex), 0, "python3-msgpack is needed");
    char big[301];
    memset(big, 'x', 300);
    big[300] = 0;
    dasf_arg a3[] = {DASF_ARG_U64("u", UINT64_MAX), DASF_ARG_STR("s", big),
                     DASF_ARG_BOOL("f", true), DASF_ARG_F64("d", 0.1)};
    dasf_enc_event e3 = {.name = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", .phase = 'E',
                         .ts = -0.1, .pid = dasf_id_int(-70000),
                         .tid = dasf_id_int(8589934592ll), .args = a3, .n_args = 4};
    dasf_enc_event evs[3] = {golden_x(), golden_i(), e3};
    dasf_buf out = encode(evs, 3, 8);
    cr_assert_eq(strlen(hex), 2 * out.len, "python wrote %zu bytes, we %zu", strlen(hex) / 2,
                 out.len);
    for (size_t i = 0; i < out.len; i++) {
        unsigned b;
        sscanf(hex + 2 * i, "%2x", &b);
        cr_assert_eq(out.data[i], b, "byte %zu differs", i);
    }
    free(hex);
    dasf_buf_free(&out);
}

Test(legacy, file_written_by_python_reads_correctly) {
    const char *path = th_tmp_file("py.msgpack");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, TH_PYTHON " %s/tests/py/write_legacy.py %s", DASF_SOURCE_DIR,
             path);
    cr_assert_eq(th_run(cmd, NULL), 0);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;

    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_str_eq(ev->name, "Compute");
    cr_assert_eq(ev->phase, DASF_PHASE_COMPLETE);
    cr_assert_eq(ev->timestamp, 10.5);
    cr_assert_eq(ev->timestamp_ns, 10500000000ll);
    cr_assert_eq(ev->duration, 0.25);
    cr_assert_eq(ev->process_id.type, DASF_VAL_STR);
    cr_assert_str_eq(ev->process_id.v.str.ptr, "node-01");
    cr_assert_eq(ev->thread_id.type, DASF_VAL_NIL);
    const dasf_value *deps = dasf_value_map_get(&ev->args, "deps");
    cr_assert_eq(deps->type, DASF_VAL_ARRAY);
    cr_assert_eq(deps->v.array.n, 2);
    cr_assert_str_eq(deps->v.array.items[1].v.array.items[0].v.str.ptr, "map");
    cr_assert_eq(dasf_value_map_get(dasf_value_map_get(&ev->args, "shape"), "y")->v.f, 4.5);

    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_str_eq(ev->name, "Start");
    cr_assert_eq(ev->timestamp, 11.0); /* an int timestamp */
    cr_assert_eq(ev->timestamp_ns, 11000000000ll);
    cr_assert_eq(ev->scope, DASF_SCOPE_PROCESS);
    cr_assert_eq(ev->process_id.type, DASF_VAL_INT);
    cr_assert_eq(ev->args.type, DASF_VAL_MAP);
    cr_assert_eq(ev->args.v.map.n, 0);

    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_str_eq(dasf_value_map_get(&ev->args, "k")->v.str.ptr, "v");
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->phase, DASF_PHASE_DURATION_BEGIN);

    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_str_eq(ev->name, "NoScope");
    cr_assert_eq(ev->scope, 0); /* no scope key */
    cr_assert_eq(ev->args.type, DASF_VAL_MAP); /* no args key: empty map */
    cr_assert_eq(ev->args.v.map.n, 0);

    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(strlen(ev->name), 40);
    cr_assert_eq(ev->duration, 1.0);
    cr_assert_eq(ev->process_id.v.i, -3);
    cr_assert_eq(ev->thread_id.v.i, 1ll << 40);
    cr_assert_eq(dasf_value_map_get(&ev->args, "big")->type, DASF_VAL_UINT);
    cr_assert_eq(dasf_value_map_get(&ev->args, "big")->v.u, UINT64_MAX);
    cr_assert_eq(dasf_value_map_get(&ev->args, "neg")->v.i, INT64_MIN);

    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.layout, DASF_LAYOUT_LEGACY);
    cr_assert_eq(st.events, 6);
    cr_assert_eq(st.chunks_damaged, 0);
    dasf_trace_close(r);
}

Test(legacy, python_file_with_4_byte_lengths_reads) {
    const char *path = th_tmp_file("py4.msgpack");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, TH_PYTHON " %s/tests/py/write_legacy.py %s 4", DASF_SOURCE_DIR,
             path);
    cr_assert_eq(th_run(cmd, NULL), 0);
    cr_assert_eq(th_count_events(path), 6);
}

/* What we write, the Python reader logic loads (keys = dataclass fields). */
Test(legacy, python_reader_loads_our_file) {
    const char *path = th_tmp_file("ours.msgpack");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = 0;
    o.flush = false;
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    const char ph[4] = {'X', 'I', 'B', 'E'};
    for (int i = 0; i < 8; i++) {
        dasf_trace_event ev = {.name = "step", .phase = (dasf_phase)ph[i % 4],
                               .timestamp = 100.0 + i * 0.125, .duration = 0.5};
        ev.process_id.type = DASF_VAL_INT;
        ev.process_id.v.i = 77;
        ev.thread_id.type = DASF_VAL_NIL;
        ev.args.type = DASF_VAL_MAP;
        if (ev.phase == 'I') ev.scope = DASF_SCOPE_GLOBAL;
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, TH_PYTHON " %s/tests/py/read_legacy.py %s", DASF_SOURCE_DIR,
             path);
    cr_assert_eq(th_run(cmd, &out), 0, "%s", out);
    cr_assert_str_eq(out, "step X 100.0\nstep I 100.125\nstep B 100.25\nstep E 100.375\n"
                          "step X 100.5\nstep I 100.625\nstep B 100.75\nstep E 100.875\n");
    free(out);
}
