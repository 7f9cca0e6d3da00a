/*
 * cmd_stats.c — `dasf-trace stats`: the Python module's "function
 * bottleneck" analysis as a table.  Durations come from complete (X)
 * events and from B/E pairs, paired by spans.h (the one rule; B's left
 * open and E's without a B are counted and reported).  Per group: count,
 * total, self (exclusive) time, mean, p50, p95, max and share of the self
 * time.  Percentiles are exact (linear interpolation between closest
 * ranks, as numpy's default), from per-group arrays of integer nanoseconds
 * and quickselect (percentile.c).  This file is the verb: options, the
 * reading pass (again in exact mode when needed), the output; the
 * collecting is stats_model.c, the table stats_table.c.
 */
#include "align.h"
#include "args.h"
#include "filter.h"
#include "input.h"
#include "messages.h"
#include "numbers.h"
#include "spans.h"
#include "stats_model.h"
#include "stats_table.h"
#include "verbs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

    static const char stats_help[] =
        "usage: dasf-trace stats [OPTIONS] [FILTERS] FILE...\n\n"
        "Durations per event name, as DASF's function-bottleneck analysis:\n"
        "count, total (with the spans nested inside), self (total minus the\n"
        "nested spans' time), mean, p50, p95, max and share of the self time in\n"
        "the table's scope (nested time counts once; shares add up to 100%).\n"
        "Durations come from X events and from B/E pairs: an E closes the most\n"
        "recent open B of its thread; threads with B events and no E (the Python\n"
        "module writes its ends as B) are read as B/B pairs and said so;\n"
        "unmatched ones are reported.\n\n"
        "  --by KEY      name (default), thread, process or rank (MPI traces, from\n"
        "                their clock samples): one row per name and\n"
        "                thread (or process); share is then within that thread\n"
        "                (process), like DASF's per-thread table; the names\n"
        "                thread_name/process_name metadata gave are shown\n"
        "  --sort KEY    total (default), self, count, mean, p50, p95, max or name\n"
        "  --top N       only the first N rows (after sorting)\n"
        "  --csv         comma-separated values, times in seconds\n\n"
        "--from/--to select the spans that overlap the window (whole spans: a B/E\n"
        "pair crossing the window's edge counts in full).\n\n";

enum { OPT_BY = DT_OPT_VERB, OPT_SORT, OPT_TOP, OPT_CSV };

static int stats_option(void *vctx, int opt, const char *arg) {
    stats_ctx *c = vctx;
    static const char *sorts[] = {"total", "count", "mean", "p50", "p95", "max", "self", "name"};
    switch (opt) {
    case OPT_BY:
        if (!strcmp(arg, "name"))
            c->by = BY_NAME;
        else if (!strcmp(arg, "thread"))
            c->by = BY_THREAD;
        else if (!strcmp(arg, "process"))
            c->by = BY_PROCESS;
        else if (!strcmp(arg, "rank"))
            c->by = BY_RANK;
        else
            return dt_usage("--by wants name, thread, process or rank, got '%s'", arg);
        return 1;
    case OPT_SORT:
        for (int i = 0; i < 8; i++)
            if (!strcmp(arg, sorts[i])) {
                c->sort = i;
                return 1;
            }
        return dt_usage("--sort wants total, self, count, mean, p50, p95, max or name, got '%s'",
                        arg);
    case OPT_TOP:
        if (!dt_parse_long(arg, 1, 1LL << 40, &c->top))
            return dt_usage("--top wants a positive number, got '%s'", arg);
        return 1;
    case OPT_CSV: c->csv = true; return 1;
    default: return 0;
    }
}

int dt_cmd_stats(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"by", 1, NULL, OPT_BY},
                                         {"sort", 1, NULL, OPT_SORT},
                                         {"top", 1, NULL, OPT_TOP},
                                         {"csv", 0, NULL, OPT_CSV},
                                         DT_FILTER_LONGOPTS,
                                         {0}};
    stats_ctx c;
    memset(&c, 0, sizeof c);
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "", opts, stats_help, &f, stats_option, &c, 1, &first);
    if (rc >= 0) return rc;
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    /* B and E are paired before the window and the name filter apply, so a
     * span crossing --from or --to is counted whole instead of losing one
     * end, and --name never separates an E from its B. */
    c.has_from = f.has_from, c.has_to = f.has_to;
    c.from = f.from_ns, c.to = f.to_ns;
    dt_filter before;
    dt_filter_split(&f, &before, &c.after);
    c.pairs = dt_filter_wants_pairs(&c.after);
    c.filtering = dt_filter_active(&c.after);
    if (c.by == BY_RANK) {
        if (dt_align_create(&c.align, argv + first, argc - first)) return dt_oom();
        if (!c.align) {
            dt_err("--by rank: no MPI clock samples in these files (traces of "
                   "libdasf-profiler-mpi name each process's rank; docs/MPI.md)");
            return DT_FAIL;
        }
    }
    const stats_ctx options = c; /* the command line, for a second pass */
    int st;
    for (;;) {
        c.spans = dt_spans_new();
        if (!c.spans) return dt_oom();
        st = dt_each_event_runs(argv + first, argc - first, &before, dt_stats_event, NULL, &c,
                                &c.runs);
        if (st != ST_RESTART) break;
        /* spans out of end order or overlapping: read again, keeping them all */
        dt_stats_free(&c);
        c = options;
        c.exact = true;
    }
    dt_spans_finish(c.spans, NULL, NULL);
    if (dt_stats_self_times(&c)) {
        dt_stats_free(&c);
        return dt_oom();
    }
    dt_stats_finish(&c);
    size_t rows = c.n_groups;
    if (c.top && (size_t)c.top < rows) rows = (size_t)c.top;
    if (c.csv) {
        dt_stats_print_csv(&c, rows);
    } else if (c.n_groups == 0) {
        printf("no spans (X events or B/E pairs) in %" PRIu64 " events\n", c.events);
    } else {
        dt_stats_print_table(&c, rows);
        if (rows < c.n_groups) printf("(%zu more rows; see --top)\n", c.n_groups - rows);
        printf("\n%" PRIu64 " events; %" PRIu64 " spans: %" PRIu64 " X, %" PRIu64 " B/E pairs\n",
               c.events, c.n_x + c.n_pairs, c.n_x, c.n_pairs);
    }
    fflush(stdout);
    dt_spans_report(c.spans, c.csv ? stderr : stdout, c.csv ? "dasf-trace stats: " : "");
    dt_stats_report_runs(&c, c.csv ? stderr : stdout, c.csv ? "dasf-trace stats: " : "");
    fflush(stdout);
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    dt_align_free(c.align);
    dt_stats_free(&c);
    return dt_finish_stdout(st);
}
