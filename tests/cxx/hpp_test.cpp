// hpp_test.cpp — <dasf/profiler.hpp> end to end (run by tests/test_cxx.c).
//
// Compiled by g++ and clang++ as C++11/14/17/20 (-Wall -Wextra -Werror
// -pedantic), also with -fno-exceptions -fno-rtti.  Records through
// dasf::profiler (complete/instant/begin/end/counter with typed args of every
// kind), dasf::zone (interned name, plain string, early end(), nested, a NULL
// profiler), checks the status codes of misuse, counts operator new calls
// around the record path (must be none), destroys, reads the trace back with
// the C reader and checks every event.  Exit 0 and "hpp_test: ok N events".
#include <dasf/profiler.hpp>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "cxx_check.h"

// Every C++ allocation of the program is counted (the C library's malloc is not).
static long g_news;
void *operator new(std::size_t n) {
    g_news++;
    void *p = std::malloc(n ? n : 1);
    if (!p) std::abort();
    return p;
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }

static const char *str_of(const dasf_value *v) {
    return v && v->type == DASF_VAL_STR ? v->v.str.ptr : "";
}
// A non-negative integer reads back as INT or UINT (msgpack keeps no sign bit for it).
static bool is_uint(const dasf_value *v, std::uint64_t want) {
    return v && ((v->type == DASF_VAL_UINT && v->v.u == want) ||
                 (v->type == DASF_VAL_INT && v->v.i >= 0 && static_cast<std::uint64_t>(v->v.i) == want));
}
static const dasf_value *get(const dasf_trace_event *ev, const char *k) {
    return dasf_value_map_get(&ev->args, k);
}

