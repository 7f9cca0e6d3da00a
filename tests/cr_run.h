/* cr_run.h — running shell commands from Criterion tests (test_install,
 * test_cxx, test_fortran, test_readme): formatted strings and "run this, fail
 * the test with its output unless it exits 0".  Header-only because it needs
 * Criterion, which helpers.c (also linked into plain programs) must not. */
#ifndef DASF_TEST_CR_RUN_H
#define DASF_TEST_CR_RUN_H
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char *th_vfmt(const char *f, va_list ap) {
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    cr_assert(n >= 0 && s, "out of memory");
    return s;
}

/* A malloc'ed string from a printf format (fails the test on ENOMEM). */
__attribute__((format(printf, 1, 2), unused)) static char *th_fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *s = th_vfmt(f, ap);
    va_end(ap);
    return s;
}

/* Runs a shell command built from a format; fails the test, showing the
 * command and its output, unless it exits 0.  @return its stdout (free it). */
__attribute__((format(printf, 1, 2), unused)) static char *th_run_ok(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *cmd = th_vfmt(f, ap);
    va_end(ap);
    char *out = NULL;
    int rc = th_run(cmd, &out);
    cr_assert_eq(rc, 0, "command failed (exit %d): %s\n--- output ---\n%s", rc, cmd,
                 out ? out : "");
    free(cmd);
    return out;
}
#endif
