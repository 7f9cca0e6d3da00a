// header_all.cpp — <dasf/profiler.h> used from C++ (run by tests/test_cxx.c).
//
// Compiled by g++ and clang++ as C++11/14/17/20 with -Wall -Wextra -Werror
// -pedantic.  It uses every macro and inline function of the C header:
// the version macros, DASF_PHASE_COUNT, DASF_DEFAULT_*, the six DASF_ARG_*,
// dasf_id_int/str/nil and DASF_ZONE (nested, in a loop).  Linked with
// tests/cxx/args_c.c (C), it checks that the C++ macros give the values the
// C macros give and that both languages see the same struct layout; run
// with a trace path, it records, reads the trace back and checks every
// event.  Exit 0 and "header_all: ok N events" on success.
#include <dasf/profiler.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "cxx_check.h"

static const char *str_of(const dasf_value *v) {
    return v && v->type == DASF_VAL_STR ? v->v.str.ptr : "";
}

// Same key, type and value as the C macro built (padding aside).
static bool same_arg(const dasf_arg &a, const dasf_arg &b) {
    if (std::strcmp(a.key, b.key) != 0 || a.type != b.type) return false;
    switch (a.type) {
    case DASF_ARG_INT: return a.v.i == b.v.i;
    case DASF_ARG_UINT: return a.v.u == b.v.u;
    case DASF_ARG_DOUBLE: return std::memcmp(&a.v.d, &b.v.d, sizeof a.v.d) == 0;
    case DASF_ARG_BOOL: return a.v.b == b.v.b;
    case DASF_ARG_STR: return std::strcmp(a.v.s, b.v.s) == 0;
    case DASF_ARG_MSGPACK:
        return a.v.raw.size == b.v.raw.size &&
               std::memcmp(a.v.raw.data, b.v.raw.data, a.v.raw.size) == 0;
    }
    return false;
}

static void check_c_agreement() {
    // The ABI: every size and offset the C compiler sees.
    size_t c[DASF_TEST_LAYOUT_N];
    dasf_test_c_layout(c);
    const size_t cxx[DASF_TEST_LAYOUT_N] = {DASF_TEST_LAYOUT_LIST};
    for (int k = 0; k < DASF_TEST_LAYOUT_N; k++) {
        if (c[k] != cxx[k]) std::fprintf(stderr, "layout item %d: C %zu, C++ %zu\n", k, c[k], cxx[k]);
        CHECK(c[k] == cxx[k]);
    }
    // The values: the C++ DASF_ARG_* against the C ones.
    dasf_arg from_c[6];
    dasf_test_c_args(from_c);
    const dasf_arg from_cxx[] = {
        DASF_ARG_I64("i", -42),
        DASF_ARG_U64("u", UINT64_MAX),
        DASF_ARG_F64("d", 0.7107808589935303),
        DASF_ARG_BOOL("b", 1),
        DASF_ARG_STR("s", "text"),
        DASF_ARG_MSGPACK("m", dasf_test_raw, dasf_test_raw_size),
    };
    for (int k = 0; k < 6; k++) CHECK(same_arg(from_c[k], from_cxx[k]));
}

static dasf_name zone_site_check;

static void nested_zones(dasf_profiler *p, int n) {
    for (int i = 0; i < n; i++) {
        DASF_ZONE(p, "outer");
        {
            DASF_ZONE(p, "inner");
            zone_site_check = dasf_intern("inner");
        }
    }
}

