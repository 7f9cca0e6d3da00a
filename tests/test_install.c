/*
 * test_install.c — the installed copy works for a user's program.
 *
 * Each test runs `cmake --install` of this build tree into a fresh temporary
 * prefix, builds the shipped examples (examples/minimal.c, examples/stencil.c:
 * public header only) against that copy — through find_package(dasf-profiler)
 * with dasf::profiler or dasf::profiler_static, or through pkg-config — runs
 * them, and reads the traces they wrote back with the reader: every event a
 * program says it recorded must be in its file.  Programs are compiled with
 * this build's compiler and flags (sanitizer builds need sanitized programs).
 */
#include "dasf/profiler.h"
#include "cr_run.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DASF_CMAKE_COMMAND
#define DASF_CMAKE_COMMAND "cmake"
#endif
#ifndef DASF_C_COMPILER
#define DASF_C_COMPILER "cc"
#endif
#ifndef DASF_C_FLAGS
#define DASF_C_FLAGS ""
#endif
#ifndef DASF_CXX_COMPILER
#define DASF_CXX_COMPILER "c++"
#endif
#ifndef DASF_INSTALL_LIBDIR
#define DASF_INSTALL_LIBDIR "lib"
#endif

typedef struct install {
    char *dir;    /* private scratch directory */
    char *prefix; /* dir/prefix: the installed copy */
    char *libdir; /* prefix/lib... */
} install;

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static install install_copy(void) {
    install in;
    in.dir = th_tmpdir();
    in.prefix = th_path(in.dir, "prefix");
    in.libdir = th_path(in.prefix, DASF_INSTALL_LIBDIR);
    free(th_run_ok("'%s' --install '%s' --prefix '%s' 2>&1", DASF_CMAKE_COMMAND, DASF_BINARY_DIR,
                in.prefix));
    return in;
}

static void install_cleanup(install *in) {
    free(th_run_ok("rm -rf '%s'", in->dir));
}

/* Builds minimal and stencil in dir/LIB with find_package(dasf-profiler). */
static char *build_with_cmake(const install *in, const char *lib) {
    char *proj = th_path(in->dir, lib);
    cr_assert_eq(mkdir(proj, 0700), 0);
    char *lists = th_path(proj, "CMakeLists.txt");
    char *text = th_fmt("cmake_minimum_required(VERSION 3.20)\n"
                     "project(consumer C)\n"
                     "find_package(dasf-profiler 0.1 REQUIRED)\n"
                     "find_package(Threads REQUIRED)\n"
                     "add_executable(minimal %s/examples/minimal.c)\n"
                     "target_link_libraries(minimal PRIVATE dasf::%s)\n"
                     "add_executable(stencil %s/examples/stencil.c)\n"
                     "target_link_libraries(stencil PRIVATE dasf::%s Threads::Threads m)\n",
                     DASF_SOURCE_DIR, lib, DASF_SOURCE_DIR, lib);
    cr_assert_eq(th_write_file(lists, text, strlen(text)), 0);
    char *bin = th_path(proj, "build");
    free(th_run_ok("'%s' -S '%s' -B '%s' -DCMAKE_PREFIX_PATH='%s' -DCMAKE_C_COMPILER='%s' "
                "-DCMAKE_C_FLAGS='%s' 2>&1",
                DASF_CMAKE_COMMAND, proj, bin, in->prefix, DASF_C_COMPILER, DASF_C_FLAGS));
    free(th_run_ok("'%s' --build '%s' 2>&1", DASF_CMAKE_COMMAND, bin));
    free(text);
    return bin;
}

