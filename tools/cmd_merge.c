/*
 * cmd_merge.c — `dasf-trace merge -o OUT FILE...`: one archive from many
 * files (processes, hosts, runs).  The copying is copy.c's (shared with
 * `convert`): each source archive chunk becomes its own output chunk
 * carrying the source's writer metadata, so `info` on the result still
 * shows who wrote what.
 */
#include "args.h"
#include "copy.h"
#include "filter.h"
#include "input.h"
#include "messages.h"
#include "output.h"
#include "verbs.h"

#include <stdio.h>
#include <string.h>

static const char merge_help[] =
    "usage: dasf-trace merge -o OUT [--level N] [--force] [FILTERS] FILE...\n\n"
    "Writes one archive holding every event of the input files (either\n"
    "layout), in command-line order.  Each input chunk becomes an output\n"
    "chunk that keeps its writer metadata (pid, host, clock, drop count);\n"
    "events from legacy inputs are attributed to this process.\n\n"
    "  -o, --output OUT  the archive to write (must not exist, see --force)\n";

typedef struct merge_args {
    dt_copy_opts copy;
    const char *out;
} merge_args;

static int merge_option(void *ctx, int opt, const char *arg) {
    merge_args *a = ctx;
    if (opt == 'o') {
        a->out = arg;
        return 1;
    }
    return dt_copy_option(&a->copy, opt, arg);
}

int dt_cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"output", 1, NULL, 'o'},
                                         {"level", 1, NULL, DT_OPT_LEVEL},
                                         {"force", 0, NULL, DT_OPT_FORCE},
                                         DT_OUTPUT_LONGOPT,
                                         DT_FILTER_LONGOPTS,
                                         {0}};
    merge_args a = {{DASF_LAYOUT_ARCHIVE, 0, 0, false}, NULL};
    char help[2048];
    snprintf(help, sizeof help, "%s%s\n", merge_help, dt_copy_help);
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "o:", opts, help, &f, merge_option, &a, 1, &first);
    if (rc >= 0) return rc;
    if (!a.out) return dt_usage("no output file: give -o OUT");
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    int st = dt_copy(a.out, argv + first, argc - first, &f, &a.copy);
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    return st;
}
