/*
 * test_fortran.c — the Fortran module (fortran/dasf.f90) records what a
 * Fortran program asks for.
 *
 * Runs tests/fortran/record.f90 (built with the module by fortran/
 * CMakeLists.txt, linked to this build's library), which checks the status
 * of each call itself, then reads its trace back with the reader and checks
 * every event: names, phases, counts, the caller's timestamps and durations
 * bit for bit, the zones' times inside the window the program measured with
 * dasf_now() and each inner zone inside its outer one.  Built only when CMake
 * found a Fortran compiler (build.sh installs gfortran, so CI runs it).
 */
#include "cr_run.h"
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DASF_FORTRAN_RECORD
#error "DASF_FORTRAN_RECORD (the Fortran test program) comes from tests/CMakeLists.txt"
#endif

typedef struct seen {
    int compute, checkpoint, solve_b, solve_e, padded, outer, inner, other;
    double zone_min, zone_max;
    double outer_ts[4], outer_end[4], inner_ts[4], inner_end[4];
} seen;

static int visit(const dasf_trace_event *ev, void *user) {
    seen *s = user;
    const char *n = ev->name;
    if (!strcmp(n, "compute")) {
        cr_expect_eq(ev->phase, DASF_PHASE_COMPLETE);
        cr_expect_eq(ev->timestamp, 10.0 + s->compute, "compute #%d at %.17g", s->compute,
                     ev->timestamp);
        cr_expect_eq(ev->duration, 0.25);
        s->compute++;
    } else if (!strcmp(n, "checkpoint")) {
        cr_expect_eq(ev->phase, DASF_PHASE_INSTANT);
        cr_expect_eq(ev->timestamp, 20.0);
        cr_expect_eq(ev->scope, DASF_SCOPE_GLOBAL);
        s->checkpoint++;
    } else if (!strcmp(n, "solve")) {
        if (ev->phase == DASF_PHASE_DURATION_BEGIN) {
            cr_expect_eq(ev->timestamp, 30.0);
            s->solve_b++;
        } else {
            cr_expect_eq(ev->phase, DASF_PHASE_DURATION_END, "solve phase %c", ev->phase);
            cr_expect_eq(ev->timestamp, 31.5);
            s->solve_e++;
        }
    } else if (!strcmp(n, "padded")) {
        cr_expect_eq(ev->phase, DASF_PHASE_INSTANT);
        s->padded++;
    } else if (!strcmp(n, "outer") || !strcmp(n, "inner")) {
        int outer = n[0] == 'o';
        int *k = outer ? &s->outer : &s->inner;
        cr_expect_eq(ev->phase, DASF_PHASE_COMPLETE);
        cr_expect_geq(ev->duration, 0);
        /* 1 us slack: the program prints its window rounded to 16 digits. */
        cr_expect_geq(ev->timestamp, s->zone_min - 1e-6, "%s at %.9f before the window %.9f", n,
                      ev->timestamp, s->zone_min);
        cr_expect_leq(ev->timestamp + ev->duration, s->zone_max + 1e-6);
        if (*k < 4) {
            (outer ? s->outer_ts : s->inner_ts)[*k] = ev->timestamp;
            (outer ? s->outer_end : s->inner_end)[*k] = ev->timestamp + ev->duration;
        }
        (*k)++;
    } else {
        cr_expect_fail("unexpected event '%s' (phase %c)", n, ev->phase);
        s->other++;
    }
    return 0;
}

Test(fortran, module_records_every_call, .timeout = 120) {
    char *dir = th_tmpdir();
    char *trace = th_path(dir, "fortran.msgpack.zst");
    char *out = th_run_ok("'%s' '%s' 2>&1", DASF_FORTRAN_RECORD, trace);
    const char *w = strstr(out, "fortran: zones between ");
    cr_assert(w, "%s", out);
    seen s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(sscanf(w, "fortran: zones between %lf %lf", &s.zone_min, &s.zone_max), 2, "%s",
                 out);
    const char *r = strstr(out, "fortran: recorded ");
    cr_assert(r, "%s", out);
    long n = strtol(r + strlen("fortran: recorded "), NULL, 10);

    cr_assert_eq(dasf_trace_read_file(trace, visit, &s), 0);
    cr_expect_eq(s.compute, 3);
    cr_expect_eq(s.checkpoint, 1);
    cr_expect_eq(s.solve_b, 1);
    cr_expect_eq(s.solve_e, 1);
    cr_expect_eq(s.padded, 1, "the padded name lost its trailing blanks");
    cr_expect_eq(s.outer, 4);
    cr_expect_eq(s.inner, 4, "each zone is recorded once, however often it is ended");
    cr_expect_eq(s.other, 0);
    for (int k = 0; k < 4; k++) {
        cr_expect_geq(s.inner_ts[k], s.outer_ts[k], "zone %d", k);
        cr_expect_leq(s.inner_end[k], s.outer_end[k] + 1e-9, "zone %d", k);
    }
    cr_expect_eq(th_count_events(trace), n, "the program says %ld events", n);
    free(out);
}
