/* args_c.c — the C side of the header's C/C++ agreement check (test_cxx.c).
 *
 * Built as C by tests/test_cxx.c and linked into the C++ programs: it builds
 * the DASF_ARG_* values with the C compound-literal macros and reports the
 * layout of the public structs as the C compiler sees them, so the C++ side
 * can check that its macros produce the same values and that both languages
 * agree on the ABI. */
#include "dasf/profiler.h"

#include <stdalign.h>
#include <stddef.h>

#include "cxx_check.h"

static const unsigned char raw_value[] = {0x92, 0x01, 0xa1, 'x'}; /* msgpack [1, "x"] */

const void *dasf_test_raw = raw_value;
const size_t dasf_test_raw_size = sizeof raw_value;

void dasf_test_c_args(dasf_arg out[6]) {
    dasf_arg a[] = {
        DASF_ARG_I64("i", -42),
        DASF_ARG_U64("u", UINT64_MAX),
        DASF_ARG_F64("d", 0.7107808589935303),
        DASF_ARG_BOOL("b", 1),
        DASF_ARG_STR("s", "text"),
        DASF_ARG_MSGPACK("m", raw_value, sizeof raw_value),
    };
    for (int k = 0; k < 6; k++) out[k] = a[k];
}

void dasf_test_c_layout(size_t out[DASF_TEST_LAYOUT_N]) {
    size_t v[DASF_TEST_LAYOUT_N] = {DASF_TEST_LAYOUT_LIST};
    for (int k = 0; k < DASF_TEST_LAYOUT_N; k++) out[k] = v[k];
}
