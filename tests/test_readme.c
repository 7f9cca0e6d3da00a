/*
 * test_readme.c — every code block of README.md compiles and runs as written.
 *
 * tests/readme/run_blocks.py does the work (its docstring and the comment at
 * the top of README.md give the convention): c/cpp/fortran blocks are built
 * against this build and run; sh blocks run in order in one bash session in
 * a copy of the source tree with HOME set to a scratch directory, and must
 * put what they use on PATH themselves (the Quick start builds, installs
 * and runs for real); blocks that are not run carry a marker with a reason.
 * In a sanitizer build only the compiled blocks run (see below).
 *
 * The other tests feed the runner small broken READMEs, one per mistake it
 * must catch, so a runner that checks nothing cannot pass.
 */
#include "cr_run.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DASF_Fortran_COMPILER
#define DASF_Fortran_COMPILER "" /* none configured: fortran blocks fail, saying so */
#endif
#ifndef DASF_LIB_FILE
#error "DASF_LIB_FILE, DASF_C_COMPILER, ... (this build's toolchain) come from tests/CMakeLists.txt"
#endif

/* Runs the block runner on readme with session directory session.
 * @return its exit status; *out its output. */
static int run_blocks_opt(const char *readme, const char *session, const char *opt,
                          char **out) {
    char *work = th_tmpdir();
    char *cmd = th_fmt("%s '%s/tests/readme/run_blocks.py' '%s' --source '%s' --lib '%s' "
                       "--work '%s' --session-dir '%s' --cc '%s' --cxx '%s' --fc '%s' "
                       "--cflags '%s' %s 2>&1",
                       TH_PYTHON, DASF_SOURCE_DIR, readme, DASF_SOURCE_DIR, DASF_LIB_FILE, work,
                       session, DASF_C_COMPILER, DASF_CXX_COMPILER, DASF_Fortran_COMPILER,
                       DASF_C_FLAGS, opt);
    int rc = th_run(cmd, out);
    free(cmd);
    return rc;
}

static int run_blocks(const char *readme, const char *session, char **out) {
    return run_blocks_opt(readme, session, "", out);
}

static long summary_count(const char *out, const char *kind) {
    const char *s = strstr(out, "readme: ");
    cr_assert(s, "no summary line:\n%s", out);
    char *key = th_fmt(" %s=", kind);
    const char *p = strstr(s, key);
    cr_assert(p, "no %s count:\n%s", kind, out);
    long n = strtol(p + strlen(key), NULL, 10);
    free(key);
    return n;
}

/* (Only this long test has a Criterion timeout, kept under ctest's 600 s:
 * with --jobs 2, Criterion 2.4's runner leaks a 48-byte record under LSan
 * when a short test with a timeout ends beside a long one.) */
Test(readme, every_code_block_compiles_and_runs, .timeout = 590) {
    /* The sh session runs in a copy of the source tree, as a user's clone. */
    char *dir = th_tmpdir();
    char *src = th_path(dir, "src");
    free(th_run_ok("mkdir -p '%s' && tar -C '%s' --exclude=./build --exclude=./demo-out "
                   "--exclude=./.git -cf - . | tar -C '%s' -xf -",
                   src, DASF_SOURCE_DIR, src));
    char *readme = th_fmt("%s/README.md", DASF_SOURCE_DIR);
    char *out = NULL;
    /* A sanitizer build checks the compiled blocks against its sanitized
     * library; the sh session (its own release build and install, the same
     * in every preset) runs in the plain build's suite, once per CI run. */
    int sanitized = strstr(DASF_C_FLAGS, "-fsanitize") != NULL;
    int rc = run_blocks_opt(readme, src, sanitized ? "--no-session" : "", &out);
    cr_assert_eq(rc, 0, "README.md blocks failed:\n%s", out ? out : "");
    /* The Quick start's program and commands at least. */
    cr_expect_geq(summary_count(out, "c"), 1, "%s", out);
    cr_expect_geq(summary_count(out, "sh"), 2, "%s", out);
    if (!sanitized) {
        /* The Quick start really ran: its trace is where its commands wrote it. */
        char *trace = th_path(src, "run.msgpack.zst");
        cr_expect_gt(th_count_events(trace), 1000, "%s", out);
    } else {
        cr_expect(strstr(out, "--no-session"), "%s", out);
    }
    fprintf(stderr, "%s", out);
    free(out);
    free(readme);
}

