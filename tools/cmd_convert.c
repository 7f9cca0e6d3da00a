/*
 * cmd_convert.c — `dasf-trace convert --to legacy|archive IN OUT`: rewrites
 * a trace in the other layout (legacy = the Python FileDatabase layout, so
 * the Python module reads our data; archive = compressed chunks).  Every
 * event, its args, ids and timestamps (to the nanosecond; legacy doubles
 * bit for bit when going legacy -> legacy) survive a round trip.  The copy
 * engine is copy.c (shared with merge).
 */
#include "args.h"
#include "copy.h"
#include "messages.h"
#include "verbs.h"

#include <stdio.h>
#include <string.h>

static const char convert_help[] =
    "usage: dasf-trace convert --to legacy|archive [OPTIONS] IN OUT\n\n"
    "Rewrites the trace IN (either layout) as OUT in the layout given by --to:\n"
    "  legacy   the Python FileDatabase layout (length-prefixed msgpack maps),\n"
    "           readable by dasf.profile.profiler\n"
    "  archive  the compressed chunk archive (a zstd stream); archive chunks\n"
    "           keep their writer metadata\n\n"
    "  --to LAYOUT       legacy or archive (required)\n"
    "  --byte-size N     legacy length prefix in bytes, 1..8 (default 8, as Python)\n";

int dt_cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, DT_COPY_LONGOPTS, {0}};
    dt_copy_opts a = {DASF_LAYOUT_EMPTY, 0, 0, false};
    char help[2048];
    snprintf(help, sizeof help, "%s%s", convert_help, dt_copy_help);
    int first;
    int rc = dt_parse_args(argc, argv, "", opts, help, NULL, dt_copy_option, &a, 2, &first);
    if (rc >= 0) return rc;
    if (a.layout == DASF_LAYOUT_EMPTY)
        return dt_usage("say which layout to write: --to legacy or --to archive");
    if (argc - first != 2) return dt_usage("convert takes exactly two files: IN OUT");
    if (a.layout == DASF_LAYOUT_LEGACY && a.level)
        return dt_usage("--level applies to archives; the legacy layout is not compressed");
    if (a.layout == DASF_LAYOUT_ARCHIVE && a.byte_size)
        return dt_usage("--byte-size applies to the legacy layout only");
    return dt_copy(argv[first + 1], argv + first, 1, NULL, &a);
}
