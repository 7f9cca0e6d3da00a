/*
 * filter.c — the event filters every event-reading verb accepts:
 * --phase, --name (fnmatch glob), --pid, --tid, --from, --to.  Each option
 * may be given several times and then matches any of its values (--phase
 * also takes a list of letters); different options must all match.  Ids
 * are compared as text, so one syntax covers int, string and nil ids.
 * Matching runs once per event; with no filter the loop skips it.
 */
#include "filter.h"

#include "ids.h"
#include "messages.h"
#include "numbers.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char dt_filter_help[] =
    "filters (repeatable; a repeated option matches any of its values):\n"
    "  --phase LIST     phases to keep, as letters: X,B,E,I,b,n,e,s,t,f,C,N,O,D,M,R\n"
    "                   (comma-separated or run together: --phase XBE)\n"
    "  --name GLOB      event names matching a shell glob (fnmatch), e.g. 'mpi_*'\n"
    "  --pid ID         process id (an integer, or the string a Python writer used;\n"
    "                   'null' for none)\n"
    "  --tid ID         thread id (same forms)\n"
    "  --run N          the N-th run (writer process) as 'dasf-trace info' lists them\n"
    "  --from TIME      keep events that end at or after this time\n"
    "  --to TIME        keep events that start at or before this time\n"
    "                   TIME from the trace start (its first event), with a unit, as\n"
    "                   timeline and info show times: 0.8s, 801ms, 250us (or µs), 40ns;\n"
    "                   or '@' and the trace clock in seconds, as cat prints\n"
    "                   timestamps: @809.54.  A window holding nothing is an error.\n"
    "  --include REGEX  keep events whose name matches the extended regex (any of\n"
    "                   them when repeated); metadata events always pass\n"
    "  --exclude REGEX  drop events whose name matches\n"
    "  --no-symbols     keep the function addresses of `dasf-trace record` traces\n"
    "                   as recorded (default: resolved to names at read time)\n"
    "  --no-align       times of MPI ranks as each rank's clock recorded them\n"
    "                   (default: on rank 0's clock, from the traces' clock\n"
    "                   samples; docs/MPI.md)\n";

/* Compiled --include/--exclude regexes: a static pool, so they live (and
 * stay reachable) as long as the process. */
static regex_t g_regex[2 * DT_MAX_FILTER_VALUES];
static size_t g_n_regex;

static int add_regex(const regex_t **arr, size_t *n, const char *arg, const char *what) {
    if (*n >= DT_MAX_FILTER_VALUES || g_n_regex >= 2 * DT_MAX_FILTER_VALUES)
        return dt_usage("too many --%s values (at most %d)", what, DT_MAX_FILTER_VALUES);
    regex_t *re = &g_regex[g_n_regex];
    int e = regcomp(re, arg, REG_EXTENDED | REG_NOSUB);
    if (e) {
        char msg[128];
        regerror(e, re, msg, sizeof msg);
        return dt_usage("--%s '%s': %s", what, arg, msg);
    }
    g_n_regex++;
    arr[(*n)++] = re;
    return 1;
}

static int add_value(const char **arr, size_t *n, const char *arg, const char *what) {
    if (*n >= DT_MAX_FILTER_VALUES)
        return dt_usage("too many --%s values (at most %d)", what, DT_MAX_FILTER_VALUES);
    arr[(*n)++] = arg;
    return 1;
}

static int parse_phases(dt_filter *f, const char *arg) {
    if (!*arg) return dt_usage("--phase needs at least one phase letter");
    for (const char *p = arg; *p; p++) {
        if (*p == ',' || *p == ' ') continue;
        int idx = dasf_phase_index((unsigned char)*p);
        if (idx < 0)
            return dt_usage("unknown phase '%c' in --phase %s (phases: "
                            "X B E I b n e s t f C N O D M R)",
                            *p, arg);
        f->phases |= 1u << idx;
    }
    return 1;
}

/* The trace clock's seconds as ns (the tool's one seconds -> ns step). */
static int parse_time(const char *arg, const char *what, int64_t *out) {
    double d;
    if (!dt_parse_double(arg, &d) || !isfinite(d) || fabs(d) > 9.2e9)
        return dt_usage("--%s wants a time in seconds, got '%s'", what, arg);
    *out = dasf_seconds_to_ns(d);
    return 1;
}

/* "@809.54" (trace clock) or "0.8s" / "801 ms" / "250us" / "250µs" / "40ns"
 * (from the trace start).  *rel tells which. */
