/*
 * filter.c — the event filters every event-reading verb accepts:
 * --phase, --name (fnmatch glob), --pid, --tid, --from, --to.  Each option
 * may be given several times and then matches any of its values (--phase
 * also takes a list of letters); different options must all match.  Ids
 * are compared as text, so one syntax covers int, string and nil ids.
 * Matching runs once per event; with no filter the loop skips it.
 */
#include "common.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
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
    "  --from SECONDS   keep events that end at or after this time\n"
    "  --to SECONDS     keep events that start at or before this time\n"
    "                   (times are the trace's clock in seconds, as cat prints them)\n";

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

static int parse_time(const char *arg, const char *what, int64_t *out) {
    double d;
    if (!dt_parse_double(arg, &d) || !isfinite(d) || fabs(d) > 9.2e9)
        return dt_usage("--%s wants a time in seconds, got '%s'", what, arg);
    *out = llround(d * 1e9);
    return 1;
}

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
    case DT_OPT_FROM:
        rc = parse_time(arg, "from", &f->from_ns);
        f->has_from = true;
        break;
    case DT_OPT_TO:
        rc = parse_time(arg, "to", &f->to_ns);
        f->has_to = true;
        break;
    default: return 0;
    }
    if (rc == 1 && f->has_from && f->has_to && f->from_ns > f->to_ns)
        return dt_usage("--from is after --to");
    return rc;
}

bool dt_filter_run_wanted(const dt_filter *f, size_t run) {
    for (size_t i = 0; i < f->n_runs; i++)
        if (f->runs[i] == run) return true;
    return f->n_runs == 0;
}

bool dt_filter_active(const dt_filter *f) {
    return f && (f->phases || f->n_names || f->n_pids || f->n_tids || f->has_from || f->has_to ||
                 f->n_runs);
}

void dt_filter_split(const dt_filter *f, dt_filter *before, dt_filter *after) {
    *before = *f;
    before->phases = 0;
    before->n_names = 0;
    before->has_from = before->has_to = false;
    *after = *f;
    after->n_pids = after->n_tids = after->n_runs = 0;
    after->has_from = after->has_to = false;
}

static bool name_matches(const dt_filter *f, const char *name) {
    for (size_t i = 0; i < f->n_names; i++)
        if (fnmatch(f->names[i], name ? name : "", 0) == 0) return true;
    return f->n_names == 0;
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
    return name_matches(f, ev->name);
}

/* Decimal text of v into buf (>= 21 bytes); snprintf costs ~10x more and
 * ids are formatted once per event by stats and the filters. */
static void u64_text(char *buf, uint64_t v, bool neg) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) *buf++ = '-';
    while (n)
        *buf++ = tmp[--n];
    *buf = 0;
}

const char *dt_id_text(const dasf_value *v, char *buf, size_t n) {
    switch (v->type) {
    case DASF_VAL_INT:
        if (n >= 24) {
            u64_text(buf, v->v.i < 0 ? -(uint64_t)v->v.i : (uint64_t)v->v.i, v->v.i < 0);
            break;
        }
        snprintf(buf, n, "%" PRId64, v->v.i);
        break;
    case DASF_VAL_UINT: snprintf(buf, n, "%" PRIu64, v->v.u); break;
    case DASF_VAL_STR: snprintf(buf, n, "%.*s", (int)v->v.str.len, v->v.str.ptr); break;
    case DASF_VAL_NIL: snprintf(buf, n, "null"); break;
    case DASF_VAL_BOOL: snprintf(buf, n, "%s", v->v.b ? "true" : "false"); break;
    case DASF_VAL_FLOAT: dt_format_double(buf, n, v->v.f); break;
    default: snprintf(buf, n, "?"); break;
    }
    return buf;
}