/* Builds minimal and stencil in dir/pc-KIND with the flags pkg-config gives. */
static char *build_with_pkg_config(const install *in, int static_link) {
    char *bin = th_path(in->dir, static_link ? "pc-static" : "pc-shared");
    cr_assert_eq(mkdir(bin, 0700), 0);
    char *pc = th_fmt("PKG_CONFIG_PATH='%s/pkgconfig' pkg-config", in->libdir);
    /* Static: --static adds Requires.private / Libs.private, and -l: names the
     * archive (plain -ldasf-profiler would pick the shared library). */
    char *libs = static_link ? th_fmt("$(%s --static --libs dasf-profiler | sed "
                                   "'s/-ldasf-profiler/-l:libdasf-profiler.a/')",
                                   pc)
                             : th_fmt("$(%s --libs dasf-profiler) -Wl,-rpath,'%s'", pc, in->libdir);
    const char *progs[] = {"minimal", "stencil"};
    for (int i = 0; i < 2; i++)
        free(th_run_ok("%s %s $(%s --cflags dasf-profiler) -o '%s/%s' '%s/examples/%s.c' %s "
                    "-pthread -lm 2>&1",
                    DASF_C_COMPILER, DASF_C_FLAGS, pc, bin, progs[i], DASF_SOURCE_DIR, progs[i],
                    libs));
    free(libs);
    free(pc);
    return bin;
}

/* Parses "... <what> <N> events ..." from a program's output. */
static long recorded_count(const char *out, const char *marker) {
    const char *p = strstr(out, marker);
    cr_assert(p, "no '%s' in the output:\n%s", marker, out);
    return strtol(p + strlen(marker), NULL, 10);
}

/* Runs both programs from bin; each trace must hold what the program recorded. */
static void run_programs(const install *in, const char *bin) {
    char *trace = th_path(in->dir, "minimal.msgpack.zst");
    char *out = th_run_ok("'%s/minimal' '%s' 2>&1", bin, trace);
    long n = recorded_count(out, "minimal: ");
    cr_assert_gt(n, 0);
    cr_assert_eq(th_count_events(trace), n, "minimal: %ld recorded, %ld in %s", n,
                 th_count_events(trace), trace);
    free(out);

    trace = th_path(in->dir, "stencil.msgpack.zst");
    out = th_run_ok("'%s/stencil' -t 3 -n 25 -s 24 -o '%s' 2>&1", bin, trace);
    n = recorded_count(out, "recorded ");
    /* 3 threads x 25 iterations x at least 7 zones/flows each. */
    cr_assert_geq(n, 3 * 25 * 7, "%s", out);
    cr_assert_eq(th_count_events(trace), n, "stencil: %ld recorded, %ld in %s", n,
                 th_count_events(trace), trace);
    free(out);
}

/* exe loads the installed shared library (not the build tree's). */
static void check_linkage_of(const char *libdir, const char *exe) {
    char *out = th_run_ok("ldd '%s' 2>&1", exe);
    char *lib = th_fmt("%s/libdasf-profiler.so.%d", libdir, DASF_VERSION_MAJOR);
    cr_assert(strstr(out, lib), "%s does not load %s:\n%s", exe, lib, out);
    free(lib);
    free(out);
}

/* The library a program loads: the installed copy (shared) or none (static). */
static void check_linkage(const install *in, const char *bin, int want_shared) {
    char *out = th_run_ok("ldd '%s/minimal' 2>&1", bin);
    char *lib = th_fmt("%s/libdasf-profiler.so.%d", in->libdir, DASF_VERSION_MAJOR);
    if (want_shared)
        cr_assert(strstr(out, lib), "minimal does not load %s:\n%s", lib, out);
    else
        cr_assert_null(strstr(out, "libdasf-profiler"), "static build loads a shared copy:\n%s",
                       out);
    free(lib);
    free(out);
}