static int parse_when(const char *arg, const char *what, int64_t *out, bool *rel) {
    if (arg[0] == '@') {
        *rel = false;
        return parse_time(arg + 1, what, out);
    }
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1}};
    size_t n = strlen(arg);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u].unit);
        if (n <= ul || strcmp(arg + n - ul, units[u].unit)) continue;
        char num[64];
        size_t nl = n - ul;
        while (nl > 0 && arg[nl - 1] == ' ') /* "801 ms" */
            nl--;
        double d;
        if (nl == 0 || nl >= sizeof num) break;
        memcpy(num, arg, nl);
        num[nl] = 0;
        if (!dt_parse_double(num, &d)) break;
        char sec[64];
        snprintf(sec, sizeof sec, "%.17g", d * units[u].seconds);
        *rel = true;
        return parse_time(sec, what, out);
    }
    double d;
    if (dt_parse_double(arg, &d))
        return dt_usage("--%s %s: say which time it is: '%ss' counts from the trace start (as "
                        "timeline and info show times), '@%s' is the trace clock (as cat prints "
                        "timestamps)",
                        what, arg, arg, arg);
    return dt_usage("--%s wants a time from the trace start with a unit (0.8s, 801ms, 250us, "
                    "40ns) or '@' and clock seconds (@809.54), got '%s'",
                    what, arg);
}

static dt_window the_window; /* one command line, one window */

int dt_filter_option(dt_filter *f, int opt, const char *arg) {
    int rc;
    switch (opt) {
    case DT_OPT_PHASE: return parse_phases(f, arg);
    case DT_OPT_NAME: return add_value(f->names, &f->n_names, arg, "name");
    case DT_OPT_PID: return add_value(f->pids, &f->n_pids, arg, "pid");
    case DT_OPT_TID: return add_value(f->tids, &f->n_tids, arg, "tid");
    case DT_OPT_RUN: {
        long long n;
        if (!dt_parse_long(arg, 1, 1LL << 40, &n))
            return dt_usage("--run wants a run number (1, 2, ... as 'dasf-trace info' lists "
                            "them), got '%s'",
                            arg);
        if (f->n_runs >= DT_MAX_FILTER_VALUES)
            return dt_usage("too many --run values (at most %d)", DT_MAX_FILTER_VALUES);
        f->runs[f->n_runs++] = (size_t)(n - 1);
        return 1;
    }
    case DT_OPT_INCLUDE: return add_regex(f->include, &f->n_include, arg, "include");
    case DT_OPT_EXCLUDE: return add_regex(f->exclude, &f->n_exclude, arg, "exclude");
    case DT_OPT_NO_SYMBOLS: f->no_symbols = true; return 1;
    case DT_OPT_NO_ALIGN: f->no_align = true; return 1;
    case DT_OPT_FROM:
        rc = parse_when(arg, "from", &f->from_ns, &the_window.from_rel);
        f->has_from = true;
        the_window.from_text = arg;
        break;
    case DT_OPT_TO:
        rc = parse_when(arg, "to", &f->to_ns, &the_window.to_rel);
        f->has_to = true;
        the_window.to_text = arg;
        break;
    default: return 0;
    }
    f->win = &the_window;
    if (rc == 1 && f->has_from && f->has_to && the_window.from_rel == the_window.to_rel &&
        f->from_ns > f->to_ns)
        return dt_usage("--from is after --to");
    return rc;
}

int dt_filter_set_start(dt_filter *f, int64_t start_ns) {
    dt_window *w = f->win;
    if (!w || w->resolved) return DT_OK;
    w->start_ns = start_ns;
    w->have_start = true;
    if (w->from_rel) f->from_ns = dt_add_ns(start_ns, f->from_ns);
    if (w->to_rel) f->to_ns = dt_add_ns(start_ns, f->to_ns);
    w->from_rel = w->to_rel = false;
    w->resolved = true;
    if (f->has_from && f->has_to && f->from_ns > f->to_ns)
        return dt_usage("--from %s is after --to %s", w->from_text, w->to_text);
    return DT_OK;
}

/* "800.000 ms (@1159.681887946)" */
static void when_text(const dt_window *w, int64_t ns, char *buf, size_t n) {
    char d[32];
    uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
    if (w->have_start)
        snprintf(buf, n, "%s%s (@%s%" PRIu64 ".%09" PRIu64 ")", ns < w->start_ns ? "-" : "",
                 dt_format_duration(d, sizeof d, fabs(dt_span_ns(w->start_ns, ns))),
                 ns < 0 ? "-" : "", a / 1000000000u, a % 1000000000u);
    else
        snprintf(buf, n, "@%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000u,
                 a % 1000000000u);
}