int main(int argc, char **argv) {
    static_assert(DASF_VERSION_MAJOR >= 0 && DASF_VERSION_MINOR >= 0 && DASF_VERSION_PATCH >= 0,
                  "version macros are integers");
    static_assert(DASF_PHASE_COUNT == 16, "sixteen phases");
    char version[32];
    std::snprintf(version, sizeof version, "%d.%d.%d", DASF_VERSION_MAJOR, DASF_VERSION_MINOR,
                  DASF_VERSION_PATCH);
    CHECK(std::strcmp(version, DASF_VERSION_STRING) == 0);
    for (int k = 0; k < DASF_PHASE_COUNT; k++) CHECK(dasf_phase_index(dasf_phase_from_index(k)) == k);

    check_c_agreement();
    nested_zones(nullptr, 2); // a NULL profiler: the zones are no-ops
    if (argc < 2) {
        std::printf("header_all: ok 0 events (no trace path: checks only)\n");
        return failures ? 1 : 0;
    }

    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = DASF_DEFAULT_COMPRESSION_LEVEL;
    o.ring_capacity = DASF_DEFAULT_RING_CAPACITY;
    o.remove_old_output_file = true;
    dasf_profiler *p = nullptr;
    CHECK_RC(0, dasf_profiler_create(&p, argv[1], &o, nullptr));
    if (!p) return 1;

    const unsigned char raw[] = {0x92, 0x01, 0xa1, 'x'};
    const dasf_arg args[] = {
        DASF_ARG_I64("i", -42),   DASF_ARG_U64("u", UINT64_MAX),
        DASF_ARG_F64("d", 0.7107808589935303), DASF_ARG_BOOL("b", true),
        DASF_ARG_STR("s", "text"), DASF_ARG_MSGPACK("m", raw, sizeof raw),
    };
    dasf_record_opts opts = dasf_record_opts();
    opts.args = args;
    opts.n_args = sizeof args / sizeof *args;
    CHECK_RC(0, dasf_profiler_record_complete_event(p, "with_args", 10.0, 0.5, &opts));

    dasf_record_opts ids = dasf_record_opts();
    ids.process_id = dasf_id_str("rank-3");
    ids.thread_id = dasf_id_int(7);
    ids.scope = DASF_SCOPE_PROCESS;
    CHECK_RC(0, dasf_profiler_record_instant_event(p, "ids", 11.0, &ids));
    ids.thread_id = dasf_id_nil();
    CHECK_RC(0, dasf_profiler_record_duration_begin_event(p, "nil_tid", 12.0, &ids));
    CHECK_RC(0, dasf_profiler_record_duration_end_event(p, "nil_tid", 13.0, &ids));
    CHECK_RC(0, dasf_record_async(p, DASF_PHASE_ASYNC_BEGIN, "req", "io", dasf_id_int(42), 14.0));
    CHECK_RC(0, dasf_record_flow(p, DASF_PHASE_FLOW_BEGIN, "msg", "mpi", dasf_id_str("f1"), 15.0));
    const int zones = 5;
    nested_zones(p, zones);
    CHECK(zone_site_check != 0 && std::strcmp(dasf_name_str(zone_site_check), "inner") == 0);
    CHECK_RC(0, dasf_profiler_commit(p));
    CHECK_RC(0, dasf_profiler_destroy(p));

    // Read back.
    dasf_trace *r = nullptr;
    CHECK_RC(0, dasf_trace_open(&r, argv[1]));
    if (!r) return 1;
    const dasf_trace_event *ev;
    long n = 0, outer = 0, inner = 0, seen_args = 0, seen_ids = 0, seen_nil = 0, seen_async = 0,
         seen_flow = 0;
    double outer_ts[zones] = {0}, outer_end[zones] = {0}, inner_ts[zones] = {0},
           inner_end[zones] = {0};
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        n++;
        const char *name = ev->name;
        if (!std::strcmp(name, "with_args")) {
            seen_args++;
            CHECK(ev->phase == DASF_PHASE_COMPLETE && ev->timestamp == 10.0 && ev->duration == 0.5);
            const dasf_value *v = dasf_value_map_get(&ev->args, "i");
            CHECK(v && v->type == DASF_VAL_INT && v->v.i == -42);
            v = dasf_value_map_get(&ev->args, "u");
            CHECK(v && v->type == DASF_VAL_UINT && v->v.u == UINT64_MAX);
            v = dasf_value_map_get(&ev->args, "d");
            CHECK(v && v->type == DASF_VAL_FLOAT && v->v.f == 0.7107808589935303);
            v = dasf_value_map_get(&ev->args, "b");
            CHECK(v && v->type == DASF_VAL_BOOL && v->v.b);
            CHECK(std::strcmp(str_of(dasf_value_map_get(&ev->args, "s")), "text") == 0);
            v = dasf_value_map_get(&ev->args, "m");
            CHECK(v && v->type == DASF_VAL_ARRAY && v->v.array.n == 2 &&
                  std::strcmp(str_of(&v->v.array.items[1]), "x") == 0);
        } else if (!std::strcmp(name, "ids")) {
            seen_ids++;
            CHECK(ev->phase == DASF_PHASE_INSTANT && ev->scope == DASF_SCOPE_PROCESS);
            CHECK(std::strcmp(str_of(&ev->process_id), "rank-3") == 0);
            CHECK(ev->thread_id.type == DASF_VAL_INT && ev->thread_id.v.i == 7);
        } else if (!std::strcmp(name, "nil_tid")) {
            seen_nil++;
            CHECK(ev->phase == (seen_nil == 1 ? DASF_PHASE_DURATION_BEGIN : DASF_PHASE_DURATION_END));
            CHECK(ev->thread_id.type == DASF_VAL_NIL);
        } else if (!std::strcmp(name, "req")) {
            seen_async++;
            CHECK(ev->phase == DASF_PHASE_ASYNC_BEGIN && ev->has_id && ev->id.v.i == 42);
            CHECK(ev->cat && std::strcmp(ev->cat, "io") == 0);
        } else if (!std::strcmp(name, "msg")) {
            seen_flow++;
            CHECK(ev->phase == DASF_PHASE_FLOW_BEGIN && std::strcmp(str_of(&ev->id), "f1") == 0);
        } else if (!std::strcmp(name, "outer") || !std::strcmp(name, "inner")) {
            bool is_outer = name[0] == 'o';
            long &k = is_outer ? outer : inner;
            CHECK(ev->phase == DASF_PHASE_COMPLETE && ev->has_duration && ev->duration >= 0);
            if (k < zones) {
                (is_outer ? outer_ts : inner_ts)[k] = ev->timestamp;
                (is_outer ? outer_end : inner_end)[k] = ev->timestamp + ev->duration;
            }
            k++;
        } else {
            std::fprintf(stderr, "unexpected event '%s'\n", name);
            failures++;
        }
    }
    CHECK(rc == 0);
    dasf_trace_close(r);
    CHECK(seen_args == 1 && seen_ids == 1 && seen_nil == 2 && seen_async == 1 && seen_flow == 1);
    CHECK(outer == zones && inner == zones);
    // Each inner zone lies inside its outer zone (the destructor order).
    for (int k = 0; k < zones; k++)
        CHECK(inner_ts[k] >= outer_ts[k] && inner_end[k] <= outer_end[k] + 1e-9);
    if (failures) {
        std::fprintf(stderr, "header_all: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("header_all: ok %ld events\n", n);
    return 0;
}