Test(install, lays_out_library_header_and_package_files) {
    install in = install_copy();
    const char *want[] = {
        "libdasf-profiler.a",
        "libdasf-profiler.so",
        "pkgconfig/dasf-profiler.pc",
        "cmake/dasf-profiler/dasf-profilerConfig.cmake",
        "cmake/dasf-profiler/dasf-profilerConfigVersion.cmake",
        "cmake/dasf-profiler/dasf-profilerTargets.cmake",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = th_path(in.libdir, want[i]);
        cr_expect(exists(p), "missing %s", p);
    }
    const char *headers[] = {"include/dasf/profiler.h", "include/dasf/profiler.hpp"};
    for (size_t i = 0; i < 2; i++) {
        char *h = th_path(in.prefix, headers[i]);
        cr_expect(exists(h), "missing %s", h);
    }
    /* Internal headers stay internal. */
    char *found = th_run_ok("find '%s' -name '*.h' | sort", in.prefix);
    cr_expect(strstr(found, "/include/dasf/profiler.h"), "%s", found);
    cr_expect_null(strstr(found, "internal.h"), "%s", found);
    cr_expect_null(strstr(found, "rt.h"), "%s", found);
    free(found);
    /* pkg-config reads the file and reports our version. */
    char *ver =
        th_run_ok("PKG_CONFIG_PATH='%s/pkgconfig' pkg-config --modversion dasf-profiler", in.libdir);
    cr_expect_str_eq(ver, DASF_VERSION_STRING "\n");
    free(ver);
    install_cleanup(&in);
}

/* A fresh install; the examples built against it through CMake or pkg-config,
 * linked to the shared or the static library; they load the right library,
 * run, and their traces hold every event they recorded. */
typedef enum consumer { VIA_CMAKE, VIA_PKG_CONFIG } consumer;

static void examples_work(consumer how, int shared) {
    install in = install_copy();
    char *bin = how == VIA_CMAKE ? build_with_cmake(&in, shared ? "profiler" : "profiler_static")
                                 : build_with_pkg_config(&in, !shared);
    check_linkage(&in, bin, shared);
    run_programs(&in, bin);
    install_cleanup(&in);
}

Test(install, find_package_shared_target, .timeout = 300) {
    examples_work(VIA_CMAKE, 1);
}

Test(install, find_package_static_target, .timeout = 300) {
    examples_work(VIA_CMAKE, 0);
}

Test(install, pkg_config_shared, .timeout = 300) {
    examples_work(VIA_PKG_CONFIG, 1);
}

Test(install, pkg_config_static, .timeout = 300) {
    examples_work(VIA_PKG_CONFIG, 0);
}

Test(install, prefix_is_relocatable, .timeout = 300) {
    /* Install, then move the whole prefix: the package files must follow. */
    install in = install_copy();
    char *moved = th_path(in.dir, "moved");
    free(th_run_ok("mv '%s' '%s'", in.prefix, moved));
    in.prefix = moved;
    in.libdir = th_path(in.prefix, DASF_INSTALL_LIBDIR);
    char *cflags =
        th_run_ok("PKG_CONFIG_PATH='%s/pkgconfig' pkg-config --cflags dasf-profiler", in.libdir);
    char *inc = strstr(cflags, "-I");
    cr_assert(inc, "pkg-config --cflags: %s", cflags);
    inc += 2;
    inc[strcspn(inc, " \n")] = 0;
    char got[PATH_MAX], want[PATH_MAX];
    char *want_dir = th_path(moved, "include");
    cr_assert(realpath(inc, got), "pkg-config's include dir %s does not exist", inc);
    cr_assert(realpath(want_dir, want));
    cr_expect_str_eq(got, want);
    free(cflags);
    char *bin = build_with_cmake(&in, "profiler_static");
    run_programs(&in, bin);
    install_cleanup(&in);
}

Test(install, installed_cli_reads_a_trace, .timeout = 300) {
    if (!th_dasf_trace()) cr_skip_test("dasf-trace is not built in this tree");
    install in = install_copy();
    char *tool = th_path(in.prefix, "bin/dasf-trace");
    cr_assert(exists(tool), "missing %s", tool);
    /* A trace written by this build's library, read by the installed tool. */
    char *trace = th_path(in.dir, "t.msgpack.zst");
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, trace, NULL, NULL), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(dasf_profiler_record_complete_event(p, "step", i, 0.5, NULL), 0);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    free(th_run_ok("'%s' verify '%s' 2>&1", tool, trace));
    char *out = th_run_ok("'%s' stats '%s' 2>&1", tool, trace);
    cr_expect(strstr(out, "step"), "%s", out);
    cr_expect(strstr(out, "100"), "%s", out);
    free(out);
    install_cleanup(&in);
}

