/*
 * cmd_merge.c — `dasf-trace merge -o OUT FILE...`: one archive from many
 * files (processes, hosts, MPI ranks, runs), in time order.  The merge is
 * kmerge.c's streaming k-way merge (memory independent of the inputs'
 * size, kmerge.h); the output file is copy.c's (a temporary renamed into
 * place once whole).  Each output chunk keeps the writer metadata of the
 * source chunk its events came from, so `info` on the result still shows
 * who wrote what.
 */
#include "args.h"
#include "copy.h"
#include "filter.h"
#include "input.h"
#include "kmerge.h"
#include "messages.h"
#include "numbers.h"
#include "output.h"
#include "verbs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char merge_help[] =
    "usage: dasf-trace merge -o OUT [--window N] [--level N] [--force] [FILTERS] FILE...\n\n"
    "Writes one archive holding every event of the input files (either\n"
    "layout) in time order: by start on the aligned timeline (MPI ranks on\n"
    "rank 0's clock; --no-align: as recorded), reading the files side by side\n"
    "in bounded memory.  Output chunks keep the writer metadata (pid, host,\n"
    "clock, drop count) of the chunk their events came from; events from\n"
    "legacy inputs are attributed to this process.  Metadata events (names,\n"
    "clock samples) come first in each group of chunks.\n\n"
    "  -o, --output OUT  the archive to write (must not exist, see --force)\n"
    "  --window N        unwritten events held per input to put its\n"
    "                    overlapping chunks in order (default 16384, at least\n"
    "                    two chunks); events beyond it are written late and\n"
    "                    counted on stderr\n";

#define OPT_WINDOW (DT_OPT_VERB + 1)

typedef struct merge_args {
    dt_copy_opts copy;
    const char *out;
    size_t window;
} merge_args;

static int merge_option(void *ctx, int opt, const char *arg) {
    merge_args *a = ctx;
    if (opt == 'o') {
        a->out = arg;
        return 1;
    }
    if (opt == OPT_WINDOW) {
        long long v;
        if (!dt_parse_long(arg, 1, 1LL << 30, &v))
            return dt_usage("--window wants a number of events 1..2^30, got '%s'", arg);
        a->window = (size_t)v;
        return 1;
    }
    return dt_copy_option(&a->copy, opt, arg);
}

static int merge(const merge_args *a, char *const *files, int n, const dt_filter *f) {
    dt_copy_sink s;
    int rc = dt_copy_begin(&s, a->out, files, n, &a->copy);
    if (rc != DT_OK) return rc;
    /* A merge keeps the recorded function addresses (and their module
     * events): symbolization is for reading, not for rewriting a trace. */
    dt_filter raw = *f;
    raw.no_symbols = true;
    dt_kmerge_stats st;
    bool write_failed = false;
    int status = dt_kmerge(s.w, a->out, &s.self, files, n, &raw, a->window, &st, &write_failed);
    if (st.late && !write_failed) {
        char by[32];
        dt_format_duration(by, sizeof by, (double)st.max_late_ns);
        dt_err("%" PRIu64 " of %" PRIu64 " events are out of time order (by up to %s): their "
               "chunk starts before one read earlier from the same input (a span longer than a "
               "flush), or overlaps more than --window holds; they are in %s all the same",
               st.late, st.events, by, a->out);
    }
    return dt_copy_end(&s, status, write_failed);
}

int dt_cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"output", 1, NULL, 'o'},
                                         {"window", 1, NULL, OPT_WINDOW},
                                         {"level", 1, NULL, DT_OPT_LEVEL},
                                         {"force", 0, NULL, DT_OPT_FORCE},
                                         DT_OUTPUT_LONGOPT,
                                         DT_FILTER_LONGOPTS,
                                         {0}};
    merge_args a = {{DASF_LAYOUT_ARCHIVE, 0, 0, false}, NULL, 0};
    char help[2048];
    snprintf(help, sizeof help, "%s%s\n", merge_help, dt_copy_help);
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "o:", opts, help, &f, merge_option, &a, 1, &first);
    if (rc >= 0) return rc;
    if (!a.out) return dt_usage("no output file: give -o OUT");
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    int st = merge(&a, argv + first, argc - first, &f);
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    return st;
}
