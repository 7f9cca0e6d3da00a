/*
 * test_cxx.c — the public headers from C++: <dasf/profiler.h> and
 * <dasf/profiler.hpp> with g++ and clang++, as C++11, 14, 17 and 20.
 *
 * Each test compiles tests/cxx/header_all.cpp (every macro and inline
 * function of the C header, checked against tests/cxx/args_c.c built as C:
 * same DASF_ARG_* values, same struct layout) and tests/cxx/hpp_test.cpp
 * (the C++ layer: RAII zones, typed args, status codes, no operator new on
 * the record path) with -Wall -Wextra -Werror -pedantic, links them to this
 * build's shared library, runs them, and reads back the traces they write
 * (each program checks every event it recorded and prints "ok N events").
 * hpp_test also builds with -fno-exceptions -fno-rtti.
 *
 * A sanitizer build's library can only be linked by the compiler family that
 * built it (gcc's and clang's sanitizer runtimes differ): there the other
 * family's C++ compiler compiles the same translation units (-c, same
 * warnings as errors) without linking, and the test says so in its log.
 */
#include "cr_run.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DASF_LIB_FILE
#error "DASF_LIB_FILE, DASF_C_COMPILER, ... (this build's toolchain) come from tests/CMakeLists.txt"
#endif

#define WARN "-Wall -Wextra -Werror -pedantic -Wshadow"

/* The build's own family gets the build's flags (sanitizers) and links;
 * the other family links only when the build is not sanitized. */
static int same_family(const char *cxx) {
    int gnu = strcmp(DASF_C_COMPILER_ID, "GNU") == 0;
    return gnu == (strcmp(cxx, "g++") == 0);
}
static int sanitized(void) {
    return strstr(DASF_C_FLAGS, "-fsanitize") != NULL;
}

/* Compiles (and, when it can link, runs) one program; checks its "ok" line. */
static void build_and_run(const char *cxx, int std, const char *prog, const char *extra) {
    char *dir = th_tmpdir();
    char *src = th_fmt("%s/tests/cxx", DASF_SOURCE_DIR);
    char *lib = strdup(DASF_LIB_FILE);
    char *libdir = dirname(lib);
    int link = same_family(cxx) || !sanitized();
    const char *flags = same_family(cxx) ? DASF_C_FLAGS : "";
    char *inc = th_fmt("-I'%s/include' -I'%s'", DASF_SOURCE_DIR, src);
    const char *args_c = "";
    if (!strcmp(prog, "header_all")) {
        /* The C half of the agreement check, built as C11 by the C compiler. */
        free(th_run_ok("%s %s -std=c11 -Wall -Wextra -Werror -pedantic %s -c '%s/args_c.c' "
                       "-o '%s/args_c.o' 2>&1",
                       DASF_C_COMPILER, DASF_C_FLAGS, inc, src, dir));
        args_c = th_path(dir, "args_c.o");
    }
    char *exe = th_fmt("%s/%s", dir, prog);
    if (!link) {
        fprintf(stderr, "test_cxx: %s -std=c++%d %s: compile only (a %s-sanitized library)\n",
                cxx, std, prog, DASF_C_COMPILER_ID);
        free(th_run_ok("%s -std=c++%d %s " WARN " %s -c '%s/%s.cpp' -o '%s.o' 2>&1", cxx, std,
                       extra, inc, src, prog, exe));
    } else {
        free(th_run_ok("%s -std=c++%d %s %s " WARN " %s '%s/%s.cpp' %s '%s' -Wl,-rpath,'%s' "
                       "-o '%s' 2>&1",
                       cxx, std, flags, extra, inc, src, prog, args_c, DASF_LIB_FILE, libdir,
                       exe));
        char *trace = th_fmt("%s/%s.msgpack.zst", dir, prog);
        char *out = th_run_ok("'%s' '%s' 2>&1", exe, trace);
        char *want = th_fmt("%s: ok ", prog);
        cr_assert(strstr(out, want), "%s -std=c++%d: %s", cxx, std, out);
        long n = strtol(strstr(out, want) + strlen(want), NULL, 10);
        cr_assert_gt(n, 0, "%s", out);
        /* The trace on disk holds exactly what the program read back. */
        cr_assert_eq(th_count_events(trace), n, "%s: %s", prog, out);
        free(want);
        free(out);
        free(trace);
    }
    free(exe);
    free(inc);
    free(lib);
    free(src);
}

static void both(const char *cxx, int std) {
    build_and_run(cxx, std, "header_all", "");
    build_and_run(cxx, std, "hpp_test", "");
}

#define CXX_TEST(tag, compiler, std)                                                           \
    Test(cxx, tag##_cxx##std, .timeout = 300) {                                                \
        both(compiler, std);                                                                   \
    }
CXX_TEST(gxx, "g++", 11)
CXX_TEST(gxx, "g++", 14)
CXX_TEST(gxx, "g++", 17)
CXX_TEST(gxx, "g++", 20)
CXX_TEST(clangxx, "clang++", 11)
CXX_TEST(clangxx, "clang++", 14)
CXX_TEST(clangxx, "clang++", 17)
CXX_TEST(clangxx, "clang++", 20)

Test(cxx, hpp_without_exceptions_or_rtti, .timeout = 300) {
    const char *cxx[] = {"g++", "clang++"};
    for (int k = 0; k < 2; k++) {
        build_and_run(cxx[k], 11, "hpp_test", "-fno-exceptions -fno-rtti");
        build_and_run(cxx[k], 20, "hpp_test", "-fno-exceptions -fno-rtti");
    }
}