/* A C++ program includes <dasf/profiler.hpp> from the installed copy, finds it
 * with pkg-config, links to the installed shared library, records through the
 * RAII layer and reads its trace back (tests/cxx/hpp_test.cpp checks every
 * event).  The C++ compiler of this build's family, with this build's flags. */
Test(install, cxx_header_from_the_installed_copy, .timeout = 300) {
    install in = install_copy();
    const char *cxx = DASF_CXX_COMPILER;
    char *exe = th_path(in.dir, "hpp_test");
    free(th_run_ok("PKG_CONFIG_PATH='%s/pkgconfig'; export PKG_CONFIG_PATH; "
                   "%s -std=c++17 %s -Wall -Wextra -Werror -pedantic "
                   "$(pkg-config --cflags dasf-profiler) '%s/tests/cxx/hpp_test.cpp' -o '%s' "
                   "$(pkg-config --libs dasf-profiler) -Wl,-rpath,'%s' 2>&1",
                   in.libdir, cxx, DASF_C_FLAGS, DASF_SOURCE_DIR, exe, in.libdir));
    check_linkage_of(in.libdir, exe);
    char *trace = th_path(in.dir, "hpp.msgpack.zst");
    char *out = th_run_ok("'%s' '%s' 2>&1", exe, trace);
    cr_expect(strstr(out, "hpp_test: ok "), "%s", out);
    free(out);
    install_cleanup(&in);
}

/* The README's install commands on a machine without Criterion: a copy of the
 * source tree, pkg-config unable to see criterion.pc (a private
 * PKG_CONFIG_LIBDIR holding every other .pc file of the system), then exactly
 * `cmake --preset release && cmake --build build/release -j && cmake --install
 * build/release --prefix P`.  The release preset builds no tests (BUILD_TESTING
 * OFF), so this works and installs the library, headers and tool; asking for
 * the tests in the same environment fails with the message naming Criterion
 * (which also proves Criterion was really hidden).  It builds the whole tree
 * once (about 10 s here, a few minutes at most); it runs in every preset's suite because
 * the release build does not depend on the preset. */