static void work(const dasf::profiler &p, int depth) {
    static const dasf::name level("level");
    dasf::zone z(p, level);
    if (depth > 0) work(p, depth - 1);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: hpp_test TRACE\n");
        return 2;
    }
    const char *path = argv[1];

    // Misuse gives status codes, never a crash.
    dasf::profiler none;
    CHECK(!none && !none.is_open() && none.output_file() == nullptr);
    CHECK_RC(DASF_EINVAL, none.commit());
    CHECK_RC(DASF_EINVAL, none.complete("x", 1.0, 1.0));
    CHECK_RC(DASF_OK, none.destroy());
    { dasf::zone z(none, "ignored"); } // not open: a no-op
    { dasf::zone z(static_cast<dasf_profiler *>(nullptr), dasf_intern("ignored")); }

    dasf_file_db_options o = dasf_file_db_options_default();
    o.remove_old_output_file = true;
    dasf::profiler prof;
    CHECK_RC(DASF_OK, prof.create(path, &o));
    CHECK(prof.is_open() && std::strcmp(prof.output_file(), path) == 0);
    CHECK_RC(DASF_EINVAL, prof.create(path, &o)); // already open
    CHECK_RC(DASF_EINVAL, prof.complete("bad", NAN, 1.0));
    CHECK_RC(DASF_EINVAL, prof.complete(nullptr, 1.0, 1.0));

    // Moving keeps one owner.
    dasf::profiler moved(std::move(prof));
    CHECK(!prof && moved);
    prof = std::move(moved);
    CHECK(prof && !moved);

    const std::string file = "/tmp/out.dat"; // built before counting allocations
    const unsigned char raw[] = {0x81, 0xa1, 'k', 0x03}; // msgpack {"k": 3}
    static const dasf::name step("step");
    const long news_before = g_news;

    CHECK_RC(DASF_OK, prof.complete("typed", 100.0, 0.25,          //
                                    dasf::arg("int", -7),           //
                                    dasf::arg("i64", INT64_MIN),    //
                                    dasf::arg("uint", 7u),          //
                                    dasf::arg("u64", UINT64_MAX),   //
                                    dasf::arg("short", static_cast<short>(-3)),
                                    dasf::arg("dbl", 0.7107808589935303),
                                    dasf::arg("flt", 1.5f),         //
                                    dasf::arg("yes", true),         //
                                    dasf::arg("no", false),         //
                                    dasf::arg("cstr", "literal"),   //
                                    dasf::arg("str", file),         //
                                    dasf::arg::msgpack("map", raw, sizeof raw)));
    CHECK_RC(DASF_OK, prof.complete("plain", 101.0, 1.0));
    CHECK_RC(DASF_OK, prof.instant("mark", 102.0));
    CHECK_RC(DASF_OK, prof.instant("mark_args", 102.5, dasf::arg("n", 1)));
    CHECK_RC(DASF_OK, prof.begin("span", 103.0, dasf::arg("phase", "start")));
    CHECK_RC(DASF_OK, prof.end("span", 104.0));
    CHECK_RC(DASF_OK, prof.begin("span2", 105.0));
    CHECK_RC(DASF_OK, prof.end("span2", 106.0, dasf::arg("ok", true)));
    CHECK_RC(DASF_OK, prof.counter("queue", 107.0, dasf::arg("depth", 3), dasf::arg("bytes", 4096u)));
    const dasf::args<2> list = dasf::make_args(dasf::arg("a", 1), dasf::arg("b", 2.5));
    CHECK(list.size() == 2 && list.data()[1].type == DASF_ARG_DOUBLE);
    CHECK_RC(DASF_OK, dasf_record_complete_args(prof.get(), "c_api", 108.0, 1.0, list.data(),
                                                list.size()));
    for (int i = 0; i < 3; i++) {
        dasf::zone z(prof, step);
        dasf::zone inner(prof.get(), "inner"); // interned on each pass
    }
    {
        dasf::zone early(prof, step);
        early.end(); // recorded here, once
    }
    work(prof, 3); // 4 nested "level" zones
    const long news_on_record_path = g_news - news_before;
    CHECK(news_on_record_path == 0);

    CHECK_RC(DASF_OK, prof.commit());
    CHECK_RC(DASF_OK, prof.destroy());
    CHECK(!prof);
    CHECK_RC(DASF_EINVAL, prof.commit()); // destroyed: empty again

    // Read it back.
    dasf_trace *r = nullptr;
    CHECK_RC(DASF_OK, dasf_trace_open(&r, path));
    if (!r) return 1;
    const dasf_trace_event *ev;
    long n = 0, steps = 0, inners = 0, levels = 0, typed = 0, other = 0;
    double level_ts[4] = {0}, level_end[4] = {0};
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
        n++;
        const char *nm = ev->name;
        if (!std::strcmp(nm, "typed")) {
            typed++;
            CHECK(ev->phase == DASF_PHASE_COMPLETE && ev->timestamp == 100.0 && ev->duration == 0.25);
            const dasf_value *v;
            CHECK((v = get(ev, "int")) && v->type == DASF_VAL_INT && v->v.i == -7);
            CHECK((v = get(ev, "i64")) && v->type == DASF_VAL_INT && v->v.i == INT64_MIN);
            CHECK(is_uint(get(ev, "uint"), 7));
            CHECK(is_uint(get(ev, "u64"), UINT64_MAX));
            CHECK((v = get(ev, "short")) && v->type == DASF_VAL_INT && v->v.i == -3);
            CHECK((v = get(ev, "dbl")) && v->type == DASF_VAL_FLOAT && v->v.f == 0.7107808589935303);
            CHECK((v = get(ev, "flt")) && v->type == DASF_VAL_FLOAT && v->v.f == 1.5);
            CHECK((v = get(ev, "yes")) && v->type == DASF_VAL_BOOL && v->v.b);
            CHECK((v = get(ev, "no")) && v->type == DASF_VAL_BOOL && !v->v.b);
            CHECK(std::strcmp(str_of(get(ev, "cstr")), "literal") == 0);
            CHECK(std::strcmp(str_of(get(ev, "str")), "/tmp/out.dat") == 0);
            v = get(ev, "map");
            CHECK(v && v->type == DASF_VAL_MAP && v->v.map.n == 1);
            CHECK(v && dasf_value_map_get(v, "k") && dasf_value_map_get(v, "k")->v.i == 3);
            CHECK(ev->args.v.map.n == 12);
        } else if (!std::strcmp(nm, "plain")) {
            other++;
            CHECK(ev->phase == DASF_PHASE_COMPLETE && ev->args.v.map.n == 0);
        } else if (!std::strcmp(nm, "mark")) {
            other++;
            CHECK(ev->phase == DASF_PHASE_INSTANT && ev->timestamp == 102.0);
        } else if (!std::strcmp(nm, "mark_args")) {
            other++;
            CHECK(ev->phase == DASF_PHASE_INSTANT && get(ev, "n") && get(ev, "n")->v.i == 1);
        } else if (!std::strcmp(nm, "span")) {
            other++;
            if (ev->phase == DASF_PHASE_DURATION_BEGIN)
                CHECK(ev->timestamp == 103.0 && std::strcmp(str_of(get(ev, "phase")), "start") == 0);
            else
                CHECK(ev->phase == DASF_PHASE_DURATION_END && ev->timestamp == 104.0);
        } else if (!std::strcmp(nm, "span2")) {
            other++;
            if (ev->phase == DASF_PHASE_DURATION_END)
                CHECK(get(ev, "ok") && get(ev, "ok")->v.b);
            else
                CHECK(ev->phase == DASF_PHASE_DURATION_BEGIN);
        } else if (!std::strcmp(nm, "queue")) {
            other++;
            CHECK(ev->phase == DASF_PHASE_COUNTER && get(ev, "depth") && get(ev, "bytes") &&
                  is_uint(get(ev, "bytes"), 4096));
        } else if (!std::strcmp(nm, "c_api")) {
            other++;
            CHECK(get(ev, "b") && get(ev, "b")->v.f == 2.5);
        } else if (!std::strcmp(nm, "step")) {
            steps++;
            CHECK(ev->phase == DASF_PHASE_COMPLETE && ev->has_duration);
        } else if (!std::strcmp(nm, "inner")) {
            inners++;
            CHECK(ev->phase == DASF_PHASE_COMPLETE);
        } else if (!std::strcmp(nm, "level")) {
            // Destructors run innermost first: level 0 (deepest) comes first.
            if (levels < 4) {
                level_ts[levels] = ev->timestamp;
                level_end[levels] = ev->timestamp + ev->duration;
            }
            levels++;
        } else {
            std::fprintf(stderr, "unexpected event '%s'\n", nm);
            failures++;
        }
    }
    CHECK(rc == 0);
    dasf_trace_close(r);
    CHECK(typed == 1 && other == 9);
    CHECK(steps == 4 && inners == 3); // 3 loop zones + 1 ended early
    CHECK(levels == 4);
    for (int k = 1; k < 4; k++) // each deeper zone inside the one around it
        CHECK(level_ts[k - 1] >= level_ts[k] && level_end[k - 1] <= level_end[k] + 1e-9);
    CHECK(n == 1 + 9 + 4 + 3 + 4);
    if (failures) {
        std::fprintf(stderr, "hpp_test: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("hpp_test: ok %ld events\n", n);
    return 0;
}
