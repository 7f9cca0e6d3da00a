/* cxx_check.h — what tests/cxx/args_c.c (C) exports to the C++ test programs,
 * and the CHECK macros of those programs. */
#ifndef DASF_TEST_CXX_CHECK_H
#define DASF_TEST_CXX_CHECK_H
#include "dasf/profiler.h"

/* sizeof / alignof / offsetof of the public structs, in a fixed order: the
 * same list compiled as C (args_c.c) and as C++ (header_all.cpp). */
#define DASF_TEST_LAYOUT_LIST                                                                  \
    sizeof(dasf_arg), alignof(dasf_arg), offsetof(dasf_arg, v), sizeof(dasf_id),               \
        offsetof(dasf_id, s), sizeof(dasf_event), offsetof(dasf_event, args),                  \
        offsetof(dasf_event, args_msgpack_size), sizeof(dasf_record_opts),                     \
        sizeof(dasf_zone_ctx), offsetof(dasf_zone_ctx, start), sizeof(dasf_file_db_options),   \
        offsetof(dasf_file_db_options, max_pending_bytes), sizeof(dasf_trace_event),           \
        offsetof(dasf_trace_event, chunk_index), sizeof(dasf_value), sizeof(dasf_chunk_info),  \
        sizeof(dasf_trace_stats), sizeof(dasf_db_stats), sizeof(dasf_db_ops)
#define DASF_TEST_LAYOUT_N 20

#ifdef __cplusplus
/* Checks for the C++ test programs: count a failure, say where, go on. */
#include <cstdio>
static int failures;
#define CHECK(c)                                                                               \
    do {                                                                                       \
        if (!(c)) {                                                                            \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);         \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)
#define CHECK_RC(want, call)                                                                   \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        if (rc_ != (want)) {                                                                   \
            std::fprintf(stderr, "%s:%d: %s returned %d (%s), want %d\n", __FILE__, __LINE__,  \
                         #call, rc_, dasf_strerror(rc_), (want));                              \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)
#endif

#ifdef __cplusplus
extern "C" {
#endif
/* The six DASF_ARG_* kinds built by the C macros: i=-42, u=UINT64_MAX,
 * d=0.7107808589935303, b=true, s="text", m=dasf_test_raw. */
void dasf_test_c_args(dasf_arg out[6]);
/* DASF_TEST_LAYOUT_LIST as the C compiler sees it. */
void dasf_test_c_layout(size_t out[DASF_TEST_LAYOUT_N]);
extern const void *dasf_test_raw;
extern const size_t dasf_test_raw_size;
#ifdef __cplusplus
}
#endif
#endif
