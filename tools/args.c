/*
 * args.c — a verb's command line (args.h): getopt_long, --help, the
 * shared options handed to the filters and the output rules, the rest to
 * the verb.
 */
#include "args.h"

#include "filter.h"
#include "messages.h"
#include "output.h"

#include <stdio.h>

_Static_assert(DT_OPT_PHASE >= 0x100 && DT_OPT_NO_ALIGN < DT_OPT_FOLLOW_SYMLINKS &&
                   DT_OPT_FOLLOW_SYMLINKS < DT_OPT_VERB,
               "shared option codes lie in [0x100, DT_OPT_VERB)");

int dt_parse_args(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  const char *help, dt_filter *f, dt_opt_fn fn, void *ctx, int min_files,
                  int *first_file) {
    char optstring[64];
    snprintf(optstring, sizeof optstring, ":h%s", shortopts ? shortopts : "");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        const char *opt = argv[optind - 1];
        if (c == 'h') {
            printf("%s%s", help, f ? dt_filter_help : "");
            return dt_finish_stdout(DT_OK);
        }
        if (c == ':') return dt_usage("option '%s' needs a value", opt);
        if (c == '?') {
            if (optopt && optopt < 0x100) return dt_usage("unknown option '-%c'", optopt);
            return dt_usage("unknown option '%s'", opt);
        }
        if (c == DT_OPT_FOLLOW_SYMLINKS) { /* every verb that writes a file takes it */
            dt_follow_symlinks = true;
            continue;
        }
        int rc = f ? dt_filter_option(f, c, optarg) : 0;
        if (rc == 0 && fn) rc = fn(ctx, c, optarg);
        if (rc == DT_USAGE) return rc;
        if (rc == 0) return dt_usage("unknown option '%s'", opt);
    }
    if (argc - optind < min_files)
        return dt_usage(min_files == 1 ? "no trace file given" : "missing file arguments");
    *first_file = optind;
    return DT_ARGS_GO_ON;
}
