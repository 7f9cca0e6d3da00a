/*
 * input.c — the reading loop shared by the verbs: open each file with the
 * public reader, hand every event that passes the filters to the verb,
 * and say on stderr what could not be read.  A damaged file is not fatal:
 * its whole chunks are still used, and the verb exits 1 so scripts notice.
 */
#include "input.h"

#include "align.h"
#include "filter.h"
#include "infile.h"
#include "messages.h"
#include "runs.h"
#include "symbols.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

int dt_filter_resolve(dt_filter *f, char *const *files, int n) {
    dt_window *w = f->win;
    if (!w || !(w->from_rel || w->to_rel) || w->resolved) return DT_OK;
    if (!w->have_start) {
        w->have_start = dt_first_time(files, n, &w->start_ns) == 0;
        if (!w->have_start) w->start_ns = 0; /* no timed event: the window holds nothing */
    }
    return dt_filter_set_start(f, w->start_ns);
}

static int damage_said = -1; /* files [0, damage_said] had their damage said */

/* Collects every "dasf.module" event of the files (a first pass, made only
 * when an address-named event shows up). */
static void collect_modules(char *const *files, int n, dt_symbols *s) {
    for (int i = 0; i < n; i++) {
        dasf_trace *t;
        if (dasf_trace_open(&t, files[i]) != 0) continue; /* the main pass reports it */
        const dasf_trace_event *ev;
        while (dasf_trace_next(t, &ev) > 0)
            if (ev->phase == DASF_PHASE_METADATA && dt_symbols_add_module(s, ev)) break;
        dasf_trace_close(t);
    }
}

/* ev renamed by the symbolizer into *copy, or ev itself. */
static const dasf_trace_event *symbolize(dt_symbols **syms, char *const *files, int n,
                                         const dasf_trace_event *ev, dasf_trace_event *copy) {
    if (!dt_symbols_is_address(ev->name)) return ev;
    if (!*syms) {
        if (dt_symbols_create(syms)) return ev;
        collect_modules(files, n, *syms);
    }
    const dt_resolved *r = dt_symbols_lookup(*syms, ev);
    if (!r) return ev;
    *copy = *ev;
    copy->name = r->name;
    if (r->src && ev->args.type == DASF_VAL_MAP && ev->args.v.map.n == 0) copy->args = r->args;
    return copy;
}

bool dt_filter_pass(const dt_filter *f, bool filtering, const dasf_trace_event *ev) {
    dt_window *win = f ? f->win : NULL;
    if (win && ev->phase != DASF_PHASE_METADATA) dt_window_seen(f, ev);
    if (filtering && !dt_filter_match(f, ev)) return false;
    if (win && (f->has_from || f->has_to)) win->hits++;
    return true;
}

/* One reading of the files: what every file's loop needs. */
typedef struct reading {
    char *const *files;
    int n;
    const dt_filter *f;
    dt_visit_fn visit;
    void *ctx;
    dt_runs *runs;    /* NULL: runs not tracked */
    bool filtering;   /* some filter is set */
    bool symbols;     /* rename address-named calls */
    dt_symbols *syms; /* made at the first address-named event */
    dt_align *align;  /* MPI ranks onto rank 0's clock (align.h) */
    dasf_trace_event renamed, aligned;
} reading;

/* The events of in, read to its end: counted in its run, renamed, aligned,
 * matched, visited.  *status becomes DT_FAIL on a read error.  @return the
 * visit's non-zero result (reading stops), DT_FAIL out of memory, or 0. */
static int read_events(reading *r, dt_input *in, dasf_trace_stats *st, int rc, int *status) {
    const dt_filter *f = r->f;
    const dasf_trace_event *ev;
    while (rc == 0) {
        int got = dasf_trace_next(in->trace, &ev);
        if (got == 0) break;
        if (got < 0) {
            dt_err("%s: %s", in->path, dasf_strerror(got));
            *status = DT_FAIL;
            break;
        }
        if (in->layout == DASF_LAYOUT_EMPTY) { /* layout learnt from the first bytes */
            dasf_trace_get_stats(in->trace, st);
            in->layout = st->layout;
        }
        if (r->runs) {
            in->run = dt_runs_event(r->runs, in, ev);
            if (in->run == SIZE_MAX) return DT_FAIL;
            if (f && !dt_filter_run_wanted(f, in->run)) continue;
        }
        if (r->symbols && ev->phase != DASF_PHASE_METADATA)
            ev = symbolize(&r->syms, r->files, r->n, ev, &r->renamed);
        if (r->align) ev = dt_align_event(r->align, in->trace, ev, &r->aligned);
        if (!dt_filter_pass(f, r->filtering, ev)) continue;
        rc = r->visit(r->ctx, in, ev);
    }
    return rc;
}

/* A run number nobody has is a mistake, not an empty answer: says so.
 * @return DT_FAIL when some --run is not there, else DT_OK. */
static int check_runs(const dt_filter *f, const dt_runs *runs) {
    int status = DT_OK;
    for (size_t i = 0; i < f->n_runs; i++)
        if (f->runs[i] >= runs->n) {
            dt_err("no run %zu: the input has %zu run(s) (see 'dasf-trace info')", f->runs[i] + 1,
                   runs->n);
            status = DT_FAIL;
        }
    return status;
}

int dt_each_event_runs(char *const *files, int n, const dt_filter *f, dt_visit_fn visit,
                       dt_visit_fn before_file, void *ctx, dt_runs *runs) {
    int status = DT_OK;
    dt_runs local;
    memset(&local, 0, sizeof local);
    reading r = {.files = files, .n = n, .f = f, .visit = visit, .ctx = ctx, .runs = runs};
    r.filtering = dt_filter_active(f);
    if (!r.runs && f && f->n_runs) r.runs = &local;
    r.symbols = f && !f->no_symbols;
    if (!(f && f->no_align) && dt_align_create(&r.align, files, n)) return DT_FAIL;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        dt_input in = {files[i], (size_t)i, NULL, DASF_LAYOUT_EMPTY, SIZE_MAX};
        if (dt_open(files[i], &in.trace) != DT_OK) {
            status = DT_FAIL;
            continue;
        }
        dasf_trace_stats st;
        dasf_trace_get_stats(in.trace, &st);
        in.layout = st.layout;
        rc = read_events(&r, &in, &st, before_file ? before_file(ctx, &in, NULL) : 0, &status);
        /* A verb that reads its files twice (timeline, stats in exact mode)
         * says a file's damage once; the status counts it each time. */
        dasf_trace_stats ds;
        dasf_trace_get_stats(in.trace, &ds);
        if (i > damage_said) {
            if (dt_report_damage(files[i], in.trace) != DT_OK) status = DT_FAIL;
            damage_said = i;
        } else if (ds.chunks_damaged || ds.bytes_damaged) {
            status = DT_FAIL;
        }
        dasf_trace_close(in.trace);
    }
    if (rc == 0 && f && f->n_runs && check_runs(f, r.runs) != DT_OK) status = DT_FAIL;
    dt_runs_free(&local);
    dt_symbols_free(r.syms);
    dt_align_free(r.align);
    return rc != 0 ? rc : status;
}

int dt_each_event(char *const *files, int n, const dt_filter *f, dt_visit_fn visit,
                  dt_visit_fn before_file, void *ctx) {
    return dt_each_event_runs(files, n, f, visit, before_file, ctx, NULL);
}