/* Runs the block runner on a README.md holding text, in a fresh directory. */
static int run_text(const char *text, char **out) {
    char *dir = th_tmpdir();
    char *readme = th_path(dir, "README.md");
    cr_assert_eq(th_write_file(readme, text, strlen(text)), 0);
    char *session = th_path(dir, "session");
    cr_assert_eq(mkdir(session, 0700), 0);
    return run_blocks(readme, session, out);
}

/* Each broken README must fail, naming the block's line. */
static void expect_failure(const char *text, const char *what) {
    char *out = NULL;
    int rc = run_text(text, &out);
    cr_expect_neq(rc, 0, "a README with %s passed:\n%s", what, out ? out : "");
    cr_expect(out && strstr(out, "FAIL README.md:"), "%s: no failing block named:\n%s", what,
              out ? out : "");
    free(out);
}

Test(readme, runner_fails_on_each_kind_of_mistake) {
    expect_failure("# x\n\n```c\nint main(void) { return undefined_name; }\n```\n",
                   "a C block that does not compile");
    expect_failure("```c\nint main(void) { return 3; }\n```\n", "a C program exiting 3");
    expect_failure("```c\n#include <dasf/profiler.h>\nint main(void) {\n"
                   "    return dasf_profiler_commit(NULL) == 0 ? 0 : 1;\n}\n```\n",
                   "a C program whose library call fails");
    expect_failure("```sh\nfalse && echo never\necho after\n```\n",
                   "an sh block whose command fails inside an && list");
    expect_failure("```sh\nexport X=1\n```\n\n```sh\n[ \"$X\" = 2 ]\n```\n",
                   "an sh block failing on state from an earlier block");
    expect_failure("```sh\ndasf-trace --help\n```\n", "dasf-trace used without being on PATH");
    expect_failure("```cmake\nproject(x)\n```\n", "a block of a language with no runner");
    expect_failure("<!-- test: skip -->\n```sh\necho hi\n```\n", "a skip without a reason");
    expect_failure("<!-- test: maybe -->\n```sh\necho hi\n```\n", "an unknown directive");
    expect_failure("```sh\necho never closed\n", "an unclosed block");
    expect_failure("```cpp\nint main() { return 1; }\n```\n", "a C++ program exiting 1");
}

Test(readme, runner_passes_marked_and_chained_blocks) {
    const char *text = "<!-- test: file hello.c -->\n"
                       "```c\n#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n"
                       "```\n\n"
                       "```sh\ncc hello.c -o hello\nGREETING=$(./hello)\n```\n\n"
                       "```sh\n[ \"$GREETING\" = hi ]\n```\n\n"
                       "<!-- test: skip needs a cluster -->\n```sh\nsrun -n 1024 ./app\n```\n\n"
                       "<!-- test: compile-only -->\n```c\nint main(void) { return 1; }\n```\n\n"
                       "```\nplain text, not code\n```\n";
    char *out = NULL;
    int rc = run_text(text, &out);
    cr_assert_eq(rc, 0, "%s", out ? out : "");
    cr_expect_eq(summary_count(out, "c"), 2, "%s", out);
    cr_expect_eq(summary_count(out, "sh"), 2, "%s", out);
    cr_expect_eq(summary_count(out, "skipped"), 1, "%s", out);
    cr_expect_eq(summary_count(out, "not-code"), 1, "%s", out);
    free(out);
}