Test(install, release_build_installs_without_criterion, .timeout = 900) {
    char *dir = th_tmpdir();
    char *src = th_path(dir, "src");
    char *pcdir = th_path(dir, "pkgconfig");
    char *prefix = th_path(dir, "prefix");
    free(th_run_ok("mkdir -p '%s' '%s' && tar -C '%s' --exclude=./build --exclude=./demo-out "
                   "--exclude=./.git -cf - . | tar -C '%s' -xf -",
                   src, pcdir, DASF_SOURCE_DIR, src));
    free(th_run_ok("for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do "
                   "for f in \"$d\"/*.pc; do [ -e \"$f\" ] || continue; "
                   "case \"${f##*/}\" in criterion.pc) ;; *) ln -sf \"$f\" '%s'/ ;; esac; "
                   "done; done",
                   pcdir));
    const char *env = "unset PKG_CONFIG_PATH; export PKG_CONFIG_LIBDIR";
    char *hidden = th_run_ok("PKG_CONFIG_LIBDIR='%s'; %s; "
                             "if pkg-config --exists criterion; then echo visible; fi; "
                             "pkg-config --exists libzstd && echo zstd",
                             pcdir, env);
    cr_assert_str_eq(hidden, "zstd\n", "criterion.pc not hidden (or libzstd.pc lost)");
    free(hidden);
    char *out = th_run_ok("cd '%s' && PKG_CONFIG_LIBDIR='%s' && %s && "
                          "'%s' --preset release && '%s' --build build/release -j && "
                          "'%s' --install build/release --prefix '%s' 2>&1",
                          src, pcdir, env, DASF_CMAKE_COMMAND, DASF_CMAKE_COMMAND,
                          DASF_CMAKE_COMMAND, prefix);
    free(out);
    const char *want[] = {"include/dasf/profiler.h", "include/dasf/profiler.hpp",
                          "bin/dasf-trace", DASF_INSTALL_LIBDIR "/libdasf-profiler.so",
                          DASF_INSTALL_LIBDIR "/libdasf-profiler.a",
                          DASF_INSTALL_LIBDIR "/pkgconfig/dasf-profiler.pc"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = th_path(prefix, want[i]);
        cr_expect(exists(p), "missing %s", p);
    }
    /* No test program was built. */
    char *tests = th_path(src, "build/release/tests");
    cr_expect(!exists(tests), "%s exists: the release build built the tests", tests);
    /* The installed tool works. */
    free(th_run_ok("'%s/bin/dasf-trace' --help 2>&1", prefix));
    /* The same tree with the tests asked for says what is missing. */
    char *cmd = th_fmt("cd '%s' && PKG_CONFIG_LIBDIR='%s' && %s && "
                       "'%s' --preset release -DBUILD_TESTING=ON 2>&1",
                       src, pcdir, env, DASF_CMAKE_COMMAND);
    char *fail = NULL;
    int rc = th_run(cmd, &fail);
    cr_expect_neq(rc, 0, "configure with tests succeeded without Criterion:\n%s", fail);
    cr_expect(fail && strstr(fail, "Criterion") && strstr(fail, "BUILD_TESTING=OFF"), "%s",
              fail ? fail : "");
    free(fail);
    free(cmd);
}

#ifdef DASF_Fortran_COMPILER
/* The Fortran module is installed as source (include/dasf/dasf.f90: a .mod
 * file would tie users to this exact compiler version): compile it with the
 * Fortran test program, as docs/FORTRAN.md says, against the
 * installed copy found through pkg-config, run it, count its events. */
Test(install, fortran_module_source_from_the_installed_copy, .timeout = 300) {
    install in = install_copy();
    char *work = th_path(in.dir, "fortran");
    cr_assert_eq(mkdir(work, 0700), 0);
    /* A sanitizer build's library needs its runtime at link time only: the
     * Fortran code itself is not instrumented (with ASan's strict string
     * checks, libgfortran's strndup of an unterminated format literal in
     * instrumented code is reported), as in fortran/CMakeLists.txt. */
    free(th_run_ok("cd '%s' && PKG_CONFIG_PATH='%s/pkgconfig' && export PKG_CONFIG_PATH && "
                   "'%s' -c \"$(pkg-config --variable=includedir dasf-profiler)/dasf/dasf.f90\" && "
                   "'%s' -c -o record.o '%s/tests/fortran/record.f90' && "
                   "'%s' -o record record.o dasf.o "
                   "$(pkg-config --libs dasf-profiler) -Wl,-rpath,'%s' %s 2>&1",
                   work, in.libdir, DASF_Fortran_COMPILER, DASF_Fortran_COMPILER,
                   DASF_SOURCE_DIR, DASF_Fortran_COMPILER, in.libdir,
                   strstr(DASF_C_FLAGS, "-fsanitize") ? DASF_C_FLAGS : ""));
    char *exe = th_path(work, "record");
    check_linkage_of(in.libdir, exe);
    char *trace = th_path(work, "f.msgpack.zst");
    char *out = th_run_ok("'%s' '%s' 2>&1", exe, trace);
    const char *r = strstr(out, "fortran: recorded ");
    cr_assert(r, "%s", out);
    long n = strtol(r + strlen("fortran: recorded "), NULL, 10);
    cr_expect_gt(n, 0);
    cr_expect_eq(th_count_events(trace), n, "%s", out);
    free(out);
    install_cleanup(&in);
}
#endif