int dt_window_report(const dt_filter *f) {
    const dt_window *w = f->win;
    if (!w || !(f->has_from || f->has_to) || w->hits) return DT_OK;
    char a[96], b[96], c[96], d[96];
    dt_window *mw = (dt_window *)w;
    if (!mw->have_start && mw->seen) { /* for the message: times from the first event read */
        mw->start_ns = mw->seen_min;
        mw->have_start = true;
    }
    snprintf(a, sizeof a, "%s", "the trace start");
    if (f->has_from) when_text(w, f->from_ns, a, sizeof a);
    snprintf(b, sizeof b, "%s", "its end");
    if (f->has_to) when_text(w, f->to_ns, b, sizeof b);
    if (w->seen) {
        when_text(w, w->seen_min, c, sizeof c);
        when_text(w, w->seen_max, d, sizeof d);
        dt_err("nothing in the window %s .. %s; the events read run from %s to %s", a, b, c, d);
    } else {
        dt_err("nothing in the window %s .. %s: no timed event was read", a, b);
    }
    return DT_FAIL;
}

void dt_window_seen(const dt_filter *f, const dasf_trace_event *ev) {
    dt_window *w = f->win;
    int64_t s = ev->timestamp_ns;
    int64_t e = dt_add_ns(s, ev->has_duration && ev->duration_ns > 0 ? ev->duration_ns : 0);
    if (!w->seen || s < w->seen_min) w->seen_min = s;
    if (!w->seen || e > w->seen_max) w->seen_max = e;
    w->seen = true;
}

void dt_window_hit(const dt_filter *f) {
    if (f->win) f->win->hits++;
}

bool dt_filter_run_wanted(const dt_filter *f, size_t run) {
    for (size_t i = 0; i < f->n_runs; i++)
        if (f->runs[i] == run) return true;
    return f->n_runs == 0;
}

bool dt_filter_active(const dt_filter *f) {
    return f && (f->phases || f->n_names || f->n_pids || f->n_tids || f->has_from || f->has_to ||
                 f->n_runs || f->n_include || f->n_exclude);
}

void dt_filter_split(const dt_filter *f, dt_filter *before, dt_filter *after) {
    *before = *f;
    before->phases = 0;
    before->n_names = 0;
    before->n_include = before->n_exclude = 0;
    before->has_from = before->has_to = false;
    *after = *f;
    after->n_pids = after->n_tids = after->n_runs = 0;
    after->has_from = after->has_to = false;
}

static bool glob_matches(const dt_filter *f, const char *name) {
    for (size_t i = 0; i < f->n_names; i++)
        if (fnmatch(f->names[i], name ? name : "", 0) == 0) return true;
    return f->n_names == 0;
}

/* --include / --exclude (extended regexes, unanchored). */
static bool regex_matches(const dt_filter *f, const char *name) {
    if (!name) name = "";
    size_t i;
    for (i = 0; i < f->n_include; i++)
        if (regexec(f->include[i], name, 0, NULL, 0) == 0) break;
    if (f->n_include && i == f->n_include) return false;
    for (i = 0; i < f->n_exclude; i++)
        if (regexec(f->exclude[i], name, 0, NULL, 0) == 0) return false;
    return true;
}

static bool name_matches(const dt_filter *f, const char *name) {
    return glob_matches(f, name) && regex_matches(f, name);
}

bool dt_filter_wants_pairs(const dt_filter *f) {
    uint32_t be = 1u << dasf_phase_index(DASF_PHASE_DURATION_BEGIN) |
                  1u << dasf_phase_index(DASF_PHASE_DURATION_END);
    return !f->phases || (f->phases & be);
}

bool dt_filter_match_span(const dt_filter *f, const char *name) {
    return dt_filter_wants_pairs(f) && name_matches(f, name);
}

static bool id_matches(const char *const *vals, size_t n, const dasf_value *id) {
    char buf[DT_ID_TEXT_MAX];
    const char *t = dt_id_text(id, buf, sizeof buf);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(vals[i], t)) return true;
    return false;
}

bool dt_filter_match(const dt_filter *f, const dasf_trace_event *ev) {
    if (!f) return true;
    if (f->phases) {
        int idx = dasf_phase_index(ev->phase);
        if (idx < 0 || !(f->phases & (1u << idx))) return false;
    }
    if (f->has_from || f->has_to) {
        int64_t start = ev->timestamp_ns;
        int64_t end = start + (ev->has_duration && ev->duration_ns > 0 ? ev->duration_ns : 0);
        if (f->has_from && end < f->from_ns) return false;
        if (f->has_to && start > f->to_ns) return false;
    }
    if (f->n_pids && !id_matches(f->pids, f->n_pids, &ev->process_id)) return false;
    if (f->n_tids && !id_matches(f->tids, f->n_tids, &ev->thread_id)) return false;
    /* Metadata (thread and process names, modules) is never filtered out by
     * --include/--exclude: the verbs need it to label what is kept. */
    if (ev->phase == DASF_PHASE_METADATA) return glob_matches(f, ev->name);
    return name_matches(f, ev->name);
}
